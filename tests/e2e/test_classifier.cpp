// End to end: a small convnet trained with Adam on a Fashion-MNIST subset
// reaches >= 85% on the full 10k test set. This is also the TensorFlow reference's
// "classifier without encoder" baseline.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <numeric>

#include "infomax/data/idx.hpp"
#include "infomax/nn/module.hpp"
#include "infomax/ops/ops.hpp"
#include "infomax/optim/optim.hpp"

using namespace infomax;

TEST_CASE("a convnet reaches 85% on Fashion-MNIST", "[e2e][classifier]") {
    const std::string dir = data::default_fashion_mnist_dir();
    const auto train = data::load_mnist_format(dir, "train");
    const auto test = data::load_mnist_format(dir, "test");
    REQUIRE(train.count == 60000);
    REQUIRE(test.count == 10000);

    Rng init(1, "init"), order(1, "data"), drop(1, "dropout");
    nn::Sequential net;
    net.emplace<nn::Conv2d>(1, 32, 3, init, 1, 1)
        .emplace<nn::Act>(nn::Activation::relu)
        .emplace<nn::MaxPool2d>(2)
        .emplace<nn::Conv2d>(32, 64, 3, init, 1, 1)
        .emplace<nn::BatchNorm>(64)
        .emplace<nn::Act>(nn::Activation::relu)
        .emplace<nn::MaxPool2d>(2)
        .emplace<nn::Flatten>()
        .emplace<nn::Linear>(64 * 7 * 7, 128, init)
        .emplace<nn::Act>(nn::Activation::relu)
        .emplace<nn::Dropout>(0.25f, drop)
        .emplace<nn::Linear>(128, 10, init);
    optim::Adam opt(net.parameter_vars(), {.lr = 1e-3f});

    const std::int64_t subset = 20000, batch = 128, epochs = 2;
    std::vector<std::int64_t> idx(subset);
    std::iota(idx.begin(), idx.end(), 0);
    const auto t0 = std::chrono::steady_clock::now();
    for (int e = 0; e < epochs; ++e) {
        for (std::int64_t i = subset - 1; i > 0; --i) std::swap(idx[i], idx[order.below(i + 1)]);
        for (std::int64_t s = 0; s + batch <= subset; s += batch) {
            std::vector<std::int64_t> b(idx.begin() + s, idx.begin() + s + batch);
            opt.zero_grad();
            Var loss = ops::cross_entropy(net(Var(train.batch(b))), train.batch_labels(b));
            loss.backward();
            opt.step();
        }
    }
    const double train_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    net.train(false);
    NoGradGuard ng;
    std::int64_t correct = 0;
    for (std::int64_t s = 0; s < test.count; s += 500) {
        std::vector<std::int64_t> b(std::min<std::int64_t>(500, test.count - s));
        std::iota(b.begin(), b.end(), s);
        auto logits = net(Var(test.batch(b))).value().to_vector();
        auto labels = test.batch_labels(b);
        for (std::size_t r = 0; r < b.size(); ++r) {
            auto row = logits.begin() + static_cast<std::ptrdiff_t>(r * 10);
            correct += std::max_element(row, row + 10) - row == labels[r];
        }
    }
    const double acc = double(correct) / double(test.count);
    fmt::print("Fashion-MNIST convnet: {} train images x {} epochs in {:.1f} s, test accuracy {:.2f}%\n", subset,
               epochs, train_s, 100 * acc);
    CHECK(acc >= 0.85);
}
