// The oneDNN layers: conv2d, linear, matmul, batch_norm, max_pool2d, and dropout.
// Values against direct loops; gradients for every input and parameter.
#include <cmath>

#include "core/grad_check.hpp"
#include "infomax/ops/ops.hpp"
#include "infomax/runtime/error.hpp"
#include "ops/batch_stats.hpp"

using namespace infomax;
using infomax::testing::check_gradient;
using infomax::testing::random_tensor;

namespace {

// Direct convolution, NCHW / OIHW.
std::vector<float> conv_ref(const Tensor& x, const Tensor& w, const Tensor* b, int s, int p) {
    const auto &xs = x.shape(), &ws = w.shape();
    const std::int64_t N = xs[0], C = xs[1], H = xs[2], W = xs[3], O = ws[0], K = ws[2], L = ws[3];
    const std::int64_t OH = (H + 2 * p - K) / s + 1, OW = (W + 2 * p - L) / s + 1;
    auto xv = x.to_vector(), wv = w.to_vector();
    std::vector<float> y(N * O * OH * OW);
    for (std::int64_t n = 0; n < N; ++n)
        for (std::int64_t o = 0; o < O; ++o)
            for (std::int64_t i = 0; i < OH; ++i)
                for (std::int64_t j = 0; j < OW; ++j) {
                    double acc = b ? b->to_vector()[o] : 0.0;
                    for (std::int64_t c = 0; c < C; ++c)
                        for (std::int64_t k = 0; k < K; ++k)
                            for (std::int64_t l = 0; l < L; ++l) {
                                const std::int64_t h = i * s - p + k, ww = j * s - p + l;
                                if (h < 0 || h >= H || ww < 0 || ww >= W) continue;
                                acc += double(xv[((n * C + c) * H + h) * W + ww]) * wv[((o * C + c) * K + k) * L + l];
                            }
                    y[((n * O + o) * OH + i) * OW + j] = static_cast<float>(acc);
                }
    return y;
}

void check_close(const std::vector<float>& a, const std::vector<float>& b, double tol = 1e-4) {
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        INFO("element " << i);
        CHECK(a[i] == Approx(b[i]).epsilon(tol).margin(tol));
    }
}

}  // namespace

TEST_CASE("conv2d matches a direct convolution", "[ops][conv]") {
    Rng rng(21);
    struct Case { Shape x, w; int s, p; bool bias; };
    for (const Case& c : {Case{{1, 1, 28, 28}, {32, 1, 6, 6}, 5, 0, true},   // the TensorFlow reference first layer
                          Case{{2, 3, 7, 9}, {5, 3, 3, 3}, 2, 1, true},
                          Case{{3, 4, 5, 5}, {1, 4, 1, 1}, 1, 0, false},
                          Case{{1, 3, 8, 8}, {16, 3, 4, 4}, 1, 0, true}}) {
        Tensor x = random_tensor(c.x, rng), w = random_tensor(c.w, rng, 0.3f), b = random_tensor({c.w[0]}, rng);
        Var y = ops::conv2d(Var(x), Var(w), c.bias ? Var(b) : Var(), c.s, c.p);
        check_close(y.value().to_vector(), conv_ref(x, w, c.bias ? &b : nullptr, c.s, c.p));
    }
}

TEST_CASE("conv2d gradients for input, weight and bias", "[ops][conv][grad]") {
    Rng rng(22);
    struct Case { Shape x, w; int s, p; };
    for (const Case& c : {Case{{1, 1, 9, 9}, {4, 1, 3, 3}, 2, 0}, Case{{2, 3, 5, 7}, {5, 3, 3, 3}, 1, 1},
                          Case{{3, 5, 4, 4}, {7, 5, 1, 1}, 1, 0}, Case{{1, 2, 11, 11}, {3, 2, 6, 6}, 5, 0}}) {
        check_gradient(fmt::format("conv2d x{} w{} s{} p{}", to_string(c.x), to_string(c.w), c.s, c.p),
                       [&](std::vector<Var>& in) { return ops::conv2d(in[0], in[1], in[2], c.s, c.p); },
                       {random_tensor(c.x, rng), random_tensor(c.w, rng, 0.3f), random_tensor({c.w[0]}, rng)},
                       {.rtol = 2e-2});
    }
}

TEST_CASE("conv2d skips the input gradient when the input needs none", "[ops][conv]") {
    Rng rng(23);
    Var x(random_tensor({2, 1, 8, 8}, rng), false), w(random_tensor({4, 1, 3, 3}, rng), true);
    Var y = ops::conv2d(x, w, Var(), 1, 0);
    ops::sum(y).backward();
    CHECK(w.grad().defined());
    CHECK_FALSE(x.grad().defined());
}

TEST_CASE("conv2d shape errors name the op and the shapes", "[ops][conv]") {
    Var x(Tensor::zeros({2, 3, 8, 8})), w(Tensor::zeros({4, 2, 3, 3}));
    CHECK_THROWS_WITH(ops::conv2d(x, w, Var()), "conv2d: input has 3 channels but weight [4, 2, 3, 3] expects 2");
    CHECK_THROWS_WITH(ops::conv2d(Var(Tensor::zeros({3, 8, 8})), w, Var()),
                      "conv2d: expected input (N, C, H, W) and weight (O, C, KH, KW), got [3, 8, 8] and [4, 2, 3, 3]");
    CHECK_THROWS_WITH(ops::conv2d(Var(Tensor::zeros({1, 2, 2, 2})), w, Var()),
                      "conv2d: kernel 3x3 is larger than the padded input 2x2 (input [1, 2, 2, 2])");
}

TEST_CASE("linear matches x W^T + b and differentiates", "[ops][linear][grad]") {
    Rng rng(24);
    Tensor x = random_tensor({3, 4}, rng), w = random_tensor({2, 4}, rng), b = random_tensor({2}, rng);
    auto y = ops::linear(Var(x), Var(w), Var(b)).value().to_vector();
    auto xv = x.to_vector(), wv = w.to_vector(), bv = b.to_vector();
    for (int n = 0; n < 3; ++n)
        for (int o = 0; o < 2; ++o) {
            double acc = bv[o];
            for (int i = 0; i < 4; ++i) acc += double(xv[n * 4 + i]) * wv[o * 4 + i];
            CHECK(y[n * 2 + o] == Approx(acc).epsilon(1e-5));
        }
    for (const auto& [n, i, o] : {std::tuple{1, 1, 1}, {1, 7, 3}, {5, 13, 9}, {64, 33, 17}})
        check_gradient(fmt::format("linear {}x{}->{}", n, i, o),
                       [](std::vector<Var>& in) { return ops::linear(in[0], in[1], in[2]); },
                       {random_tensor({n, i}, rng), random_tensor({o, i}, rng), random_tensor({o}, rng)});
    check_gradient("linear without bias", [](std::vector<Var>& in) { return ops::linear(in[0], in[1], Var()); },
                   {random_tensor({3, 5}, rng), random_tensor({2, 5}, rng)});
    CHECK_THROWS_WITH(ops::linear(Var(Tensor::zeros({2, 3, 4})), Var(Tensor::zeros({5, 12})), Var()),
                      "linear: expected input (N, I) and weight (O, I) with the same I, got [2, 3, 4] and [5, 12] "
                      "(flatten the input first)");
}

TEST_CASE("matmul: 2-d, batched and broadcast", "[ops][matmul][grad]") {
    Rng rng(25);
    Tensor a = Tensor::from({2, 3}, {1, 2, 3, 4, 5, 6}), b = Tensor::from({3, 2}, {1, 0, 0, 1, 1, 1});
    CHECK(ops::matmul(Var(a), Var(b)).value().to_vector() == std::vector<float>{4, 5, 10, 11});
    Tensor ba = random_tensor({4, 2, 3}, rng), bb = random_tensor({4, 3, 5}, rng);
    auto y = ops::matmul(Var(ba), Var(bb)).value().to_vector();
    auto av = ba.to_vector(), bv = bb.to_vector();
    for (int k = 0; k < 4; ++k)
        for (int i = 0; i < 2; ++i)
            for (int j = 0; j < 5; ++j) {
                double acc = 0;
                for (int l = 0; l < 3; ++l) acc += double(av[k * 6 + i * 3 + l]) * bv[k * 15 + l * 5 + j];
                CHECK(y[k * 10 + i * 5 + j] == Approx(acc).epsilon(1e-5));
            }
    for (const auto& [sa, sb] : std::vector<std::pair<Shape, Shape>>{{{1, 1}, {1, 1}},
                                                                     {{3, 4}, {4, 5}},
                                                                     {{2, 3, 4}, {2, 4, 5}},
                                                                     {{2, 3, 4}, {4, 5}},
                                                                     {{1, 3, 4}, {3, 4, 2}}})
        check_gradient("matmul " + to_string(sa) + " x " + to_string(sb),
                       [](std::vector<Var>& in) { return ops::matmul(in[0], in[1]); },
                       {random_tensor(sa, rng), random_tensor(sb, rng)});
    CHECK_THROWS_WITH(ops::matmul(Var(Tensor::zeros({2, 3})), Var(Tensor::zeros({4, 2}))),
                      "matmul: shapes [2, 3] and [4, 2] do not fit (..., M, K) x (..., K, N) with broadcast batch "
                      "dimensions");
}

TEST_CASE("batch_norm normalises with batch statistics and tracks running ones", "[ops][batchnorm]") {
    Rng rng(26);
    for (const Shape& s : {Shape{6, 3}, Shape{4, 3, 5, 5}}) {
        Tensor x = random_tensor(s, rng, 2.0f, 1.0f);
        Tensor g = random_tensor({3}, rng), b = random_tensor({3}, rng);
        Tensor rm = Tensor::zeros({3}), rv = Tensor::ones({3});
        auto y = ops::batch_norm(Var(x), Var(g), Var(b), rm, rv, true, 0.1f, 1e-5f).value().to_vector();
        const std::int64_t n = s[0], hw = s.size() == 4 ? s[2] * s[3] : 1;
        auto xv = x.to_vector();
        for (int c = 0; c < 3; ++c) {
            double mean = 0, var = 0;
            for (std::int64_t i = 0; i < n; ++i)
                for (std::int64_t p = 0; p < hw; ++p) mean += xv[(i * 3 + c) * hw + p];
            mean /= double(n * hw);
            for (std::int64_t i = 0; i < n; ++i)
                for (std::int64_t p = 0; p < hw; ++p) var += std::pow(xv[(i * 3 + c) * hw + p] - mean, 2);
            var /= double(n * hw);
            for (std::int64_t i = 0; i < n; ++i)
                for (std::int64_t p = 0; p < hw; ++p) {
                    const std::int64_t k = (i * 3 + c) * hw + p;
                    const double ref = (xv[k] - mean) / std::sqrt(var + 1e-5) * g.to_vector()[c] + b.to_vector()[c];
                    CHECK(y[k] == Approx(ref).epsilon(1e-4).margin(1e-4));
                }
            const double unbiased = var * double(n * hw) / double(n * hw - 1);
            CHECK(rm.to_vector()[c] == Approx(0.1 * mean).epsilon(1e-4));
            CHECK(rv.to_vector()[c] == Approx(0.9 + 0.1 * unbiased).epsilon(1e-4));
        }
        // Inference uses the running statistics.
        auto yi = ops::batch_norm(Var(x), Var(g), Var(b), rm, rv, false).value().to_vector();
        const float ref0 = (xv[0] - rm.to_vector()[0]) / std::sqrt(rv.to_vector()[0] + 1e-5f) * g.to_vector()[0] +
                           b.to_vector()[0];
        CHECK(yi[0] == Approx(ref0).epsilon(1e-4));
    }
    Tensor rm = Tensor::zeros({3}), rv = Tensor::ones({3});
    CHECK_THROWS_WITH(ops::batch_norm(Var(Tensor::zeros({1, 3})), Var(Tensor::ones({3})), Var(Tensor::zeros({3})), rm,
                                      rv, true),
                      "batch_norm: training needs more than one value per channel, got input [1, 3] (use a batch "
                      "larger than 1, or inference mode)");
    CHECK_THROWS_WITH(ops::batch_norm(Var(Tensor::zeros({2, 4})), Var(Tensor::ones({3})), Var(Tensor::zeros({3})), rm,
                                      rv, true),
                      "batch_norm: gamma has shape [3], expected [4] for input [2, 4]");
}

// Data-parallel training normalises with statistics summed over the ranks
// (ops/batch_stats.hpp); in a world of one that path must be the plain one.
TEST_CASE("batch_norm with global batch statistics equals batch_norm in a world of one", "[ops][batchnorm][grad]") {
    Rng rng(31);
    for (const Shape& s : {Shape{6, 5}, Shape{4, 3, 5, 5}}) {
        const Tensor x = random_tensor(s, rng, 2.0f, 1.0f), g = random_tensor({s[1]}, rng, 0.5f, 1.0f),
                     b = random_tensor({s[1]}, rng), dy = random_tensor(s, rng);
        std::vector<std::vector<float>> outs[2];
        std::vector<float> running[2];
        for (int global = 0; global < 2; ++global) {
            detail::GlobalBatchStats guard(global == 1);
            Var xv(x.clone(), true), gv(g.clone(), true), bv(b.clone(), true);
            Tensor rm = Tensor::zeros({s[1]}), rv = Tensor::ones({s[1]});
            Var y = ops::batch_norm(xv, gv, bv, rm, rv, true);
            y.backward(dy);
            outs[global] = {y.value().to_vector(), xv.grad().to_vector(), gv.grad().to_vector(), bv.grad().to_vector()};
            running[global] = rv.to_vector();
        }
        for (std::size_t k = 0; k < 4; ++k)
            for (std::size_t i = 0; i < outs[0][k].size(); ++i) CHECK(outs[1][k][i] == Approx(outs[0][k][i]).margin(1e-5));
        for (std::size_t i = 0; i < running[0].size(); ++i) CHECK(running[1][i] == Approx(running[0][i]).margin(1e-6));
        detail::GlobalBatchStats guard(true);
        check_gradient(fmt::format("batch_norm global statistics {}", to_string(s)),
                       [&](std::vector<Var>& in) {
                           Tensor m = Tensor::zeros({s[1]}), v = Tensor::ones({s[1]});
                           return ops::batch_norm(in[0], in[1], in[2], m, v, true);
                       },
                       {x, g, b}, {.rtol = 2e-2});
    }
}

TEST_CASE("batch_norm gradients, training and inference, 1-d and 2-d", "[ops][batchnorm][grad]") {
    Rng rng(27);
    for (bool training : {true, false})
        for (const Shape& s : {Shape{2, 3}, Shape{7, 5}, Shape{1, 3, 3, 3}, Shape{3, 4, 5, 3}}) {
            Tensor rm = random_tensor({s[1]}, rng, 0.1f), rv = random_tensor({s[1]}, rng, 0.1f, 1.0f);
            check_gradient(fmt::format("batch_norm training={} {}", training, to_string(s)),
                           [&](std::vector<Var>& in) {
                               Tensor m = rm.clone(), v = rv.clone();  // leave the reference stats unchanged
                               return ops::batch_norm(in[0], in[1], in[2], m, v, training);
                           },
                           {random_tensor(s, rng, 1.5f, 0.5f), random_tensor({s[1]}, rng, 0.5f, 1.0f),
                            random_tensor({s[1]}, rng)},
                           {.rtol = 2e-2});
        }
    // Blocked input from a convolution.
    check_gradient("batch_norm after conv2d",
                   [](std::vector<Var>& in) {
                       Tensor m = Tensor::zeros({16}), v = Tensor::ones({16});
                       return ops::batch_norm(ops::conv2d(in[0], in[1], Var(), 1, 0), in[2], in[3], m, v, true);
                   },
                   {random_tensor({2, 3, 5, 5}, rng), random_tensor({16, 3, 3, 3}, rng, 0.3f),
                    random_tensor({16}, rng, 0.5f, 1.0f), random_tensor({16}, rng)},
                   {.rtol = 3e-2});
}

TEST_CASE("max_pool2d picks the window maximum and routes the gradient there", "[ops][pool][grad]") {
    Tensor x = Tensor::from({1, 1, 4, 4}, {1, 5, 2, 0, 3, 4, 8, 1, 0, 0, 1, 2, 9, 0, 3, 7});
    CHECK(ops::max_pool2d(Var(x), 2).value().to_vector() == std::vector<float>{5, 8, 9, 7});
    CHECK(ops::max_pool2d(Var(x), 3, 1).value().to_vector() == std::vector<float>{8, 8, 9, 8});
    Rng rng(28);
    struct Case { Shape s; int k, st, p; };
    for (const Case& c : {Case{{1, 1, 4, 4}, 2, 2, 0}, Case{{2, 3, 5, 5}, 2, 2, 0}, Case{{2, 3, 7, 6}, 3, 2, 1},
                          Case{{1, 2, 5, 5}, 3, 1, 0}})
        check_gradient(fmt::format("max_pool2d {} k{} s{} p{}", to_string(c.s), c.k, c.st, c.p),
                       [&](std::vector<Var>& in) { return ops::max_pool2d(in[0], c.k, c.st, c.p); },
                       {random_tensor(c.s, rng)});
    check_gradient("max_pool2d after conv2d (blocked)",
                   [](std::vector<Var>& in) { return ops::max_pool2d(ops::conv2d(in[0], in[1], Var(), 1, 1), 2); },
                   {random_tensor({2, 3, 6, 6}, rng), random_tensor({16, 3, 3, 3}, rng, 0.3f)}, {.rtol = 2e-2});
}

TEST_CASE("dropout keeps 1-p of the elements, scaled, and is seeded", "[ops][dropout][grad]") {
    Rng rng(29);
    Tensor x = Tensor::ones({100, 100});
    Rng r1(5), r2(5);
    auto a = ops::dropout(Var(x), 0.3f, true, r1).value().to_vector();
    auto b = ops::dropout(Var(x), 0.3f, true, r2).value().to_vector();
    CHECK(a == b);
    int kept = 0;
    for (float v : a) {
        CHECK((v == 0.0f || v == Approx(1 / 0.7f)));
        kept += v != 0.0f;
    }
    CHECK(kept == Approx(7000).margin(250));
    Rng r3(5);
    CHECK(ops::dropout(Var(x), 0.3f, false, r3).value().to_vector() == x.to_vector());
    // Gradient with a fixed mask: re-seed the stream for every evaluation.
    for (const Shape& s : {Shape{1}, Shape{4, 9}})
        check_gradient("dropout " + to_string(s),
                       [](std::vector<Var>& in) {
                           Rng r(77);
                           return ops::dropout(in[0], 0.4f, true, r);
                       },
                       {random_tensor(s, rng)});
    CHECK_THROWS_WITH(ops::dropout(Var(x), 1.0f, true, r3), "dropout: p = 1 must be in [0, 1)");
}

TEST_CASE("cross_entropy is the mean negative log-likelihood", "[ops][loss][grad]") {
    Tensor logits = Tensor::from({2, 3}, {1, 2, 3, 0, 0, 0});
    const double l0 = -std::log(std::exp(3.0) / (std::exp(1.0) + std::exp(2.0) + std::exp(3.0)));
    const double l1 = std::log(3.0);
    CHECK(ops::cross_entropy(Var(logits), {2, 1}).item() == Approx((l0 + l1) / 2));
    Rng rng(30);
    for (std::int64_t axis : {0, 1})
        check_gradient(fmt::format("log_softmax axis {}", axis),
                       [axis](std::vector<Var>& in) { return ops::log_softmax(in[0], axis); },
                       {random_tensor({3, 4}, rng, 2.0f)});
    check_gradient("cross_entropy", [](std::vector<Var>& in) { return ops::cross_entropy(in[0], {0, 3, 3, 1, 2}); },
                   {random_tensor({5, 4}, rng)});
}
