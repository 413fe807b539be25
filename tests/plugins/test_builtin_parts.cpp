// The built-in parts: estimator values against hand-computed ones on fixed
// score matrices, their gradients against finite differences and their values
// at the optimal critic against closed forms, negative sampling, discriminator
// and encoder shapes.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>

#include "config/document.hpp"
#include "core/grad_check.hpp"
#include "experiment/load_spec.hpp"
#include "infomax/ops/ops.hpp"
#include "infomax/optim/optim.hpp"
#include "infomax/plugin/registry.hpp"
#include "sdk/support.hpp"

using namespace infomax;
using infomax::test::Parts;

namespace {

double sp(double x) { return std::log1p(std::exp(x)); }

const std::vector<float> kPos{1.0f, -0.5f, 2.0f, 0.25f};   // (2, 2)
const std::vector<float> kNeg{-1.0f, 0.5f, 0.0f, -2.0f, 1.5f, 0.3f};  // (2, 3)

Scores fixed_scores() { return {Var(Tensor::from({2, 2}, kPos)), Var(Tensor::from({2, 3}, kNeg))}; }

}  // namespace

TEST_CASE("estimators match hand-computed bounds", "[plugin][estimator]") {
    Parts parts;
    BuildContext ctx;
    double mean_pos = 0, mean_exp_neg = 0, jsd_p = 0, jsd_n = 0, nwj_n = 0;
    for (float p : kPos) {
        mean_pos += p / 4.0;
        jsd_p += -sp(-p) / 4.0;
    }
    for (float n : kNeg) {
        mean_exp_neg += std::exp(n) / 6.0;
        jsd_n += sp(n) / 6.0;
        nwj_n += std::exp(n - 1.0) / 6.0;
    }
    CHECK(parts.make<Estimator>("estimator", "type: jsd", ctx)->bound(fixed_scores()).value.item() ==
          Approx(jsd_p - jsd_n).epsilon(1e-5));
    CHECK(parts.make<Estimator>("estimator", "type: dv", ctx)->bound(fixed_scores()).value.item() ==
          Approx(mean_pos - std::log(mean_exp_neg)).epsilon(1e-5));
    CHECK(parts.make<Estimator>("estimator", "type: nwj", ctx)->bound(fixed_scores()).value.item() ==
          Approx(mean_pos - nwj_n).epsilon(1e-5));
    // InfoNCE: each positive of row i against row i's 3 negatives, + log 4.
    double nce = 0;
    for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j) {
            const double p = kPos[i * 2 + j];
            double denom = std::exp(p);
            for (int k = 0; k < 3; ++k) denom += std::exp(double(kNeg[i * 3 + k]));
            nce += (p - std::log(denom)) / 4.0;
        }
    auto infonce = parts.make<Estimator>("estimator", "type: infonce", ctx);
    CHECK(infonce->bound(fixed_scores()).value.item() == Approx(nce + std::log(4.0)).epsilon(1e-5));
    CHECK(infonce->default_negatives() == "all");
    CHECK(infonce->quantity() == "mi_infonce");
}

TEST_CASE("InfoNCE and I_alpha never exceed the ceilings they declare", "[plugin][estimator]") {
    Parts parts;
    BuildContext ctx;
    auto e = parts.make<Estimator>("estimator", "type: infonce", ctx);
    Scores s{Var(Tensor::full({4, 1}, 50.0f)), Var(Tensor::full({4, 63}, -50.0f))};
    const float v = e->bound(s).value.item();
    CHECK(e->ceiling(63) == Approx(std::log(64.0)));
    CHECK(v <= std::log(64.0f) + 1e-5f);
    CHECK(v == Approx(std::log(64.0)).epsilon(1e-5));
    // I_alpha: 1 + log(K / alpha), log K at alpha 1, none at 0 (TUBA); unbounded bounds declare none.
    CHECK(std::isinf(parts.make<Estimator>("estimator", "type: nwj", ctx)->ceiling(63)));
    CHECK(std::isinf(parts.make<Estimator>("estimator", "{type: interpolated, alpha: 0}", ctx)->ceiling(63)));
    Rng rng(8);
    for (const char* spec : {"{type: interpolated, alpha: 1}", "{type: interpolated, alpha: 0.5, log_baseline: -3}",
                             "{type: interpolated, alpha: 0.05, log_baseline: -20}"}) {
        auto i = parts.make<Estimator>("estimator", spec, ctx);
        const double top = i->ceiling(63);
        CHECK(std::isfinite(top));
        // A critic that tells every pair apart: the positive far above its negatives.
        const double best = i->bound(s).value.item();
        INFO(spec << ": " << best << " against " << top);
        CHECK(best <= top + 1e-4);
        CHECK(best > top - 1.1);  // and near it (the marginal term is what is left)
        for (int t = 0; t < 20; ++t) {  // wild random critics stay below too
            const Scores r{Var(testing::random_tensor({4, 1}, rng, 20.0f)), Var(testing::random_tensor({4, 63}, rng, 20.0f))};
            CHECK(i->bound(r).value.item() <= top + 1e-4);
        }
    }
}

TEST_CASE("losses are minus the bounds, and DV's corrected gradient uses the moving average", "[plugin][estimator]") {
    Parts parts;
    BuildContext ctx;
    for (const char* t : {"type: jsd", "type: nwj", "type: infonce", "type: dv"}) {
        auto b = parts.make<Estimator>("estimator", t, ctx)->bound(fixed_scores());
        CHECK(b.loss.item() == Approx(-b.value.item()).epsilon(1e-5));
    }
    auto dv = parts.make<Estimator>("estimator", "{type: dv, ema_decay: 0.5}", ctx);
    Var neg(Tensor::from({2, 3}, kNeg), true);
    auto b = dv->bound({Var(Tensor::from({2, 2}, kPos)), neg});
    b.loss.backward();
    // First batch: ema = batch mean of e^T, so d loss / d n_k = e^{n_k} / (6 * mean e^T).
    double mean_exp = 0;
    for (float n : kNeg) mean_exp += std::exp(n) / 6.0;
    CHECK(neg.grad().to_vector()[0] == Approx(std::exp(-1.0) / (6 * mean_exp)).epsilon(1e-4));
}

TEST_CASE("negative sampling: roll, permutation, shuffled locations, all pairs", "[plugin][negatives]") {
    Parts parts;
    BuildContext ctx{nullptr, nn::Init::pytorch_default, {}, {3}, {2}};
    Rng init(1), rng(2);
    ctx.rng = &init;
    auto sep = parts.make<Discriminator>("discriminator", "{type: separable, critic_layers: [8], embed_dim: 4}", ctx);
    Var x(Tensor::from({4, 3}, {1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1}));
    Var z(Tensor::from({4, 2}, {1, 2, 3, 4, 5, 6, 7, 8}));
    Scores roll = make_scores(*sep, x, z, "roll", rng);
    CHECK(roll.pos.shape() == Shape{4, 1});
    CHECK(roll.neg.shape() == Shape{4, 1});
    // roll pairs x_{i-1} with z_i
    CHECK(roll.neg.value().to_vector()[1] == Approx(sep->pairs(ops::index_select(x, 0, {0}), ops::index_select(z, 0, {1})).item()));
    Scores all = make_scores(*sep, x, z, "all", rng);
    CHECK(all.pos.shape() == Shape{4, 1});
    CHECK(all.neg.shape() == Shape{4, 3});
    const auto ap = all.pos.value().to_vector(), rp = roll.pos.value().to_vector();
    for (std::size_t i = 0; i < ap.size(); ++i) CHECK(ap[i] == Approx(rp[i]).epsilon(1e-5));  // matmul vs elementwise
    // all_pairs (one matrix product) equals the default tiled version
    Var fast = sep->all_pairs(x, z);
    Var slow = sep->Discriminator::all_pairs(x, z);
    auto fv = fast.value().to_vector(), sv = slow.value().to_vector();
    REQUIRE(fv.size() == sv.size());
    for (std::size_t i = 0; i < fv.size(); ++i) CHECK(fv[i] == Approx(sv[i]).epsilon(1e-4).margin(1e-5));
    Scores perm = make_scores(*sep, x, z, "permutation", rng);
    CHECK(perm.neg.shape() == Shape{4, 1});
    CHECK_THROWS_WITH(make_scores(*sep, x, z, "shuffle_locations", rng),
                      "shuffle_locations needs a local feature map (N, C, H, W), got [4, 3]");
    CHECK_THROWS_WITH(make_scores(*sep, x, z, "rol", rng),
                      "unknown negative sampling 'rol' (known: all, permutation, roll, shuffle_locations)");
}

TEST_CASE("local discriminators score every location, and shuffled locations keep the shape", "[plugin][discriminator]") {
    Parts parts;
    Rng init(3), rng(4);
    BuildContext ctx{&init, nn::Init::pytorch_default, {}, {6, 3, 3}, {5}};
    Rng data(5);
    Tensor mt = Tensor::empty({4, 6, 3, 3});
    for (std::int64_t i = 0; i < mt.numel(); ++i) mt.data()[i] = data.normal();
    Var m(mt), y(Tensor::full({4, 5}, 0.5f));
    for (const char* t : {"{type: local_concat_conv, hidden: [8]}", "{type: local_dot, hidden: [8], embed: 4}"}) {
        auto d = parts.make<Discriminator>("discriminator", t, ctx);
        CHECK(d->pairs(m, y).shape() == Shape{4, 9});
        CHECK(make_scores(*d, m, y, "shuffle_locations", rng).neg.shape() == Shape{4, 9});
        Scores all = make_scores(*d, m, y, "all", rng);
        CHECK(all.neg.shape() == Shape{4, 27});
        auto fast = d->all_pairs(m, y).value().to_vector();
        auto slow = d->Discriminator::all_pairs(m, y).value().to_vector();
        for (std::size_t i = 0; i < fast.size(); ++i) CHECK(fast[i] == Approx(slow[i]).epsilon(1e-4).margin(1e-5));
    }
    auto g = parts.make<Discriminator>("discriminator", "{type: global_concat, hidden: [8], convs: [{out: 4, kernel: 2}]}", ctx);
    CHECK(g->pairs(m, y).shape() == Shape{4, 1});
    CHECK(g->parameters().size() == 2 + 4);  // one conv, two linears
    auto pr = parts.make<Discriminator>("discriminator", "{type: prior_mlp, hidden: [8, 4], batch_norm: true}", ctx);
    CHECK(pr->score(y).shape() == Shape{4, 1});
    CHECK_THROWS_WITH(pr->pairs(m, y), "prior_mlp scores single inputs (a prior discriminator), not pairs");
}

TEST_CASE("encoder presets give their references' shapes and inits", "[plugin][encoder]") {
    Parts parts;
    Rng init(6);
    BuildContext ctx{&init, nn::Init::pytorch_default, {}, {}, {}};
    auto s000 = parts.make<Encoder>("encoder", "type: small_conv28", ctx);
    Features f = s000->encode(Var(Tensor::zeros({2, 1, 28, 28})));
    CHECK(f.local.shape() == Shape{2, 256, 5, 5});
    CHECK(f.global.shape() == Shape{2, 32});
    for (auto& p : s000->parameters())
        if (p.name.ends_with("bias")) CHECK(p.var.value().to_vector()[0] == 0.0f);  // Glorot + zero biases
    auto s002 = parts.make<Encoder>("encoder", "type: bn_conv32", ctx);
    f = s002->encode(Var(Tensor::zeros({2, 3, 32, 32})));
    CHECK(f.local.shape() == Shape{2, 128, 26, 26});
    CHECK(f.global.shape() == Shape{2, 64});
    auto dc = parts.make<Encoder>("encoder", "type: dcgan32", ctx);
    f = dc->encode(Var(Tensor::zeros({2, 3, 32, 32})));
    CHECK(f.local.shape() == Shape{2, 128, 8, 8});
    CHECK(f.global.shape() == Shape{2, 64});
    CHECK_THROWS_WITH(s000->encode(Var(Tensor::zeros({2, 3, 32, 32}))),
                      "encoder: expected input (N, 1, 28, 28), got [2, 3, 32, 32]");
    // The former names build the same encoders from the same stream: older specs and runs load and reproduce.
    for (auto [now, before] : {std::pair{"small_conv28", "seed000"}, {"bn_conv32", "seed002"}}) {
        Rng a(9), b(9);
        BuildContext ca{&a, nn::Init::pytorch_default, {}, {}, {}}, cb{&b, nn::Init::pytorch_default, {}, {}, {}};
        auto e1 = parts.make<Encoder>("encoder", std::string("type: ") + now, ca);
        auto e2 = parts.make<Encoder>("encoder", std::string("type: ") + before, cb);
        const auto p1 = e1->parameters(), p2 = e2->parameters();
        REQUIRE(p1.size() == p2.size());
        for (std::size_t i = 0; i < p1.size(); ++i) {
            CHECK(p1[i].name == p2[i].name);
            CHECK(p1[i].var.value().to_vector() == p2[i].var.value().to_vector());
        }
    }
}

TEST_CASE("priors sample their distribution", "[plugin][prior]") {
    Parts parts;
    BuildContext ctx;
    Rng rng(7);
    auto u = parts.make<Prior>("prior", "type: uniform", ctx);
    auto s = u->sample({1000, 2}, rng).to_vector();
    CHECK(*std::min_element(s.begin(), s.end()) >= 0.0f);
    CHECK(*std::max_element(s.begin(), s.end()) < 1.0f);
    CHECK(std::accumulate(s.begin(), s.end(), 0.0) / s.size() == Approx(0.5).margin(0.03));
    CHECK(u->transform(Var(Tensor::from({1}, {0.0f}))).item() == Approx(0.5f));
    auto n = parts.make<Prior>("prior", "{type: normal, mean: 3, std: 2}", ctx);
    auto v = n->sample({4000}, rng).to_vector();
    CHECK(std::accumulate(v.begin(), v.end(), 0.0) / v.size() == Approx(3.0).margin(0.15));
}

TEST_CASE("f-divergence, TUBA and SMILE bounds match hand-computed values", "[plugin][estimator]") {
    Parts parts;
    BuildContext ctx;
    double rkl_p = 0, rkl_n = 0, chi_n = 0, h_p = 0, h_n = 0, tuba_n = 0, mean_pos = 0;
    for (float p : kPos) {
        mean_pos += p / 4.0;
        rkl_p += -std::exp(-p) / 4.0;
        h_p += (1 - std::exp(-p)) / 4.0;
    }
    for (float n : kNeg) {
        rkl_n += n / 6.0;
        chi_n += (n * n / 4.0 + n) / 6.0;
        h_n += (std::exp(n) - 1) / 6.0;
        tuba_n += std::exp(n - 0.5) / 6.0;
    }
    auto value = [&](const char* spec) { return parts.make<Estimator>("estimator", spec, ctx)->bound(fixed_scores()).value.item(); };
    CHECK(value("type: reverse_kl") == Approx(rkl_p + 1 - rkl_n).epsilon(1e-5));
    CHECK(value("type: pearson") == Approx(mean_pos - chi_n).epsilon(1e-5));
    CHECK(value("type: hellinger") == Approx(h_p - h_n).epsilon(1e-5));
    CHECK(value("{type: tuba, log_baseline: 0.5}") == Approx(1 + mean_pos - 0.5 - tuba_n).epsilon(1e-5));
    // SMILE, tau 0.6: the negatives' ratios clipped to [e^-0.6, e^0.6] inside DV's log-mean-exp.
    double clipped = 0;
    for (float n : kNeg) clipped += std::exp(std::clamp(double(n), -0.6, 0.6)) / 6.0;
    CHECK(value("{type: smile, clip: 0.6}") == Approx(mean_pos - std::log(clipped)).epsilon(1e-5));
    // ... and its critic trains on the JSD form, as Song & Ermon's does.
    auto smile = parts.make<Estimator>("estimator", "type: smile", ctx)->bound(fixed_scores());
    auto jsd = parts.make<Estimator>("estimator", "type: jsd", ctx)->bound(fixed_scores());
    CHECK(smile.loss.item() == Approx(jsd.loss.item()).epsilon(1e-6));
    CHECK_FALSE(smile.value.requires_grad());
}

TEST_CASE("every stateless bound's loss has the gradient finite differences give", "[plugin][estimator][grad]") {
    Parts parts;
    BuildContext ctx;
    Rng rng(5);
    const Tensor pos = testing::random_tensor({3, 2}, rng, 0.7f), neg = testing::random_tensor({3, 4}, rng, 0.7f);
    for (const char* spec : {"type: jsd", "type: nwj", "type: infonce", "type: reverse_kl", "type: pearson", "type: hellinger",
                             "{type: tuba, log_baseline: 0.3}", "{type: smile, clip: 1.0}",
                             "{type: interpolated, alpha: 0.3, log_baseline: 0.2}", "{type: interpolated, alpha: 1}"}) {
        auto e = parts.make<Estimator>("estimator", spec, ctx);
        testing::check_gradient(spec, [&](std::vector<Var>& v) { return e->bound({v[0], v[1]}).loss; }, {pos, neg});
    }
}

namespace {
// Pairs of a bivariate Gaussian with correlation rho (the joint, P) and of its
// independent marginals (Q), with log r(x, z) = log p(x, z) / p(x)p(z) for each.
struct GaussianPairs {
    std::vector<float> log_r_joint, log_r_product;
    double mi;
};
GaussianPairs gaussian_pairs(double rho, std::int64_t n) {
    Rng rng(11, "gaussian pairs");
    const double c = 1 - rho * rho;
    auto log_r = [&](double x, double z) { return -0.5 * std::log(c) - (rho * rho * (x * x + z * z) - 2 * rho * x * z) / (2 * c); };
    GaussianPairs g{{}, {}, -0.5 * std::log(c)};
    for (std::int64_t i = 0; i < n; ++i) {
        const double x = rng.normal(), e = rng.normal(), z2 = rng.normal();
        g.log_r_joint.push_back(static_cast<float>(log_r(x, rho * x + std::sqrt(c) * e)));
        g.log_r_product.push_back(static_cast<float>(log_r(x, z2)));
    }
    return g;
}
}  // namespace

TEST_CASE("each bound at its optimal critic gives its closed form on correlated Gaussians", "[plugin][estimator]") {
    // rho 0.8: I = -log(1 - rho^2) / 2 = 0.51 nats. Monte Carlo over 200k pairs.
    const double rho = 0.8, c = 1 - rho * rho;
    const std::int64_t n = 200000;
    const auto g = gaussian_pairs(rho, n);
    Parts parts;
    BuildContext ctx;
    // The optimal critic of each bound as a function of log r.
    auto bound = [&](const char* spec, const std::function<Var(const Var&)>& critic) {
        auto e = parts.make<Estimator>("estimator", spec, ctx);
        return e->bound({critic(Var(Tensor::from({n, 1}, g.log_r_joint))), critic(Var(Tensor::from({n, 1}, g.log_r_product)))});
    };
    auto log_r = [](const Var& l) { return l; };
    // MI bounds: tight at the optimum.
    CHECK(bound("type: nwj", [](const Var& l) { return l + 1.0f; }).value.item() == Approx(g.mi).margin(0.02));
    CHECK(bound("type: dv", log_r).value.item() == Approx(g.mi).margin(0.02));
    CHECK(bound("{type: tuba, log_baseline: 0.7}", [](const Var& l) { return l + 0.7f; }).value.item() ==
          Approx(g.mi).margin(0.02));
    CHECK(bound("{type: smile, clip: 20}", log_r).value.item() == Approx(g.mi).margin(0.02));
    // f-divergences: their closed forms between N(0, Sigma) and N(0, I); each one's MI reading gives I.
    const auto hellinger = bound("type: hellinger", [](const Var& l) { return l * 0.5f; });
    CHECK(hellinger.value.item() == Approx(2 * (1 - std::pow(c, 0.25) / std::sqrt(1 - rho * rho / 4))).margin(0.02));
    for (const auto& r : hellinger.readings) CHECK(r.value.item() == Approx(g.mi).margin(0.03));
    const auto pearson = bound("type: pearson", [](const Var& l) { return (ops::exp(l) - 1.0f) * 2.0f; });
    CHECK(pearson.value.item() == Approx(rho * rho / c).margin(0.1));  // chi^2's estimate has a heavy tail
    for (const auto& r : pearson.readings) CHECK(r.value.item() == Approx(g.mi).margin(0.03));
    const auto jsd = bound("type: jsd", log_r);
    REQUIRE(jsd.readings.size() == 2);
    for (const auto& r : jsd.readings) CHECK(r.value.item() == Approx(g.mi).margin(0.03));
}

TEST_CASE("reverse KL at its optimal critic gives KL(Q||P), and SMILE's clip lowers DV's variance", "[plugin][estimator]") {
    Parts parts;
    BuildContext ctx;
    {
        // rho 0.4: E_P[e^-T] has a finite variance only for rho below 0.5.
        const double rho = 0.4, c = 1 - rho * rho;
        const std::int64_t n = 200000;
        const auto g = gaussian_pairs(rho, n);
        auto rkl = parts.make<Estimator>("estimator", "type: reverse_kl", ctx)
                       ->bound({Var(Tensor::from({n, 1}, g.log_r_joint)), Var(Tensor::from({n, 1}, g.log_r_product))});
        CHECK(rkl.value.item() == Approx(rho * rho / c + 0.5 * std::log(c)).margin(0.01));
        CHECK(rkl.readings.at(1).value.item() == Approx(g.mi).margin(0.01));
    }
    // rho 0.99 (I = 1.96 nats), batches of 64 at the optimal critic: the spread of the
    // estimates over 400 batches, DV against SMILE with tau 1 (Song & Ermon's figure 1).
    const std::int64_t batch = 64, batches = 400;
    const auto g = gaussian_pairs(0.99, batch * batches);
    auto spread = [&](const char* spec) {
        auto e = parts.make<Estimator>("estimator", spec, ctx);
        double sum = 0, sum2 = 0;
        for (std::int64_t b = 0; b < batches; ++b) {
            const std::vector<float> p(g.log_r_joint.begin() + b * batch, g.log_r_joint.begin() + (b + 1) * batch),
                q(g.log_r_product.begin() + b * batch, g.log_r_product.begin() + (b + 1) * batch);
            const double v = e->bound({Var(Tensor::from({batch, 1}, p)), Var(Tensor::from({batch, 1}, q))}).value.item();
            sum += v;
            sum2 += v * v;
        }
        return sum2 / batches - (sum / batches) * (sum / batches);
    };
    const double dv = spread("{type: smile, clip: 50}"), smile = spread("{type: smile, clip: 1}");
    INFO("variance over batches: DV " << dv << ", SMILE(1) " << smile);
    CHECK(smile < 0.5 * dv);
}

TEST_CASE("the interpolated bound I_alpha matches a loop over held-out samples, and alpha 0 is TUBA", "[plugin][estimator]") {
    Parts parts;
    BuildContext ctx;
    // Row i of fixed_scores: positives kPos[2i..2i+1], negatives kNeg[3i..3i+2]; K = 3.
    const double alpha = 0.3, log_a = 0.2, k = 3;
    auto base = [&](double sum_exp) { return std::log(alpha * sum_exp / k + (1 - alpha) * std::exp(log_a)); };
    double joint = 0, marginal = 0;
    for (int i = 0; i < 2; ++i) {
        double all_neg = 0;
        for (int j = 0; j < 3; ++j) all_neg += std::exp(kNeg[i * 3 + j]);
        for (int j = 0; j < 3; ++j) {
            marginal += std::exp(kNeg[i * 3 + j] - base(all_neg)) / 6;
            for (int p = 0; p < 2; ++p)  // the positive with the other two negatives
                joint += (kPos[i * 2 + p] - base(all_neg - std::exp(kNeg[i * 3 + j]) + std::exp(kPos[i * 2 + p]))) / 12;
        }
    }
    auto bound = [&](const char* spec) { return parts.make<Estimator>("estimator", spec, ctx)->bound(fixed_scores()); };
    CHECK(bound("{type: interpolated, alpha: 0.3, log_baseline: 0.2}").value.item() ==
          Approx(1 + joint - marginal).epsilon(1e-5));
    CHECK(bound("{type: interpolated, alpha: 0, log_baseline: 0.2}").value.item() ==
          Approx(bound("{type: tuba, log_baseline: 0.2}").value.item()).epsilon(1e-6));
    // Scores far apart (a 150-nat gap) stay finite: each row is shifted by its largest score.
    const Scores wide{Var(Tensor::from({2, 1}, {100.0f, -50.0f})), Var(Tensor::from({2, 2}, {-50.0f, 40.0f, -60.0f, -55.0f}))};
    CHECK(std::isfinite(parts.make<Estimator>("estimator", "{type: interpolated, alpha: 0.5}", ctx)->bound(wide).value.item()));
}

namespace {
// All pairs of a batch of n samples of d independent coordinate pairs with
// correlation rho, scored by the optimal critic log r: row i is z_i, with
// its positive x_i and negatives x_j (j != i). I = -(d/2) log(1 - rho^2).
Scores optimal_all_pairs(double rho, std::int64_t d, std::int64_t n, Rng& rng) {
    const double c = 1 - rho * rho;
    std::vector<double> x(n * d), z(n * d);
    for (std::int64_t i = 0; i < n * d; ++i) {
        x[i] = rng.normal();
        z[i] = rho * x[i] + std::sqrt(c) * rng.normal();
    }
    auto log_r = [&](std::int64_t a, std::int64_t b) {  // x_a with z_b
        double s = 0;
        for (std::int64_t k = 0; k < d; ++k) {
            const double u = x[a * d + k], v = z[b * d + k];
            s += -0.5 * std::log(c) - (rho * rho * (u * u + v * v) - 2 * rho * u * v) / (2 * c);
        }
        return static_cast<float>(s);
    };
    std::vector<float> pos, neg;
    for (std::int64_t i = 0; i < n; ++i) {
        pos.push_back(log_r(i, i));
        for (std::int64_t j = 0; j < n; ++j)
            if (j != i) neg.push_back(log_r(j, i));
    }
    return {Var(Tensor::from({n, 1}, pos)), Var(Tensor::from({n, n - 1}, neg))};
}
}  // namespace

TEST_CASE("I_alpha at the optimal critic: a lower bound whose variance alpha trades for bias", "[plugin][estimator]") {
    // Poole et al.'s setting at 5 nats (d = 5, 1 nat each), batches of 64, 200 batches.
    const double rho = std::sqrt(1 - std::exp(-2.0)), mi = 5.0;
    Parts parts;
    BuildContext ctx;
    Rng rng(21, "i_alpha");
    std::vector<Scores> batches;
    for (int b = 0; b < 200; ++b) batches.push_back(optimal_all_pairs(rho, 5, 64, rng));
    struct Stats { double mean, variance; };
    auto stats = [&](const std::string& spec) {
        auto e = parts.make<Estimator>("estimator", spec, ctx);
        double sum = 0, sum2 = 0;
        for (const auto& s : batches) {
            const double v = e->bound(s).value.item();
            sum += v, sum2 += v * v;
        }
        const double mean = sum / batches.size();
        return Stats{mean, sum2 / batches.size() - mean * mean};
    };
    const Stats a0 = stats("{type: interpolated, alpha: 0}"), a01 = stats("{type: interpolated, alpha: 0.01}"),
                a05 = stats("{type: interpolated, alpha: 0.5}"), a1 = stats("{type: interpolated, alpha: 1}"),
                nce = stats("type: infonce");
    INFO("alpha 0: " << a0.mean << " (var " << a0.variance << "), 0.01: " << a01.mean << " (" << a01.variance << "), 0.5: "
                     << a05.mean << " (" << a05.variance << "), 1: " << a1.mean << " (" << a1.variance << "), InfoNCE "
                     << nce.mean << " (" << nce.variance << ")");
    // Measured: alpha 0: 4.98 (var 0.25), 0.01: 4.94 (0.16), 0.5: 4.35 (0.039),
    // 1: 3.62 (0.017), InfoNCE 3.63 (0.017).
    CHECK(a0.mean == Approx(mi).margin(0.15));  // TUBA at its optimum: unbiased, but noisy
    for (const Stats& s : {a0, a01, a05, a1}) CHECK(s.mean < mi + 0.1);
    // As alpha goes from 0 to 1 the bias grows and the variance falls.
    CHECK(a0.mean > a01.mean);
    CHECK(a01.mean > a05.mean);
    CHECK(a05.mean > a1.mean);
    CHECK(a01.variance < a0.variance);
    CHECK(a05.variance < 0.25 * a0.variance);
    CHECK(a1.variance < a05.variance);
    // alpha 1 is InfoNCE with one sample held out: capped near log K, as InfoNCE is.
    CHECK(a1.mean == Approx(nce.mean).margin(0.1));
    CHECK(a1.mean < std::log(64.0));
}

TEST_CASE("a learned baseline is the bound's parameter: finite differences give its gradient and learning it reaches DV", "[plugin][estimator][grad]") {
    Parts parts;
    BuildContext ctx;
    for (const char* spec : {"{type: tuba, learn_baseline: true, log_baseline: 0.4}",
                             "{type: interpolated, alpha: 0.3, learn_baseline: true, log_baseline: 0.4}"}) {
        INFO(spec);
        auto e = parts.make<Estimator>("estimator", spec, ctx);
        REQUIRE(e->module() != nullptr);
        const auto params = e->module()->parameters();
        REQUIRE(params.size() == 1);
        CHECK(params[0].name == "log_a");
        Var log_a = params[0].var;
        CHECK(log_a.value().item() == 0.4f);
        // The loss's gradient in log a, against central differences.
        Bound b = e->bound(fixed_scores());
        b.loss.backward();
        const double analytic = log_a.grad().item();
        auto loss_at = [&](float v) {
            log_a.value().data()[0] = v;
            return double(e->bound(fixed_scores()).loss.item());
        };
        const double numeric = (loss_at(0.4f + 1e-2f) - loss_at(0.4f - 1e-2f)) / 2e-2;
        loss_at(0.4f);
        CHECK(analytic == Approx(numeric).epsilon(1e-2));
        // ... and the scores' gradient too.
        testing::check_gradient(spec, [&](std::vector<Var>& v) { return e->bound({v[0], v[1]}).loss; },
                                {Tensor::from({2, 2}, kPos), Tensor::from({2, 3}, kNeg)});
    }
    // TUBA's best constant baseline is log E_Q[e^T], where its value is DV's.
    auto tuba = parts.make<Estimator>("estimator", "{type: tuba, learn_baseline: true}", ctx);
    Var log_a = tuba->module()->parameters()[0].var;
    optim::SgdOptions so;
    so.lr = 0.5f;
    optim::Sgd sgd({log_a}, so);
    for (int s = 0; s < 300; ++s) {
        sgd.zero_grad();
        tuba->bound(fixed_scores()).loss.backward();
        sgd.step();
    }
    double mean_exp = 0;
    for (float n : kNeg) mean_exp += std::exp(n) / 6.0;
    CHECK(log_a.value().item() == Approx(std::log(mean_exp)).margin(1e-4));
    auto dv = parts.make<Estimator>("estimator", "type: dv", ctx);
    CHECK(tuba->bound(fixed_scores()).value.item() == Approx(dv->bound(fixed_scores()).value.item()).margin(1e-4));
}
