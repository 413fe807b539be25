// Unary activations (oneDNN eltwise): closed-form values and gradients, on
// plain inputs and on the blocked layout a convolution produces.
#include <cmath>

#include "core/grad_check.hpp"
#include "infomax/ops/ops.hpp"

using namespace infomax;
using infomax::testing::check_gradient;
using infomax::testing::random_away_from_zero;
using infomax::testing::random_tensor;

namespace {

struct Unary {
    const char* name;
    Var (*op)(const Var&);
    double (*ref)(double);
    bool positive_only;  // log
    bool has_kink;       // relu, leaky relu at 0
};

Var leaky(const Var& x) { return ops::leaky_relu(x, 0.2f); }

const Unary kUnary[] = {
    {"relu", ops::relu, [](double x) { return x > 0 ? x : 0.0; }, false, true},
    {"leaky_relu", leaky, [](double x) { return x > 0 ? x : 0.2 * x; }, false, true},
    {"sigmoid", ops::sigmoid, [](double x) { return 1 / (1 + std::exp(-x)); }, false, false},
    {"tanh", ops::tanh, [](double x) { return std::tanh(x); }, false, false},
    {"softplus", ops::softplus, [](double x) { return std::log1p(std::exp(x)); }, false, false},
    {"log_sigmoid", ops::log_sigmoid, [](double x) { return -std::log1p(std::exp(-x)); }, false, false},
    {"exp", ops::exp, [](double x) { return std::exp(x); }, false, false},
    {"log", ops::log, [](double x) { return std::log(x); }, true, false},
};

Tensor inputs_for(const Unary& u, const Shape& s, Rng& rng) {
    if (u.positive_only) {
        Tensor t = random_tensor(s, rng);
        for (std::int64_t i = 0; i < t.numel(); ++i) t.data()[i] = 0.3f + std::abs(t.data()[i]);
        return t;
    }
    return u.has_kink ? random_away_from_zero(s, rng) : random_tensor(s, rng, 2.0f);
}

}  // namespace

TEST_CASE("unary activations match their closed forms", "[ops][eltwise]") {
    Rng rng(1);
    for (const auto& u : kUnary) {
        Tensor x = inputs_for(u, {3, 7}, rng);
        std::vector<float> y = u.op(Var(x)).value().to_vector();
        std::vector<float> xv = x.to_vector();
        for (std::size_t i = 0; i < xv.size(); ++i) {
            INFO(u.name << " at x = " << xv[i]);
            CHECK(y[i] == Approx(u.ref(xv[i])).epsilon(2e-5).margin(2e-6));  // oneDNN uses polynomial approximations
        }
    }
}

TEST_CASE("softplus and log_sigmoid are stable for large inputs", "[ops][eltwise]") {
    Tensor x = Tensor::from({4}, {-60.0f, -20.0f, 20.0f, 60.0f});
    auto sp = ops::softplus(Var(x)).value().to_vector();
    auto ls = ops::log_sigmoid(Var(x)).value().to_vector();
    CHECK(sp[0] == Approx(0.0).margin(1e-7));
    CHECK(sp[3] == Approx(60.0));
    CHECK(ls[0] == Approx(-60.0));
    CHECK(ls[3] == Approx(0.0).margin(1e-7));
    for (float v : sp) CHECK(std::isfinite(v));
    for (float v : ls) CHECK(std::isfinite(v));
}

TEST_CASE("unary activation gradients", "[ops][eltwise][grad]") {
    Rng rng(2);
    for (const auto& u : kUnary)
        for (const Shape& s : {Shape{1}, Shape{3, 5}, Shape{2, 3, 4, 5}, Shape{1, 7, 3, 3}}) {
            check_gradient(fmt::format("{} {}", u.name, to_string(s)),
                           [&](std::vector<Var>& in) { return u.op(in[0]); }, {inputs_for(u, s, rng)});
        }
}

TEST_CASE("unary activations on a blocked conv output keep its layout and differentiate", "[ops][eltwise][grad]") {
    Rng rng(3);
    Tensor x = random_tensor({2, 3, 6, 6}, rng);
    Tensor w = random_tensor({16, 3, 3, 3}, rng, 0.3f);
    Var conv = ops::conv2d(Var(x), Var(w), Var(), 1, 1);
    for (const auto& u : kUnary) {
        if (u.positive_only) continue;
        Var y = u.op(conv);
        CHECK(y.value().same_layout(conv.value()));
        check_gradient(fmt::format("{} after conv2d", u.name),
                       [&](std::vector<Var>& in) { return u.op(ops::conv2d(in[0], in[1], Var(), 1, 1)); },
                       {x, w}, {.eps = 1e-3, .rtol = 2e-2});
    }
}
