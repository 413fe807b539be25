// The linear probe's fused objective and its preconditioned L-BFGS: the loss
// and gradient against autograd's cross-entropy and finite differences, bits
// that do not depend on the thread count, and the preconditioner changing the
// path, not the optimum.
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <tbb/global_control.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "eval/logistic.hpp"
#include "infomax/autograd/var.hpp"
#include "infomax/ops/ops.hpp"
#include "infomax/tensor/random.hpp"

using namespace infomax;
using eval::detail::Logistic;

namespace {

// n rows of d strongly correlated features (a few shared factors plus noise,
// the way neighbouring conv features are): ill-conditioned like the probe's.
struct Problem {
    std::int64_t n, d;
    int classes;
    std::vector<float> x;
    std::vector<std::int64_t> y;
};
Problem correlated(std::int64_t n, std::int64_t d, int classes, std::uint64_t seed) {
    Problem p{n, d, classes, std::vector<float>(static_cast<std::size_t>(n * d)), {}};
    Rng rng(seed, "problem");
    const int factors = 4;
    std::vector<float> mix(static_cast<std::size_t>(factors * d));
    for (auto& v : mix) v = rng.normal();
    for (std::int64_t i = 0; i < n; ++i) {
        float f[factors];
        for (float& v : f) v = rng.normal();
        // The label depends on the factors, noisily: the optimum is interior.
        const float score = f[0] + 0.5f * f[1] + 0.7f * rng.normal();
        p.y.push_back(std::min<std::int64_t>(classes - 1, std::max<std::int64_t>(0, std::int64_t(score + classes / 2.0f))));
        for (std::int64_t j = 0; j < d; ++j) {
            float v = 0.1f * rng.normal();
            for (int k = 0; k < factors; ++k) v += f[k] * mix[k * d + j];
            p.x[i * d + j] = v;
        }
    }
    return p;
}

std::vector<double> random_theta(std::int64_t size, std::uint64_t seed) {
    Rng rng(seed, "theta");
    std::vector<double> t(static_cast<std::size_t>(size));
    for (auto& v : t) v = 0.05 * rng.normal();
    return t;
}

}  // namespace

TEST_CASE("the fused logistic objective matches autograd's cross-entropy and its own finite differences", "[eval]") {
    // d = 19: the kernels' 8-wide body and its tail; 37 rows: an odd last row
    // and blocks cut short; 7 classes: groups of 5 (logits) and 10 (gradient) cut short.
    const Problem p = correlated(37, 19, 7, 1);
    const double l2 = 0.01;
    Logistic f(p.x.data(), p.n, p.d, p.y.data(), p.classes, l2);
    const auto theta = random_theta(f.parameters(), 2);
    std::vector<double> grad;
    const double loss = f(theta, grad);

    // The same objective through autograd.
    std::vector<float> w(theta.begin(), theta.begin() + p.d * p.classes), b(theta.begin() + p.d * p.classes, theta.end());
    Var wv(Tensor::from({p.classes, p.d}, w), true), bv(Tensor::from({p.classes}, b), true);
    Var ce = ops::cross_entropy(ops::linear(Var(Tensor::from({p.n, p.d}, p.x)), wv, bv), p.y);
    ce.backward();
    double penalty = 0;
    for (std::size_t i = 0; i < w.size(); ++i) penalty += theta[i] * theta[i];
    CHECK(loss == Approx(ce.item() + 0.5 * l2 * penalty).epsilon(1e-5));
    const auto gw = wv.grad().to_vector(), gb = bv.grad().to_vector();
    for (std::size_t i = 0; i < gw.size(); ++i) CHECK(grad[i] == Approx(gw[i] + l2 * theta[i]).margin(1e-5));
    for (std::size_t k = 0; k < gb.size(); ++k) CHECK(grad[w.size() + k] == Approx(gb[k]).margin(1e-5));

    // Central differences on a few coordinates, weights and biases.
    for (std::size_t i : {std::size_t(0), std::size_t(18), std::size_t(19 * 6 + 3), theta.size() - 1}) {
        auto plus = theta, minus = theta;
        plus[i] += 1e-3, minus[i] -= 1e-3;
        std::vector<double> unused;
        const double numeric = (f(plus, unused) - f(minus, unused)) / 2e-3;
        CHECK(grad[i] == Approx(numeric).margin(2e-4));
    }
}

TEST_CASE("the fused logistic objective gives the same bits on 1 and 2 threads", "[eval]") {
    const Problem p = correlated(3000, 40, 5, 3);  // 16 partitions of 187-188 rows
    auto run = [&](int threads) {
        tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
        Logistic f(p.x.data(), p.n, p.d, p.y.data(), p.classes, 1e-3);
        std::vector<double> grad;
        const double loss = f(random_theta(f.parameters(), 4), grad);
        grad.push_back(loss);
        return grad;
    };
    const auto one = run(1), two = run(2);
    REQUIRE(one.size() == two.size());
    CHECK(std::memcmp(one.data(), two.data(), one.size() * sizeof(double)) == 0);
}

TEST_CASE("the preconditioner changes the path to the optimum, not the optimum", "[eval]") {
    const Problem p = correlated(2000, 64, 4, 5);
    const double l2 = 1.0 / 2000;  // scikit-learn's C = 1
    auto fit = [&](int rank) {
        Logistic f(p.x.data(), p.n, p.d, p.y.data(), p.classes, l2);
        std::vector<double> theta(static_cast<std::size_t>(f.parameters()), 0.0);
        std::vector<double> trace;
        const auto h0 = rank > 0 ? f.preconditioner(rank, 7) : std::function<void(std::vector<double>&)>{};
        const auto r = eval::detail::lbfgs(std::ref(f), theta, 5000, 1e-4,
                                           [&](int, double loss, double) { trace.push_back(loss); }, h0);
        return std::make_pair(r, f.correct(theta, p.x.data(), p.n, p.y.data()));
    };
    const auto [plain, plain_correct] = fit(0);
    const auto [low, low_correct] = fit(8);  // the factors' 4 directions and then some
    fmt::print("L-BFGS to max |gradient| < 1e-4: plain {} iterations (loss {:.8f}), preconditioned {} ({:.8f})\n",
               plain.iterations, plain.loss, low.iterations, low.loss);
    CHECK(plain.stopped == "gradient");
    CHECK(low.stopped == "gradient");
    CHECK(low.loss == Approx(plain.loss).epsilon(1e-5));
    CHECK(std::abs(low_correct - plain_correct) <= 2);  // the same classifier up to rows on the boundary
    CHECK(low.iterations * 2 < plain.iterations);
}

TEST_CASE("L-BFGS says when it stopped at max_iter and reports each iteration", "[eval]") {
    const Problem p = correlated(500, 32, 3, 6);
    Logistic f(p.x.data(), p.n, p.d, p.y.data(), p.classes, 1.0 / 500);
    std::vector<double> theta(static_cast<std::size_t>(f.parameters()), 0.0), losses;
    const auto r = eval::detail::lbfgs(std::ref(f), theta, 3, 1e-9, [&](int it, double loss, double) {
        CHECK(it == static_cast<int>(losses.size()) + 1);
        losses.push_back(loss);
    });
    CHECK(r.stopped == "max_iter");
    CHECK(r.iterations == 3);
    REQUIRE(losses.size() == 3);
    CHECK(losses[2] < losses[0]);
    CHECK(r.loss == losses[2]);
    CHECK(r.evaluations >= 4);
}
