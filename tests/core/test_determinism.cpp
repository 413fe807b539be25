// Same seed + same threads = the same bits; steady-state steps allocate nothing.
#include <cstring>

#include "core/grad_check.hpp"
#include "infomax/nn/module.hpp"
#include "infomax/ops/ops.hpp"
#include "infomax/optim/optim.hpp"
#include "infomax/runtime/threads.hpp"

using namespace infomax;

namespace {

// A small model touching every kind of layer, trained on seeded random data.
struct Trainer {
    explicit Trainer(std::uint64_t seed) : init(seed, "init"), data(seed, "data"), drop(seed, "dropout") {
        net.emplace<nn::Conv2d>(1, 8, 3, init, 1, 1)
            .emplace<nn::BatchNorm>(8)
            .emplace<nn::Act>(nn::Activation::relu)
            .emplace<nn::MaxPool2d>(2)
            .emplace<nn::Flatten>()
            .emplace<nn::Linear>(8 * 6 * 6, 16, init)
            .emplace<nn::Act>(nn::Activation::tanh)
            .emplace<nn::Dropout>(0.2f, drop)
            .emplace<nn::Linear>(16, 4, init);
        opt = std::make_unique<optim::Adam>(net.parameter_vars(), optim::AdamOptions{.lr = 1e-2f});
    }
    float step() {
        Tensor x = testing::random_tensor({16, 1, 12, 12}, data);
        std::vector<std::int64_t> y;
        for (int i = 0; i < 16; ++i) y.push_back(static_cast<std::int64_t>(data.below(4)));
        opt->zero_grad();
        Var loss = ops::cross_entropy(net(Var(x)), y);
        loss.backward();
        optim::clip_grad_norm(opt->params(), 5.0f);
        opt->step();
        return loss.item();
    }
    std::vector<float> snapshot() {
        std::vector<float> all;
        for (auto& p : net.parameters()) {
            auto v = p.var.value().to_vector();
            all.insert(all.end(), v.begin(), v.end());
        }
        for (auto& b : net.buffers()) {
            auto v = b.tensor->to_vector();
            all.insert(all.end(), v.begin(), v.end());
        }
        return all;
    }
    Rng init, data, drop;
    nn::Sequential net;
    std::unique_ptr<optim::Optimizer> opt;
};

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("same seed and threads give bitwise identical parameters", "[determinism]") {
    for (int threads : {1, 2}) {
        set_threads(threads);
        Trainer a(42), b(42), c(43);
        for (int i = 0; i < 25; ++i) {
            a.step();
            b.step();
            c.step();
        }
        INFO("threads " << threads);
        CHECK(same_bits(a.snapshot(), b.snapshot()));
        CHECK_FALSE(same_bits(a.snapshot(), c.snapshot()));
    }
    set_threads(0);
}

TEST_CASE("training lowers the loss of the small model", "[determinism]") {
    Trainer t(7);
    // Fixed batch: the model must fit it.
    Rng data(7, "fixed");
    Tensor x = testing::random_tensor({16, 1, 12, 12}, data);
    std::vector<std::int64_t> y;
    for (int i = 0; i < 16; ++i) y.push_back(i % 4);
    float first = 0, last = 0;
    for (int i = 0; i < 60; ++i) {
        t.opt->zero_grad();
        Var loss = ops::cross_entropy(t.net(Var(x)), y);
        loss.backward();
        t.opt->step();
        (i == 0 ? first : last) = loss.item();
    }
    CHECK(last < 0.5f * first);
}

TEST_CASE("steady-state training steps take no fresh buffers", "[memory]") {
    Trainer t(3);
    for (int i = 0; i < 3; ++i) t.step();  // warm-up: primitives and pool fill
    const auto before = memory_stats();
    for (int i = 0; i < 10; ++i) t.step();
    const auto after = memory_stats();
    CHECK(after.fresh_allocations == before.fresh_allocations);
    CHECK(after.reused > before.reused);
}

TEST_CASE("the pool serves a request from the smallest free buffer up to twice its size", "[memory]") {
    release_cached_memory();
    {
        Tensor big = Tensor::empty({1000, 1000});  // 4 MB, freed into the pool at the end of the scope
    }
    const auto s0 = memory_stats();
    {
        Tensor half = Tensor::empty({600, 1000});  // 2.4 MB: served by the 4 MB buffer
        const auto s1 = memory_stats();
        CHECK(s1.fresh_allocations == s0.fresh_allocations);
        CHECK(s1.reused == s0.reused + 1);
        CHECK(s1.bytes_in_use - s0.bytes_in_use == 4000000);  // the whole buffer is in use
    }
    {
        Tensor small = Tensor::empty({400, 1000});  // 1.6 MB: the free 4 MB buffer is over twice that: a new one
        CHECK(memory_stats().fresh_allocations == s0.fresh_allocations + 1);
    }
    release_cached_memory();
    CHECK(memory_stats().bytes_reserved == memory_stats().bytes_in_use);
}
