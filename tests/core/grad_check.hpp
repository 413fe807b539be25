// Gradient checker shared by every op test.
//
// For an op f and random fixed weights w of f's output shape, the objective is
// L = sum(w * f(inputs)), accumulated in double. Backprop gives dL/dx for every
// input at once; central differences of L give it element by element. Each
// checked element must agree within rtol * max(|analytic|, |numeric|, 1)
// (Caffe's tolerance). Points where f is not smooth inside the step (ReLU at 0,
// max-pool ties) are detected by their second difference and skipped; a check
// that skips too much fails instead of passing vacuously.
#pragma once

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "infomax/autograd/var.hpp"
#include "infomax/tensor/random.hpp"

namespace infomax::testing {

struct GradCheck {
    double eps = 1e-3;       // step (in f32 input units)
    double rtol = 1e-2;      // relative tolerance, floor 1
    int max_elems = 48;      // per input; a seeded sample when larger
    bool four_point = false; // 4-point stencil (smaller truncation error)
    double max_skipped = 0.25;
    std::uint64_t seed = 1234;
};

using OpFn = std::function<Var(std::vector<Var>&)>;

inline Tensor random_tensor(const Shape& s, Rng& rng, float scale = 1.0f, float offset = 0.0f) {
    Tensor t = Tensor::empty(s);
    for (std::int64_t i = 0; i < t.numel(); ++i) t.data()[i] = offset + scale * rng.normal();
    return t;
}

// Values with |x| >= margin (keeps ReLU-like kinks out of the step).
inline Tensor random_away_from_zero(const Shape& s, Rng& rng, float margin = 0.05f) {
    Tensor t = Tensor::empty(s);
    for (std::int64_t i = 0; i < t.numel(); ++i) {
        float v = rng.normal();
        t.data()[i] = v >= 0 ? v + margin : v - margin;
    }
    return t;
}

// Checks d(sum(w * fn(inputs)))/d(inputs[i]) for every i with check[i] (all by default).
inline void check_gradient(const std::string& what, const OpFn& fn, std::vector<Tensor> inputs,
                           GradCheck opt = {}, std::vector<bool> check = {}) {
    if (check.empty()) check.assign(inputs.size(), true);
    Rng rng(opt.seed, "gradcheck");
    std::vector<Var> vars;
    for (std::size_t i = 0; i < inputs.size(); ++i) vars.emplace_back(inputs[i].clone(), bool(check[i]));
    Var out = fn(vars);
    Tensor w = random_tensor(out.shape(), rng);
    const std::vector<float> wv = w.to_vector();
    REQUIRE(out.requires_grad());
    out.backward(w);

    auto objective = [&](const std::vector<Tensor>& xs) {
        std::vector<Var> vs;
        for (const auto& x : xs) vs.emplace_back(x, false);
        NoGradGuard ng;
        const std::vector<float> y = fn(vs).value().to_vector();
        double acc = 0;
        for (std::size_t k = 0; k < y.size(); ++k) acc += double(wv[k]) * double(y[k]);
        return acc;
    };
    const double base = objective(inputs);

    for (std::size_t i = 0; i < inputs.size(); ++i) {
        if (!check[i]) continue;
        const Tensor& g = vars[i].grad();
        const std::vector<float> analytic =
            g.defined() ? g.to_vector() : std::vector<float>(static_cast<std::size_t>(inputs[i].numel()), 0.0f);
        REQUIRE(static_cast<std::int64_t>(analytic.size()) == inputs[i].numel());
        std::vector<std::int64_t> idx;
        const std::int64_t n = inputs[i].numel();
        if (n <= opt.max_elems) {
            for (std::int64_t k = 0; k < n; ++k) idx.push_back(k);
        } else {
            idx = {0, n - 1};
            while (static_cast<int>(idx.size()) < opt.max_elems) idx.push_back(static_cast<std::int64_t>(rng.below(n)));
        }
        int skipped = 0;
        for (auto k : idx) {
            std::vector<Tensor> xs;
            for (const auto& t : inputs) xs.push_back(t.clone());
            float* p = xs[i].data();
            const float orig = p[k];
            auto at = [&](double step, double* actual) {
                p[k] = static_cast<float>(orig + step);
                *actual = double(p[k]) - double(orig);
                const double v = objective(xs);
                p[k] = orig;
                return v;
            };
            double hp, hm, hp2, hm2;
            const double lp = at(opt.eps, &hp), lm = at(-opt.eps, &hm);
            double numeric = (lp - lm) / (hp - hm);
            if (opt.four_point) {
                const double lp2 = at(2 * opt.eps, &hp2), lm2 = at(-2 * opt.eps, &hm2);
                numeric = (8 * (lp - lm) - (lp2 - lm2)) / (12 * opt.eps);
            }
            const double a = analytic[k];
            const double tol = opt.rtol * std::max({std::abs(a), std::abs(numeric), 1.0});
            // A kink inside the step shows as a second difference of order eps.
            if (std::abs(lp + lm - 2 * base) > 0.5 * tol * (hp - hm)) {
                ++skipped;
                continue;
            }
            INFO(fmt::format("{}: input {} (shape {}), element {}: analytic {:.6g}, numeric {:.6g}", what, i,
                             to_string(inputs[i].shape()), k, a, numeric));
            CHECK(std::abs(a - numeric) <= tol);
        }
        INFO(fmt::format("{}: input {}: {} of {} checked elements skipped as kinks", what, i, skipped, idx.size()));
        CHECK(skipped <= opt.max_skipped * static_cast<double>(idx.size()));
    }
}

}  // namespace infomax::testing
