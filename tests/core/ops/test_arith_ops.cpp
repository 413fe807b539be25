// Elementwise arithmetic with broadcasting, scalar ops, reductions, logsumexp.
#include <cmath>

#include "core/grad_check.hpp"
#include "infomax/ops/ops.hpp"
#include "infomax/runtime/error.hpp"
#include "infomax/runtime/threads.hpp"

using namespace infomax;
using infomax::testing::check_gradient;
using infomax::testing::random_tensor;

TEST_CASE("binary ops broadcast like NumPy", "[ops][arith]") {
    Tensor a = Tensor::from({2, 3}, {1, 2, 3, 4, 5, 6});
    Tensor b = Tensor::from({3}, {10, 20, 30});
    Tensor c = Tensor::from({2, 1}, {2, 4});
    CHECK(ops::add(Var(a), Var(b)).value().to_vector() == std::vector<float>{11, 22, 33, 14, 25, 36});
    CHECK(ops::sub(Var(a), Var(c)).value().to_vector() == std::vector<float>{-1, 0, 1, 0, 1, 2});
    CHECK(ops::mul(Var(c), Var(b)).value().to_vector() == std::vector<float>{20, 40, 60, 40, 80, 120});
    CHECK(ops::div(Var(a), Var(c)).value().to_vector() == std::vector<float>{0.5f, 1, 1.5f, 1, 1.25f, 1.5f});
    CHECK(ops::mul(Var(c), Var(b)).shape() == Shape{2, 3});
    CHECK_THROWS_WITH(ops::add(Var(Tensor::zeros({2, 3})), Var(Tensor::zeros({4}))),
                      "add: shapes [2, 3] and [4] do not broadcast (dimension 1: 3 vs 4)");
}

TEST_CASE("scalar ops", "[ops][arith]") {
    Var x(Tensor::from({3}, {1, 2, 4}));
    CHECK((x + 1.0f).value().to_vector() == std::vector<float>{2, 3, 5});
    CHECK((x * 3.0f).value().to_vector() == std::vector<float>{3, 6, 12});
    CHECK((1.0f - x).value().to_vector() == std::vector<float>{0, -1, -3});
    CHECK((8.0f / x).value().to_vector() == std::vector<float>{8, 4, 2});
    CHECK((x / 2.0f).value().to_vector() == std::vector<float>{0.5f, 1, 2});
    CHECK((-x).value().to_vector() == std::vector<float>{-1, -2, -4});
}

TEST_CASE("binary op gradients, every input, with broadcasting", "[ops][arith][grad]") {
    Rng rng(5);
    const std::vector<std::pair<Shape, Shape>> shapes{
        {{1}, {1}}, {{3, 5}, {3, 5}}, {{3, 5}, {5}}, {{2, 1, 4}, {3, 1}}, {{1, 3, 1, 1}, {2, 3, 5, 5}}, {{4, 3}, {}}};
    for (const auto& [sa, sb] : shapes) {
        const std::string s = to_string(sa) + " with " + to_string(sb);
        check_gradient("add " + s, [](std::vector<Var>& in) { return in[0] + in[1]; },
                       {random_tensor(sa, rng), random_tensor(sb, rng)});
        check_gradient("sub " + s, [](std::vector<Var>& in) { return in[0] - in[1]; },
                       {random_tensor(sa, rng), random_tensor(sb, rng)});
        check_gradient("mul " + s, [](std::vector<Var>& in) { return in[0] * in[1]; },
                       {random_tensor(sa, rng), random_tensor(sb, rng)});
        check_gradient("div " + s, [](std::vector<Var>& in) { return in[0] / in[1]; },
                       {random_tensor(sa, rng), random_tensor(sb, rng, 0.5f, 2.0f)});
    }
}

TEST_CASE("scalar op gradients", "[ops][arith][grad]") {
    Rng rng(6);
    for (const Shape& s : {Shape{1}, Shape{4, 3}, Shape{2, 3, 5}}) {
        check_gradient("add_scalar", [](std::vector<Var>& in) { return in[0] + 2.5f; }, {random_tensor(s, rng)});
        check_gradient("mul_scalar", [](std::vector<Var>& in) { return in[0] * -1.5f; }, {random_tensor(s, rng)});
        check_gradient("rsub_scalar", [](std::vector<Var>& in) { return 3.0f - in[0]; }, {random_tensor(s, rng)});
        check_gradient("rdiv_scalar", [](std::vector<Var>& in) { return 2.0f / in[0]; },
                       {random_tensor(s, rng, 0.3f, 2.0f)});
        check_gradient("neg", [](std::vector<Var>& in) { return -in[0]; }, {random_tensor(s, rng)});
    }
}

TEST_CASE("same-layout arithmetic on blocked tensors keeps the layout", "[ops][arith][grad]") {
    Rng rng(7);
    Tensor x = random_tensor({2, 3, 5, 5}, rng);
    Tensor w1 = random_tensor({16, 3, 3, 3}, rng, 0.3f), w2 = random_tensor({16, 3, 3, 3}, rng, 0.3f);
    Var a = ops::conv2d(Var(x), Var(w1), Var(), 1, 1), b = ops::conv2d(Var(x), Var(w2), Var(), 1, 1);
    REQUIRE(a.value().same_layout(b.value()));
    CHECK((a + b).value().same_layout(a.value()));
    CHECK((a * b).value().same_layout(a.value()));
    CHECK((a * 2.0f).value().same_layout(a.value()));
    CHECK((a / b).value().is_plain());  // division could break blocked zero padding
    check_gradient("mul of two conv outputs",
                   [](std::vector<Var>& in) {
                       return ops::conv2d(in[0], in[1], Var(), 1, 1) * ops::conv2d(in[0], in[2], Var(), 1, 1);
                   },
                   {x, w1, w2}, {.rtol = 2e-2});
}

TEST_CASE("sum and mean along axes", "[ops][reduce]") {
    Tensor t = Tensor::from({2, 3, 2}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
    CHECK(ops::sum(Var(t)).item() == 78.0f);
    CHECK(ops::sum(Var(t)).shape() == Shape{});
    CHECK(ops::mean(Var(t)).item() == 6.5f);
    CHECK(ops::sum(Var(t), {1}).value().to_vector() == std::vector<float>{9, 12, 27, 30});
    CHECK(ops::sum(Var(t), {0, 2}).value().to_vector() == std::vector<float>{18, 26, 34});
    CHECK(ops::sum(Var(t), {-1}, true).shape() == Shape{2, 3, 1});
    CHECK(ops::mean(Var(t), {0}).value().to_vector() == std::vector<float>{4, 5, 6, 7, 8, 9});
    CHECK_THROWS_WITH(ops::sum(Var(t), {3}), "sum: axis 3 out of range for a tensor of rank 3");
}

TEST_CASE("reduction gradients", "[ops][reduce][grad]") {
    Rng rng(8);
    for (const Shape& s : {Shape{1}, Shape{5}, Shape{3, 4}, Shape{2, 3, 4, 5}}) {
        const auto r = static_cast<std::int64_t>(s.size());
        check_gradient("sum all " + to_string(s), [](std::vector<Var>& in) { return ops::sum(in[0]); },
                       {random_tensor(s, rng)});
        check_gradient("mean all " + to_string(s), [](std::vector<Var>& in) { return ops::mean(in[0]); },
                       {random_tensor(s, rng)});
        for (std::int64_t a = 0; a < r; ++a) {
            check_gradient(fmt::format("sum axis {} {}", a, to_string(s)),
                           [a](std::vector<Var>& in) { return ops::sum(in[0], {a}); }, {random_tensor(s, rng)});
            check_gradient(fmt::format("mean axis {} keepdim {}", a, to_string(s)),
                           [a](std::vector<Var>& in) { return ops::mean(in[0], {a}, true); }, {random_tensor(s, rng)});
            check_gradient(fmt::format("logsumexp axis {} {}", a, to_string(s)),
                           [a](std::vector<Var>& in) { return ops::logsumexp(in[0], a); },
                           {random_tensor(s, rng, 3.0f)});
        }
        if (r == 4)
            check_gradient("sum axes 0,2,3", [](std::vector<Var>& in) { return ops::sum(in[0], {0, 2, 3}); },
                           {random_tensor(s, rng)});
    }
}

TEST_CASE("logsumexp values, stable for large inputs", "[ops][reduce]") {
    Tensor t = Tensor::from({2, 3}, {1, 2, 3, 1000, 1000, 1000});
    auto v = ops::logsumexp(Var(t), 1).value().to_vector();
    CHECK(v[0] == Approx(std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0))));
    CHECK(v[1] == Approx(1000 + std::log(3.0)));
    auto lsm = ops::log_softmax(Var(t), 1).value().to_vector();
    // x - lse at |x| = 1000: f32 spacing there is 6e-5, so that is the accuracy.
    CHECK(lsm[5] == Approx(-std::log(3.0)).margin(1.5e-4));
    CHECK(lsm[0] == Approx(1 - v[0]).epsilon(1e-6));
}

TEST_CASE("reductions give the same bits for any thread count", "[ops][reduce][determinism]") {
    Rng rng(9);
    Tensor big = random_tensor({300, 1000}, rng);
    set_threads(1);
    const float s1 = ops::sum(Var(big)).item();
    const auto c1 = ops::sum(Var(big), {0}).value().to_vector();
    set_threads(2);
    const float s2 = ops::sum(Var(big)).item();
    const auto c2 = ops::sum(Var(big), {0}).value().to_vector();
    set_threads(0);
    CHECK(s1 == s2);
    CHECK(c1 == c2);
    double ref = 0;
    for (float v : big.to_vector()) ref += v;
    CHECK(s1 == Approx(ref).epsilon(1e-6));
}
