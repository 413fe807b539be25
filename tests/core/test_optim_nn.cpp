// Optimizers against hand-computed updates; modules and initialisation.
#include <cmath>

#include "core/grad_check.hpp"
#include "infomax/nn/module.hpp"
#include "infomax/ops/ops.hpp"
#include "infomax/optim/optim.hpp"
#include "infomax/runtime/error.hpp"

using namespace infomax;

TEST_CASE("Adam matches the bias-corrected update", "[optim]") {
    Var p(Tensor::from({2}, {1.0f, -2.0f}), true);
    optim::Adam adam({p}, {.lr = 0.1f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f});
    double m[2] = {0, 0}, v[2] = {0, 0}, w[2] = {1, -2};
    for (int t = 1; t <= 3; ++t) {
        adam.zero_grad();
        ops::sum(p * p).backward();  // g = 2p
        adam.step();
        for (int i = 0; i < 2; ++i) {
            const double g = 2 * w[i];
            m[i] = 0.9 * m[i] + 0.1 * g;
            v[i] = 0.999 * v[i] + 0.001 * g * g;
            const double mh = m[i] / (1 - std::pow(0.9, t)), vh = v[i] / (1 - std::pow(0.999, t));
            w[i] -= 0.1 * mh / (std::sqrt(vh) + 1e-8);
        }
        auto pv = p.value().to_vector();
        CHECK(pv[0] == Approx(w[0]).epsilon(1e-5));
        CHECK(pv[1] == Approx(w[1]).epsilon(1e-5));
    }
    CHECK(adam.steps() == 3);
}

TEST_CASE("Adam weight decay: L2 and decoupled", "[optim]") {
    Var a(Tensor::from({1}, {1.0f}), true), b(Tensor::from({1}, {1.0f}), true);
    optim::Adam l2({a}, {.lr = 0.1f, .weight_decay = 0.5f});
    optim::Adam dec({b}, {.lr = 0.1f, .weight_decay = 0.5f, .decoupled_weight_decay = true});
    a.add_grad(Tensor::from({1}, {0.0f}));
    b.add_grad(Tensor::from({1}, {0.0f}));
    l2.step();
    dec.step();
    // L2: g = 0.5, first Adam step moves by lr (sign of g).
    CHECK(a.value().item() == Approx(0.9f).epsilon(1e-5));
    // Decoupled: w *= 1 - lr*wd, gradient 0 gives no Adam move.
    CHECK(b.value().item() == Approx(0.95f).epsilon(1e-5));
}

TEST_CASE("SGD with momentum and Nesterov", "[optim]") {
    Var p(Tensor::from({1}, {1.0f}), true);
    optim::Sgd sgd({p}, {.lr = 0.1f, .momentum = 0.9f});
    double w = 1, buf = 0;
    for (int t = 0; t < 3; ++t) {
        sgd.zero_grad();
        ops::sum(p * p).backward();
        sgd.step();
        const double g = 2 * w;
        buf = t == 0 ? g : 0.9 * buf + g;
        w -= 0.1 * buf;
        CHECK(p.value().item() == Approx(w).epsilon(1e-5));
    }
    Var q(Tensor::from({1}, {1.0f}), true);
    optim::Sgd nes({q}, {.lr = 0.1f, .momentum = 0.9f, .nesterov = true});
    ops::sum(q * q).backward();
    nes.step();  // buf = g = 2; update g + 0.9 buf = 3.8
    CHECK(q.value().item() == Approx(1 - 0.38).epsilon(1e-5));
}

TEST_CASE("clip_grad_norm scales to the global norm", "[optim]") {
    Var a(Tensor::from({2}, {0, 0}), true), b(Tensor::from({1}, {0}), true);
    a.add_grad(Tensor::from({2}, {3, 0}));
    b.add_grad(Tensor::from({1}, {4}));
    CHECK(optim::clip_grad_norm({a, b}, 1.0f) == Approx(5.0f));
    CHECK(a.grad().to_vector()[0] == Approx(0.6f).epsilon(1e-5));
    CHECK(b.grad().to_vector()[0] == Approx(0.8f).epsilon(1e-5));
    CHECK(optim::clip_grad_norm({a, b}, 10.0f) == Approx(1.0f).epsilon(1e-5));  // under the limit: unchanged
    CHECK(b.grad().to_vector()[0] == Approx(0.8f).epsilon(1e-5));
}

TEST_CASE("initialisers draw from their documented bounds", "[nn][init]") {
    Rng rng(3);
    nn::Linear pt(100, 50, rng, true, nn::Init::pytorch_default);
    nn::Linear gl(100, 50, rng, true, nn::Init::glorot_uniform);
    const float pt_bound = 1.0f / std::sqrt(100.0f), gl_bound = std::sqrt(6.0f / 150.0f);
    float pt_max = 0, gl_max = 0;
    for (float v : pt.weight.value().to_vector()) pt_max = std::max(pt_max, std::abs(v));
    for (float v : gl.weight.value().to_vector()) gl_max = std::max(gl_max, std::abs(v));
    CHECK(pt_max <= pt_bound);
    CHECK(pt_max > 0.95f * pt_bound);
    CHECK(gl_max <= gl_bound);
    CHECK(gl_max > 0.95f * gl_bound);
    for (float v : gl.bias.value().to_vector()) CHECK(v == 0.0f);
    CHECK(nn::parse_init("glorot_uniform") == nn::Init::glorot_uniform);
    CHECK_THROWS_WITH(nn::parse_init("xavier"), "unknown init 'xavier' (known: glorot_uniform, pytorch_default)");
}

TEST_CASE("modules name their parameters and buffers", "[nn]") {
    Rng rng(4);
    nn::Sequential net;
    net.emplace<nn::Conv2d>(1, 4, 3, rng).emplace<nn::BatchNorm>(4).emplace<nn::Act>(nn::Activation::relu);
    net.emplace<nn::Flatten>().emplace<nn::Linear>(4 * 6 * 6, 10, rng);
    std::vector<std::string> names;
    for (auto& p : net.parameters()) names.push_back(p.name);
    CHECK(names == std::vector<std::string>{"0.weight", "0.bias", "1.gamma", "1.beta", "4.weight", "4.bias"});
    CHECK(net.buffers().size() == 2);
    CHECK(net.buffers()[0].name == "1.running_mean");
    CHECK(net.describe() == "sequential(conv2d(1->4, kernel 3, stride 1, padding 0), batch_norm(4), relu, flatten, "
                            "linear(144->10))");
    Var y = net(Var(Tensor::zeros({2, 1, 8, 8})));
    CHECK(y.shape() == Shape{2, 10});
    net.train(false);
    CHECK_FALSE(net.child(1)->training());
}

TEST_CASE("the optimizer rejects what it cannot update", "[optim]") {
    Var c(Tensor::zeros({1}), false);
    CHECK_THROWS_WITH(optim::Adam({c}), "optimizer: every parameter must be a leaf Var that requires grad");
}
