// MI estimation and the MI-regularised GAN: the samplers' true MI, the JSD
// reading, several negatives per sample, the level statistics and mode
// coverage against hand-computed values, and small runs end to end.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <iterator>
#include <numeric>

#include "config/document.hpp"
#include "experiment/load_spec.hpp"
#include "infomax/data/files.hpp"
#include "infomax/eval/mi.hpp"
#include "infomax/experiment/mi_term.hpp"
#include "infomax/experiment/run.hpp"
#include "infomax/report/report.hpp"
#include "infomax/ops/ops.hpp"
#include "infomax/plugin/registry.hpp"
#include "infomax/runtime/error.hpp"
#include "sdk/support.hpp"

using namespace infomax;
using infomax::test::Parts;
namespace fs = std::filesystem;

namespace {

// I(x; z) of jointly Gaussian x, z with independent coordinate pairs, from
// the sample correlation of each pair: -1/2 sum log(1 - r^2).
double gaussian_mi_from_samples(const std::vector<float>& x, const std::vector<float>& z, std::int64_t n, std::int64_t d) {
    double mi = 0;
    for (std::int64_t k = 0; k < d; ++k) {
        double sx = 0, sz = 0, sxx = 0, szz = 0, sxz = 0;
        for (std::int64_t i = 0; i < n; ++i) {
            const double a = x[i * d + k], b = z[i * d + k];
            sx += a, sz += b, sxx += a * a, szz += b * b, sxz += a * b;
        }
        const double cov = sxz / n - sx / n * sz / n, vx = sxx / n - sx / n * sx / n, vz = szz / n - sz / n * sz / n;
        const double r = cov / std::sqrt(vx * vz);
        mi += -0.5 * std::log(1 - r * r);
    }
    return mi;
}

RunResult run(const std::string& file) {
    RunOptions o;
    o.spec = file;
    o.progress = false;
    return run_experiment(o);
}

nlohmann::json results(const RunResult& r) { return nlohmann::json::parse(std::ifstream(fs::path(r.dir) / "results.json")); }

// Runs `spec`, stopped (as by Ctrl-C) after step `stop_at`, then resumed to the end.
RunResult stopped_and_resumed(const std::string& spec, std::int64_t stop_at) {
    RunOptions o;
    o.spec = spec;
    o.progress = false;
    o.after_step = [stop_at](std::int64_t s) {
        if (s == stop_at) request_stop();
    };
    auto cut = run_experiment(o);
    REQUIRE(cut.interrupted);
    RunOptions r;
    r.resume = cut.dir;
    r.progress = false;
    return run_experiment(r);
}

// The checkpoint `name` of two runs, tensor for tensor; `a_out` receives the first for more checks.
void check_same_checkpoint(const RunResult& x, const RunResult& y, const std::string& name, data::TensorFile* a_out = nullptr) {
    auto a = data::read_safetensors((fs::path(x.dir) / "checkpoints" / name).string());
    auto b = data::read_safetensors((fs::path(y.dir) / "checkpoints" / name).string());
    REQUIRE(a.tensors.size() == b.tensors.size());
    for (const auto& [k, v] : a.tensors) {
        INFO(k);
        CHECK(v.to_vector() == b.tensors.at(k).to_vector());
    }
    CHECK(a.metadata == b.metadata);
    if (a_out) *a_out = std::move(a);
}

}  // namespace

TEST_CASE("the Gaussian sampler's MI matches -(d/2) log(1 - rho^2), per level of a staircase", "[mi][data]") {
    Parts parts;
    BuildContext ctx;
    ctx.batch_size = 100;
    auto g = parts.make<Dataset>("dataset", "{type: gaussian, dim: 4, mi: [1.0, 3.0], steps_per_level: 500}", ctx);
    REQUIRE(g->streamed());
    CHECK(g->size("train") == 2 * 500 * 100);
    for (const auto& [first, truth] : std::vector<std::pair<std::int64_t, double>>{{0, 1.0}, {50000, 3.0}}) {
        std::vector<std::int64_t> idx(50000);
        std::iota(idx.begin(), idx.end(), first);
        const auto x = g->batch("train", idx).to_vector(), z = g->pair("train", idx).to_vector();
        CHECK(gaussian_mi_from_samples(x, z, 50000, 4) == Approx(truth).margin(0.03));
        CHECK(g->true_mi("train", first) == truth);
        CHECK(g->true_mi("train", first + 49999) == truth);
    }
    // Fresh samples are a function of the index: asking twice gives the same bits.
    CHECK(g->batch("train", {7, 76543}).to_vector() == g->batch("train", {7, 76543}).to_vector());
    // Cubic: z^3, the same MI (the cube root recovers the Gaussian pair).
    auto c = parts.make<Dataset>("dataset", "{type: gaussian, dim: 4, mi: 2.0, cubic: true}", ctx);
    std::vector<std::int64_t> idx(50000);
    std::iota(idx.begin(), idx.end(), 0);
    auto x = c->batch("train", idx).to_vector(), z = c->pair("train", idx).to_vector();
    for (auto& v : z) v = std::cbrt(v);
    CHECK(gaussian_mi_from_samples(x, z, 50000, 4) == Approx(2.0).margin(0.03));
    // A fixed set (the MINE/NWJ library's static case) and independent uniforms (MI 0).
    auto fixed = parts.make<Dataset>("dataset", "{type: gaussian, dim: 2, mi: 1.0, size: 1000}", ctx);
    CHECK_FALSE(fixed->streamed());
    CHECK(fixed->size("test") == 200);
    auto u = parts.make<Dataset>("dataset", "{type: uniform_pairs, size: 100}", ctx);
    CHECK(u->sample_shape() == Shape{10});
    CHECK(u->pair("train", {0, 1}).shape() == Shape{2, 15});
    CHECK(u->true_mi("train", 3) == 0.0);
}

TEST_CASE("JSD reads its critic as MI: SMILE-clipped first, then the NWJ bound", "[mi][estimator]") {
    Parts parts;
    BuildContext ctx;
    const std::vector<float> pos{1.0f, -0.5f, 2.0f, 0.25f}, neg{-1.0f, 0.5f, 0.0f, -2.0f, 1.5f, 6.3f};
    double mean_pos = 0, mean_exp = 0, mean_clipped = 0;
    for (float p : pos) mean_pos += p / 4.0;
    for (float n : neg) {
        mean_exp += std::exp(n) / 6.0;
        mean_clipped += std::exp(std::min(5.0, double(n))) / 6.0;  // 6.3 is clipped at tau = 5
    }
    auto b = parts.make<Estimator>("estimator", "type: jsd", ctx)->bound({Var(Tensor::from({2, 2}, pos)), Var(Tensor::from({2, 3}, neg))});
    REQUIRE(b.readings.size() == 2);
    CHECK(b.readings[0].name == "mi_smile");
    CHECK(b.readings[0].value.item() == Approx(mean_pos - std::log(mean_clipped)).epsilon(1e-5));
    CHECK(b.readings[1].name == "mi_nwj");
    CHECK(b.readings[1].value.item() == Approx(mean_pos + 1 - mean_exp).epsilon(1e-5));
    CHECK_FALSE(b.readings[0].value.requires_grad());
    // One outlying negative score moves the NWJ reading by e^T / K and the clipped one by at most e^5 / K.
    const std::vector<float> wild{-1.0f, 0.5f, 0.0f, -2.0f, 1.5f, 30.0f};
    auto w = parts.make<Estimator>("estimator", "type: jsd", ctx)->bound({Var(Tensor::from({2, 2}, pos)), Var(Tensor::from({2, 3}, wild))});
    CHECK(w.readings[1].value.item() < -1e11);
    CHECK(w.readings[0].value.item() > -5.0);
    auto dv = parts.make<Estimator>("estimator", "type: dv", ctx)->bound({Var(Tensor::from({2, 2}, pos)), Var(Tensor::from({2, 3}, neg))});
    CHECK(dv.readings.empty());  // DV's value is an MI estimate itself
}

TEST_CASE("several negatives per sample: shifts 1..K of roll, K derangements", "[mi][negatives]") {
    Parts parts;
    BuildContext ctx{nullptr, nn::Init::pytorch_default, {}, {1}, {1}};
    Rng init(1), rng(2);
    ctx.rng = &init;
    // A joint critic is an MLP; use the scores of a separable one with known embeddings instead:
    // compare against pairs() called on the shifted batch directly.
    auto joint = parts.make<Discriminator>("discriminator", "{type: joint, critic_layers: [4]}", ctx);
    Var x(Tensor::from({4, 1}, {1, 2, 3, 4})), z(Tensor::from({4, 1}, {10, 20, 30, 40}));
    Scores s = make_scores(*joint, x, z, "roll", rng, 3);
    REQUIRE(s.neg.shape() == Shape{4, 3});
    for (std::int64_t k = 1; k <= 3; ++k) {
        const auto expect = joint->pairs(ops::roll(x, k, 0), z).value().to_vector();
        for (std::int64_t i = 0; i < 4; ++i) CHECK(s.neg.value().to_vector()[i * 3 + (k - 1)] == Approx(expect[i]));
    }
    Scores p = make_scores(*joint, x, z, "permutation", rng, 2);
    CHECK(p.neg.shape() == Shape{4, 2});
    for (std::int64_t i = 0; i < 4; ++i)  // never the positive pair itself
        for (std::int64_t k = 0; k < 2; ++k) CHECK(p.neg.value().to_vector()[i * 2 + k] != Approx(p.pos.value().to_vector()[i]));
    CHECK_THROWS_WITH(make_scores(*joint, x, z, "all", rng, 2),
                      "negative_samples 2 needs negatives roll or permutation; all makes its own");
    CHECK_THROWS_WITH(make_scores(*joint, x, z, "roll", rng, 4),
                      "scores: 4 negative samples per sample need a batch of more than 4");
}

// Data-parallel training scores each rank's rows of the gathered batch: any
// row range must give exactly those rows of the whole batch's scores, for
// every kind of negatives, with the random draws of the whole batch.
TEST_CASE("scores of a range of rows are those rows of the whole batch's scores", "[mi][negatives]") {
    Parts parts;
    BuildContext ctx{nullptr, nn::Init::pytorch_default, {}, {3, 2, 2}, {4}};
    Rng init(1);
    ctx.rng = &init;
    Rng data(5);
    const Var local(Tensor::from({6, 3, 2, 2}, [&] {
        std::vector<float> v(6 * 3 * 2 * 2);
        for (auto& x : v) x = static_cast<float>(data.uniform() - 0.5);
        return v;
    }()));
    const Var global(Tensor::from({6, 4}, [&] {
        std::vector<float> v(6 * 4);
        for (auto& x : v) x = static_cast<float>(data.uniform() - 0.5);
        return v;
    }()));
    auto concat = parts.make<Discriminator>("discriminator", "{type: local_concat_conv, hidden: [5]}", ctx);
    auto dot = parts.make<Discriminator>("discriminator", "{type: local_dot, hidden: [5], embed: 5}", ctx);
    struct Case {
        Discriminator* d;
        std::string negatives;
        std::int64_t count;
    };
    for (const Case& c : {Case{concat.get(), "roll", 1}, Case{concat.get(), "roll", 2}, Case{concat.get(), "permutation", 3},
                          Case{concat.get(), "shuffle_locations", 1}, Case{concat.get(), "all", 1}, Case{dot.get(), "all", 1}})
        for (const auto& [first, last] : {std::pair<std::int64_t, std::int64_t>{0, 3}, {3, 6}, {2, 4}}) {
            INFO(c.negatives << " x" << c.count << " rows " << first << ".." << last);
            Rng a(9), b(9);
            const Scores whole = make_scores(*c.d, local, global, c.negatives, a, c.count);
            const Scores part = make_scores(*c.d, local, global, c.negatives, b, c.count, first, last);
            for (const auto& [w, p] : {std::pair{whole.pos, part.pos}, std::pair{whole.neg, part.neg}}) {
                REQUIRE(p.size(0) == last - first);
                REQUIRE(p.size(1) == w.size(1));
                const auto wv = w.value().to_vector(), pv = p.value().to_vector();
                const std::int64_t k = w.size(1);
                for (std::int64_t i = 0; i < last - first; ++i)
                    for (std::int64_t j = 0; j < k; ++j) CHECK(pv[i * k + j] == Approx(wv[(first + i) * k + j]).margin(1e-6));
            }
        }
}

TEST_CASE("level statistics: mean, bias, variance and MSE over the last window of each level", "[mi][eval]") {
    eval::MetricsTable t;
    t.columns = {"step", "mi.mi_dv", "true_mi"};
    // Level 2 nats at steps 1-4, level 4 nats at steps 5-8.
    const double est[] = {0.5, 1.0, 1.5, 2.5, 3.0, 3.0, 5.0, 4.0};
    for (int i = 0; i < 8; ++i) t.rows.push_back({double(i + 1), est[i], i < 4 ? 2.0 : 4.0});
    const auto s = eval::mi_level_stats(t, {"mi.mi_dv"}, 2);  // the last two steps of each level
    REQUIRE(s.size() == 2);
    CHECK(s[0].true_mi == 2.0);
    CHECK(s[0].first_step == 1);
    CHECK(s[0].last_step == 4);
    CHECK(s[0].rows == 2);
    CHECK(s[0].mean == Approx(2.0));    // (1.5 + 2.5) / 2
    CHECK(s[0].bias == Approx(0.0));
    CHECK(s[0].variance == Approx(0.25));
    CHECK(s[0].mse == Approx(0.25));
    CHECK(s[1].first_step == 5);
    CHECK(s[1].mean == Approx(4.5));    // (5 + 4) / 2
    CHECK(s[1].bias == Approx(0.5));
    CHECK(s[1].variance == Approx(0.25));
    CHECK(s[1].mse == Approx(0.5));     // (1 + 0) / 2
    CHECK_THROWS_WITH(eval::mi_level_stats(t, {"mi.mi_nwj"}, 2),
                      "metrics have no column 'mi.mi_nwj' (columns: step, mi.mi_dv, true_mi)");
}

TEST_CASE("level statistics: the median and the interquartile range shrug off an outlier the mean does not", "[mi][eval]") {
    eval::MetricsTable t;
    t.columns = {"step", "mi.mi_nwj", "true_mi"};
    // Five steps at 2 nats; one batch read -18000 nats (the JSD critic through NWJ once did).
    const double est[] = {1.9, 2.1, -18000.0, 2.0, 2.3};
    for (int i = 0; i < 5; ++i) t.rows.push_back({double(i + 1), est[i], 2.0});
    const auto s = eval::mi_level_stats(t, {"mi.mi_nwj"}, 5);
    REQUIRE(s.size() == 1);
    CHECK(s[0].mean == Approx((1.9 + 2.1 - 18000.0 + 2.0 + 2.3) / 5));
    CHECK(s[0].median == Approx(2.0));      // sorted: -18000, 1.9, 2.0, 2.1, 2.3
    CHECK(s[0].q25 == Approx(1.9));
    CHECK(s[0].q75 == Approx(2.1));
    CHECK(s[0].iqr == Approx(0.2));
    // Between two values the quartile interpolates (numpy's default): 4 values, q25 at 0.75 of the way.
    eval::MetricsTable u;
    u.columns = t.columns;
    for (int i = 0; i < 4; ++i) u.rows.push_back({double(i + 1), double(i), 2.0});
    const auto v = eval::mi_level_stats(u, {"mi.mi_nwj"}, 4);
    CHECK(v[0].q25 == Approx(0.75));
    CHECK(v[0].median == Approx(1.5));
    CHECK(v[0].q75 == Approx(2.25));
}

TEST_CASE("mode coverage: nearest mode within 3 std, a quarter of the fair share", "[mi][eval]") {
    const Tensor centers = Tensor::from({2, 2}, {0, 0, 10, 10});
    // 8 samples: 5 near mode 0, 1 near mode 1, 2 far from both. Fair share 4, threshold 1.
    const Tensor x = Tensor::from({8, 2}, {0, 0, 0.1f, 0, 0, -0.2f, 0.29f, 0, 0.05f, 0.05f, 10, 10.1f, 5, 5, 0, 0.31f});
    const auto c = eval::mode_coverage(x, centers, 0.1);
    CHECK(c.high_quality == 6);
    CHECK(c.per_mode == std::vector<std::int64_t>{5, 1});
    CHECK(c.threshold == 1);
    CHECK(c.covered == 2);
    CHECK(c.high_quality_share == Approx(6.0 / 8.0));
}

TEST_CASE("mi_estimation runs a staircase: per-step estimates beside the truth, a table and a plot", "[mi][run]") {
    test::TempDir t("mi-test");
    const std::string spec = t.write("mi.yaml",
        "name: mi-test\nkind: mi_estimation\nseed: 3\n"
        "data: {type: gaussian, dim: 5, mi: [1.0, 2.0], steps_per_level: 600, batch_size: 64}\n"
        "objectives:\n  mi:\n    estimator: nwj\n    discriminator: {type: separable, critic_layers: [64], embed_dim: 16}\n"
        "optimizer: {lr: 1.0e-3}\ntrain: {log_every: 1}\neval: {window: 200}\n"
        "output: {dir: " + (t.path / "runs").string() + "}\n");
    auto r = run(spec);
    CHECK(r.steps == 1200);
    for (const char* f : {"metrics.csv", "mi_levels.md", "mi_levels.csv", "mi.svg", "mi_bias.svg", "mi_variance.svg", "mi_mse.svg", "results.json", "checkpoints/step-00001200.safetensors"})
        CHECK(fs::exists(fs::path(r.dir) / f));
    CHECK_FALSE(fs::exists(fs::path(r.dir) / "encoder.safetensors"));  // no encoder in mi_estimation
    const auto m = eval::read_metrics_csv((fs::path(r.dir) / "metrics.csv").string());
    REQUIRE(m.rows.size() == 1200);
    CHECK(m.rows[599][m.column("true_mi")] == 1.0);
    CHECK(m.rows[600][m.column("true_mi")] == 2.0);
    auto j = results(r);
    REQUIRE(j["mi_levels"].size() == 2);
    // The estimator learns: within 0.3 nats of the truth at 1 nat, and it
    // follows the step up to 2 nats (by at least 0.3) without passing it.
    CHECK(std::abs(j["mi_levels"][0]["bias"].get<double>()) < 0.3);
    CHECK(j["mi_levels"][1]["true_mi"] == 2.0);
    CHECK(j["mi_levels"][1]["mean"].get<double>() > j["mi_levels"][0]["mean"].get<double>() + 0.3);
    CHECK(j["mi_levels"][1]["mean"].get<double>() < 2.0);
    CHECK(j["held_out"]["mi"]["true_mi"] == Approx(2.0));
    std::ifstream svg(fs::path(r.dir) / "mi.svg");
    const std::string text((std::istreambuf_iterator<char>(svg)), {});
    CHECK(text.find("<svg") == 0);
    CHECK(text.find("true MI") != std::string::npos);
    CHECK(text.find("<path d=\"M") != std::string::npos);
}

TEST_CASE("a bound's learned baseline trains with its critic, is checkpointed and resumes bitwise", "[mi][run][resume]") {
    test::TempDir t("mi-test");
    const std::string spec = t.write("mi.yaml",
        "name: mi-baseline\nkind: mi_estimation\nseed: 3\n"
        "data: {type: gaussian, dim: 5, mi: [1.0, 2.0], steps_per_level: 300, batch_size: 32}\n"
        "objectives:\n  mi:\n    estimator: {type: interpolated, alpha: 0.5, learn_baseline: true}\n"
        "    discriminator: {type: separable, critic_layers: [32], embed_dim: 8}\n"
        "optimizer: {lr: 2.0e-3}\ntrain: {log_every: 10, checkpoint_every: 200}\neval: {window: 100}\n"
        "output: {dir: " + (t.path / "runs").string() + "}\n");
    auto whole = run(spec);
    auto j = results(whole);
    CHECK(std::abs(j["mi_levels"][0]["bias"].get<double>()) < 0.4);
    // The bound's ceiling, 1 + log(K / alpha) with K = 31 negatives, is drawn beside its estimates.
    std::ifstream svg(fs::path(whole.dir) / "mi.svg");
    const std::string text((std::istreambuf_iterator<char>(svg)), {});
    CHECK(text.find("mi.mi_interpolated cap 5.13") != std::string::npos);
    data::TensorFile a;
    check_same_checkpoint(whole, stopped_and_resumed(spec, 250), "step-00000600.safetensors", &a);
    // The baseline is a parameter the optimizer moved (it starts at log a = 0).
    REQUIRE(a.tensors.count("param/objectives.mi.estimator.log_a") == 1);
    CHECK(a.tensors.count("adam/m/objectives.mi.estimator.log_a") == 1);
    CHECK(a.tensors.at("param/objectives.mi.estimator.log_a").item() != 0.0f);
}

TEST_CASE("mi_estimation on paired NPY arrays: images as x and z", "[mi][run]") {
    test::TempDir t("mi-test");
    // z is x shifted by one pixel plus noise: dependent images.
    Rng rng(5);
    std::vector<float> x(512 * 16), z(512 * 16);
    for (auto& v : x) v = rng.uniform();
    for (std::size_t i = 0; i < x.size(); ++i) z[i] = x[(i / 16) * 16 + (i + 1) % 16] + 0.1f * rng.normal();
    data::write_npy((t.path / "x.npy").string(), Tensor::from({512, 1, 4, 4}, x));
    data::write_npy((t.path / "z.npy").string(), Tensor::from({512, 1, 4, 4}, z));
    const std::string spec = t.write("npy.yaml",
        "name: npy-mi\nkind: mi_estimation\n"
        "data: {type: npy, x: " + (t.path / "x.npy").string() + ", z: " + (t.path / "z.npy").string() + ", batch_size: 32}\n"
        "objectives: {mi: {estimator: infonce, discriminator: {type: joint, critic_layers: [32]}}}\n"
        "optimizer: {lr: 1.0e-3}\ntrain: {epochs: 3, log_every: 8}\n"
        "output: {dir: " + (t.path / "runs").string() + "}\n");
    auto r = run(spec);
    CHECK(r.steps == 3 * 16);
    const auto m = eval::read_metrics_csv((fs::path(r.dir) / "metrics.csv").string());
    CHECK_THROWS_WITH(m.column("true_mi"), Catch::Contains("no column 'true_mi'"));  // unknown truth: none logged
    // InfoNCE learns the dependence: the last estimate is above the first.
    CHECK(m.rows.back()[m.column("mi.mi_infonce")] > m.rows.front()[m.column("mi.mi_infonce")]);
    CHECK(fs::exists(fs::path(r.dir) / "mi.svg"));
}

TEST_CASE("NPY labels and shapes are checked when the data loads, naming the file, before any run directory", "[mi][run][errors]") {
    test::TempDir t("mi-test");
    Rng rng(5);
    std::vector<float> x(64 * 16);
    for (auto& v : x) v = rng.uniform();
    data::write_npy((t.path / "x.npy").string(), Tensor::from({64, 1, 4, 4}, x));
    data::write_npy((t.path / "z.npy").string(), Tensor::from({64, 16}, x));
    data::write_npy((t.path / "test_z.npy").string(), Tensor::from({64, 8}, std::vector<float>(x.begin(), x.begin() + 512)));
    auto labels = [&](const std::string& name, float bad) {
        std::vector<float> y(64, 1.0f);
        y[7] = bad;
        data::write_npy((t.path / name).string(), Tensor::from({64}, y));
        return (t.path / name).string();
    };
    const std::string runs = (t.path / "runs").string();
    auto refused = [&](const std::string& data_line, const std::string& kind) {
        const std::string spec = t.write("s.yaml", "name: npy\nkind: " + kind + "\ndata: " + data_line + "\n" +
            (kind == "mi_estimation" ? "objectives: {mi: {estimator: infonce, discriminator: {type: joint, critic_layers: [8]}}}\n"
                                     : "encoder: {type: layer_stack, layers: [flatten, {linear: {out: 4}}, {tap: global}]}\n"
                                       "objectives: {global: {estimator: jsd, discriminator: {type: global_concat, hidden: [8]}}}\n") +
            "train: {steps: 2}\noutput: {dir: " + runs + "}\n");
        try {
            run(spec);
        } catch (const std::exception& e) {
            CHECK_FALSE(fs::exists(runs));
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    const std::string x_npy = (t.path / "x.npy").string();
    const std::string neg = labels("neg.npy", -1), frac = labels("frac.npy", 2.5f);
    CHECK_THAT(refused("{type: npy, x: " + x_npy + ", labels: " + neg + ", batch_size: 16}", "dim"),
               Catch::Contains("data.labels: " + neg + ": label 7 is -1; labels are class numbers 0, 1, 2, ... (whole, not "
                               "negative, below 1 000 000): shift them to start at 0"));
    CHECK_THAT(refused("{type: npy, x: " + x_npy + ", labels: " + frac + ", batch_size: 16}", "dim"),
               Catch::Contains("data.labels: " + frac + ": label 7 is 2.5; labels are class numbers 0, 1, 2, ... (whole, not "
                               "negative, below 1 000 000): write whole numbers, not fractions"));
    CHECK_THAT(refused("{type: npy, x: " + x_npy + ", z: " + (t.path / "z.npy").string() + ", test_x: " + x_npy +
                           ", test_z: " + (t.path / "test_z.npy").string() + ", batch_size: 16}",
                       "mi_estimation"),
               Catch::Contains("data.test_z: test_z's rows are [8], z's are [16]: both must have one shape"));
}

TEST_CASE("IDX data has as many classes as its labels say (EMNIST letters: 1 to 26)", "[data][idx]") {
    test::TempDir t("mi-test");
    // MNIST-format files: 52 images of 2 x 2, labels 1..26 twice.
    auto idx = [&](const std::string& name, std::vector<std::uint8_t> dims_and_data, bool images) {
        std::vector<char> b{0, 0, 8, static_cast<char>(images ? 3 : 1)};
        const std::vector<std::uint32_t> dims = images ? std::vector<std::uint32_t>{52, 2, 2} : std::vector<std::uint32_t>{52};
        for (auto d : dims)
            for (int k = 3; k >= 0; --k) b.push_back(static_cast<char>((d >> (8 * k)) & 0xff));
        b.insert(b.end(), dims_and_data.begin(), dims_and_data.end());
        std::ofstream(t.path / name, std::ios::binary).write(b.data(), static_cast<std::streamsize>(b.size()));
    };
    std::vector<std::uint8_t> pixels(52 * 4, 128), labels;
    for (int i = 0; i < 52; ++i) labels.push_back(static_cast<std::uint8_t>(1 + i % 26));
    for (const char* split : {"train", "t10k"}) {
        idx(std::string(split) + "-images-idx3-ubyte", pixels, true);
        idx(std::string(split) + "-labels-idx1-ubyte", labels, false);
    }
    Parts parts;
    BuildContext ctx;
    ctx.batch_size = 4;
    auto d = parts.make<Dataset>("dataset", "{type: idx, path: '" + t.path.string() + "', validation: 4}", ctx);
    CHECK(d->classes() == 27);  // was 10: a probe's labels then ran past its outputs after training
    CHECK(d->labels("test", {25}) == std::vector<std::int64_t>{26});
}

TEST_CASE("the MI-regularised GAN: adaptive clipping and modes covered", "[mi][gan][run]") {
    test::TempDir t("mi-test");
    auto spec = [&](bool regularised) {
        return t.write(regularised ? "reg.yaml" : "plain.yaml",
            std::string("name: gan\nkind: gan\nseed: 2\n"
            "data: {type: gaussian_grid, batch_size: 64}\nnoise: {distribution: normal, dim: 2}\n"
            "generator: {type: layer_stack, layers: [{linear: {out: 32}}, relu, {linear: {out: 2}}]}\n"
            "critic: {type: prior_mlp, hidden: [32]}\noptimizer: {lr: 1.0e-3, betas: [0.5, 0.999]}\n"
            "train: {steps: 200, log_every: 1}\neval: {samples: 500}\n") +
            (regularised ? "objectives: {mi: {weight: 1.0, estimator: nwj, discriminator: {type: joint, critic_layers: [32]}, lr: 1.0e-4}}\n" : "") +
            "output: {dir: " + (t.path / "runs").string() + "}\n");
    };
    auto plain = run(spec(false));
    auto reg = run(spec(true));
    for (const auto& r : {plain, reg}) {
        auto j = results(r);
        CHECK(j["gan"]["modes"] == 25);
        CHECK(j["gan"]["samples"] == 500);
        CHECK(j["gan"]["covered_threshold"] == 5);
        CHECK(fs::exists(fs::path(r.dir) / "samples.svg"));
        CHECK(fs::exists(fs::path(r.dir) / "generator.safetensors"));
    }
    // Every step: scale = min(|g_gan|, |g_I|) / |g_I| = min(1, 1 / ratio), ratio = |g_I| / |g_gan|.
    const auto m = eval::read_metrics_csv((fs::path(reg.dir) / "metrics.csv").string());
    REQUIRE(m.rows.size() == 200);
    for (const auto& row : m.rows) {
        const double ratio = row[m.column("mi.grad_norm_ratio")], scale = row[m.column("mi.scale")];
        CHECK(scale == Approx(std::min(1.0, 1.0 / ratio)).epsilon(1e-4));
        CHECK(scale <= 1.0);
    }
    // The regulariser changes the generator's path: same seed, other samples.
    const auto a = data::read_npy((fs::path(plain.dir) / "samples.npy").string()).values;
    const auto b = data::read_npy((fs::path(reg.dir) / "samples.npy").string()).values;
    CHECK(a != b);
}

TEST_CASE("mi and gan spec errors name the place and the fix", "[mi][errors]") {
    test::TempDir t("mi-test");
    auto fails = [&](const std::string& body) {
        try {
            run(t.write("bad.yaml", body + "output: {dir: " + (t.path / "runs").string() + "}\n"));
        } catch (const std::exception& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK_THAT(fails("name: a\nkind: mi_estimation\ndata: {type: gaussian, mi: [1, 2], size: 100}\n"
                     "objectives: {mi: {estimator: dv, discriminator: joint}}\n"),
               Catch::Contains("bad.yaml:3:") && Catch::Contains("a staircase of MI levels draws fresh samples: set size: 0"));
    CHECK_THAT(fails("name: a\nkind: mi_estimation\ndata: {type: gaussian, batch_size: 8}\n"
                     "objectives: {mi: {estimator: dv, discriminator: joint, negatives: all, negative_samples: 3}}\n"),
               Catch::Contains("bad.yaml:4:") && Catch::Contains("3 negatives per sample need negatives: roll or permutation; all makes its own"));
    CHECK_THAT(fails("name: a\nkind: gan\ndata: {type: gaussian_grid}\nnoise: {dim: 2}\n"
                     "generator: {type: layer_stack, layers: [{linear: {out: 3}}]}\ncritic: prior_mlp\n"),
               Catch::Contains("bad.yaml:5:") && Catch::Contains("the generator makes samples of shape [3], the data's are [2]"));
    CHECK_THAT(fails("name: a\nkind: gan\ndata: {type: gaussian_grid}\n"
                     "generator: {type: layer_stack, layers: [{linear: {out: 2}}]}\ncritic: prior_mlp\n"),
               Catch::Contains("a gan experiment needs noise (e.g. noise: {distribution: normal, dim: 2})"));
    CHECK(fs::exists(t.path / "runs") == false);  // nothing written for a bad spec
}

TEST_CASE("a regularised GAN resumes bitwise: three optimizers and DV's moving average", "[mi][gan][resume]") {
    test::TempDir t("mi-test");
    const std::string body =
        "name: gan\nkind: gan\nseed: 4\n"
        "data: {type: gaussian_grid, batch_size: 32}\nnoise: {distribution: normal, dim: 2}\n"
        "generator: {type: layer_stack, layers: [{linear: {out: 16}}, relu, {linear: {out: 2}}]}\n"
        "critic: {type: prior_mlp, hidden: [16]}\n"
        "objectives: {mi: {estimator: dv, discriminator: {type: joint, critic_layers: [16]}, lr: 1.0e-4}}\n"
        "train: {steps: 40, checkpoint_every: 15, log_every: 5}\neval: {samples: 100}\n"
        "output: {dir: " + (t.path / "runs").string() + "}\n";
    const std::string spec = t.write("gan.yaml", body);
    auto whole = run(spec);
    auto resumed = stopped_and_resumed(spec, 22);
    CHECK(resumed.steps == 40);
    data::TensorFile a;
    check_same_checkpoint(whole, resumed, "step-00000040.safetensors", &a);
    CHECK(a.tensors.count("objective_adam.mi/m/objectives.mi.discriminator.mlp.0.weight") == 1);
    CHECK(a.tensors.count("critic_adam/v/critic.mlp.0.weight") == 1);
}

TEST_CASE("CIFAR-10 binary batches are read record by record, and a truncated file is named", "[data][cifar10]") {
    test::TempDir t("mi-test");
    const fs::path dir = t.path / "cifar-10-batches-bin";
    fs::create_directories(dir);
    // Record r of file f: label (f + r) % 10, pixel k = (f * 7 + r * 3 + k) % 256.
    auto write_file = [&](const std::string& name, int f, int records) {
        std::string raw;
        for (int r = 0; r < records; ++r) {
            raw.push_back(static_cast<char>((f + r) % 10));
            for (int k = 0; k < 3072; ++k) raw.push_back(static_cast<char>((f * 7 + r * 3 + k) % 256));
        }
        std::ofstream(dir / name, std::ios::binary) << raw;
    };
    for (int f = 1; f <= 5; ++f) write_file(fmt::format("data_batch_{}.bin", f), f, 4);
    write_file("test_batch.bin", 9, 3);
    Parts parts;
    BuildContext ctx;
    auto d = parts.make<Dataset>("dataset", "{type: cifar10, path: " + dir.string() + ", validation: 2}", ctx);
    CHECK(d->sample_shape() == Shape{3, 32, 32});
    CHECK(d->size("train") == 18);
    CHECK(d->size("validation") == 2);
    CHECK(d->size("test") == 3);
    CHECK(d->classes() == 10);
    // Train sample 5 is file 2's record 1: label 3, first pixels (14 + 3 + k) / 255, channel-major.
    const auto x = d->batch("train", {5}).to_vector();
    CHECK(x[0] == Approx(17 / 255.0));
    CHECK(x[1024] == Approx(((17 + 1024) % 256) / 255.0));
    CHECK(d->labels("train", {5}) == std::vector<std::int64_t>{3});
    CHECK(d->labels("validation", {1}) == std::vector<std::int64_t>{(5 + 3) % 10});  // file 5, record 3
    CHECK(d->labels("test", {2}) == std::vector<std::int64_t>{(9 + 2) % 10});
    // A truncated file is reported against data.path with its size.
    std::ofstream(dir / "test_batch.bin", std::ios::binary | std::ios::app) << "xx";
    CHECK_THROWS_WITH(parts.make<Dataset>("dataset", "{type: cifar10, path: " + dir.string() + "}", ctx),
                      Catch::Contains("is not a whole number of 3073-byte CIFAR-10 records (truncated?)"));
}

TEST_CASE("MiTerm: an estimator and its critic in one's own loop, checked like a spec", "[mi][library]") {
    MiTermOptions o;
    o.estimator = "{type: dv, ema_decay: 0.5}";
    o.discriminator = "{type: joint, critic_layers: [16]}";
    o.lr = 1e-2f;
    MiTerm mi(o, {3}, {2});
    CHECK(mi.quantity() == "mi_dv");
    Rng rng(4);
    std::vector<float> xs(64 * 3), zs(64 * 2);
    for (std::size_t i = 0; i < 64; ++i) {
        for (std::size_t j = 0; j < 3; ++j) xs[i * 3 + j] = rng.normal();
        zs[i * 2] = xs[i * 3] + 0.3f * rng.normal();  // z_0 follows x_0: about 1.2 nats
        zs[i * 2 + 1] = rng.normal();
    }
    Var x(Tensor::from({64, 3}, xs), true), z(Tensor::from({64, 2}, zs), true);
    // The critic's step reaches neither x nor z, and moves the critic.
    const auto before = mi.critic_parameters().front().value().to_vector();
    double first = 0, last = 0;
    for (int s = 0; s < 200; ++s) {
        const double v = mi.train_critic(x, z).value.item();
        if (s < 10) first += v / 10;
        if (s >= 190) last += v / 10;
    }
    CHECK_FALSE(x.grad().defined());
    CHECK(mi.critic_parameters().front().value().to_vector() != before);
    CHECK(last > first + 0.3);  // it learnt to tell pairs from mismatches
    // The term itself carries the bound's gradient to x and z.
    Bound b = mi(x, z);
    b.value.backward();
    REQUIRE(x.grad().defined());
    const auto g = x.grad().to_vector();
    CHECK(std::any_of(g.begin(), g.end(), [](float v) { return v != 0.0f; }));
    // Mistakes are located like a spec's, and shapes are checked.
    MiTermOptions bad;
    bad.estimator = "jds";
    CHECK_THROWS_WITH(MiTerm(bad, {3}, {2}),
                      Catch::Contains("mi_term:1:12: estimator.type: unknown estimator 'jds' (did you mean 'jsd'?)"));
    MiTermOptions with_baseline = o;
    with_baseline.estimator = "{type: tuba, learn_baseline: true}";
    CHECK(MiTerm(with_baseline, {3}, {2}).critic_parameters().size() == mi.critic_parameters().size() + 1);
    bad.estimator = "{type: infonce, temprature: 1}";
    CHECK_THROWS_WITH(MiTerm(bad, {3}, {2}), Catch::Contains("unknown key 'temprature'"));
    CHECK_THROWS_WITH(mi(x, Var(Tensor::zeros({63, 2}))),
                      "MiTerm: x and z must be batches of as many rows (2 or more), got [64, 3] and [63, 2]");
}

TEST_CASE("NDM is about 0 for independent dimensions, large for dependent ones, finite for determined ones", "[mi][eval]") {
    // y = (a, a + 0.1 e, b, b + 0.1 e'): total correlation 2 * log(101) / 2 = 4.6 nats; against 4 independent
    // normals; and 1e4 (a, a, b, b), whose dimensions determine each other (an infinite total correlation)
    // on the scale of an encoder's y.
    enum Kind { independent, dependent, determined };
    Rng rng(12, "ndm data");
    auto batch = [&](Kind k) {
        std::vector<float> v(128 * 4);
        for (std::int64_t i = 0; i < 128; ++i) {
            const float a = rng.normal(), b = rng.normal();
            const float noise = k == determined ? 0.0f : 0.1f, scale = k == determined ? 1.0e4f : 1.0f;
            v[i * 4 + 0] = scale * a;
            v[i * 4 + 1] = scale * (k == independent ? rng.normal() : a + noise * rng.normal());
            v[i * 4 + 2] = scale * b;
            v[i * 4 + 3] = scale * (k == independent ? rng.normal() : b + noise * rng.normal());
        }
        return Tensor::from({128, 4}, v);
    };
    eval::NdmOptions o;
    o.steps = 600;
    o.hidden = {64, 64};
    for (Kind k : {independent, dependent, determined}) {
        std::vector<Tensor> test;
        for (int i = 0; i < 10; ++i) test.push_back(batch(k));
        int calls = 0;
        const double ndm = eval::neural_dependency([&] { return batch(k); }, test, o, [&](double) { ++calls; });
        INFO("kind " << k << ": NDM " << ndm);
        CHECK(calls == 600);
        if (k == independent) CHECK(std::abs(ndm) < 0.15);
        if (k == dependent) CHECK(ndm > 1.0);
        // Large but finite; the critic trained on DV itself read 192 (2 threads) and 233 (1) here,
        // this one 31.7 and 84.5 (the growth is sensitive to the summation order).
        if (k == determined) CHECK((ndm > 3.0 && ndm < 150.0));
    }
    CHECK_THROWS_WITH(eval::neural_dependency([] { return Tensor::zeros({1, 4}); }, {}, o),
                      "NDM: expected y of shape (N >= 2, D), got [1, 4]");
}

TEST_CASE("eval.measures: NDM and MINE's I(X, Y) of the frozen y, in results.json and the run report", "[mi][eval][run]") {
    test::TempDir t("measures-test");
    RunOptions o;
    o.spec = t.write("tiny.yaml", test::tiny_dim_spec(t.path / "runs", 4));
    o.overrides = {"eval.measures=[ndm, mine]", "eval.measure_steps=30", "eval.probes=[]"};
    o.progress = false;
    const RunResult r = run_experiment(o);
    const auto j = results(r);
    for (const char* m : {"ndm", "mine"}) {
        REQUIRE(j["measures"].contains(m));
        CHECK(std::isfinite(j["measures"][m]["value"].get<double>()));
        CHECK(j["measures"][m]["steps"] == 30);
        CHECK(j["measures"][m]["split"] == "test");
    }
    CHECK(j["measures"]["mine"]["quantity"] == "mi_dv");
    CHECK(j["measures"]["ndm"]["quantity"] == "ndm_dv");
    // Each calibrated on a Gaussian proxy whose truth is the value read.
    for (const char* m : {"ndm", "mine"}) {
        INFO(m);
        const auto& cal = j["measures"][m]["calibration"];
        REQUIRE(cal.is_object());
        CHECK(cal["true_mi"].get<double>() == std::max(0.0, j["measures"][m]["value"].get<double>()));
        CHECK(cal["bias"].get<double>() == cal["estimate"].get<double>() - cal["true_mi"].get<double>());
        CHECK(j["measures"][m].contains("warning") == (std::abs(cal["bias"].get<double>()) > 1.0));
    }
    CHECK_THAT(j["measures"]["mine"]["calibration"]["proxy"].get<std::string>(), Catch::StartsWith("Gaussian, 6 pairs"));
    std::ifstream in(write_report(r.dir));
    const std::string html((std::istreambuf_iterator<char>(in)), {});
    CHECK(html.find("<h2>Representation measures</h2>") != std::string::npos);
    CHECK(html.find("<td>MINE I(X; Y)</td>") != std::string::npos);
}

TEST_CASE("the Beyond-Normal protocol in mi_estimation: held-out every N steps, early stopping, the best estimate", "[mi][run][protocol]") {
    test::TempDir t("mi-test");
    // A bmi task with a small fixed sample; Adam at bmi's lr 0.1 overfits the
    // critic fast, so the held-out estimate stops improving well before 2000 steps.
    const std::string spec = t.write("bmi.yaml",
        "name: bmi-protocol\nkind: mi_estimation\nseed: 5\n"
        "data: {type: bmi_task, task: 1v1-normal-0.75, size: 512, test_size: 512, batch_size: 128}\n"
        "objectives:\n  mi:\n    estimator: infonce\n    discriminator: {type: joint, critic_layers: [16, 8]}\n"
        "optimizer: {lr: 0.1}\ntrain: {steps: 2000, log_every: 10, checkpoint_every: 40}\n"
        "eval: {held_out_every: 20, patience: 2, probes: []}\n"
        "output: {dir: " + (t.path / "runs").string() + "}\n");
    auto whole = run(spec);
    auto j = results(whole);
    const auto& p = j["protocol"];
    // Stopped early: after the best, exactly `patience` evaluations without a better one.
    const std::int64_t steps = j["train"]["steps"].get<std::int64_t>();
    CHECK(steps < 2000);
    CHECK(p["flags"]["early_stopping_not_triggered"] == false);
    const auto& ev = p["evaluations"];
    REQUIRE(ev.size() >= 3);
    CHECK(ev.back()[0].get<std::int64_t>() == steps);
    CHECK(steps - p["best_step"].get<std::int64_t>() == 2 * 20);
    double best = -1e30;
    for (const auto& e : ev) best = std::max(best, e[1].get<double>());
    CHECK(p["estimate"].get<double>() == best);  // the best held-out estimate, exactly
    CHECK(p["true_mi"].get<double>() == Approx(-0.5 * std::log(1 - 0.75 * 0.75)).epsilon(1e-12));
    // InfoNCE on batches of 128 reads below log 128; a trained critic reads most of the 0.41 nats.
    CHECK(p["estimate"].get<double>() > 0.2);
    CHECK(p["estimate"].get<double>() < 0.6);
    CHECK(p["tracked"] == "mi.mi_infonce");
    // The verdict: a 95% bootstrap interval over the 4 held-out batches around the estimate, not saturated
    // (0.4 nats is far below InfoNCE's log 128 = 4.85), and `flagged` is the OR of the flags.
    REQUIRE(p.contains("interval"));
    CHECK(p["interval"][0].get<double>() <= p["estimate"].get<double>());
    CHECK(p["interval"][1].get<double>() >= p["estimate"].get<double>());
    CHECK(p["interval"][0].get<double>() < p["interval"][1].get<double>());
    CHECK(p["ceiling"].get<double>() == Approx(std::log(128.0)));
    CHECK(p["flags"]["saturated"] == false);
    CHECK(p["flagged"] == false);  // early stopping triggered, no fall, no rise, no cap
    const double lo = p["interval"][0].get<double>(), hi = p["interval"][1].get<double>(), truth = p["true_mi"].get<double>();
    CHECK(p["covers_truth"] == (lo <= truth && truth <= hi));
    // Stopped by Ctrl-C between two evaluations and resumed, the run evaluates and stops as the whole one did.
    auto resumed = stopped_and_resumed(spec, 50);
    auto k = results(resumed);
    CHECK(k["protocol"] == p);
    CHECK(k["train"]["steps"] == j["train"]["steps"]);
    const std::string last = fmt::format("step-{:08d}.safetensors", steps);
    check_same_checkpoint(whole, resumed, last);
}

TEST_CASE("the protocol's options are refused where they cannot work, before anything is written", "[mi][protocol][errors]") {
    test::TempDir t("mi-test");
    const std::string out = (t.path / "runs").string();
    const std::string dim = t.write("dim.yaml",
        "name: d\nkind: dim\nseed: 1\ndata: {type: synthetic, shape: [1, 12, 12], size: 256, classes: 4, batch_size: 32}\n"
        "encoder: {type: layer_stack, layers: [{conv: {out: 8, kernel: 3}}, relu, {tap: local}, flatten, {linear: {out: 6}}, {tap: global}]}\n"
        "objectives:\n  global: {weight: 0.5, estimator: jsd, discriminator: {type: global_concat, hidden: [16]}}\n"
        "train: {steps: 2}\neval: {held_out_every: 1, probes: []}\noutput: {dir: " + out + "}\n");
    CHECK_THROWS_WITH(run(dim), Catch::Contains("eval.held_out_every: the held-out protocol is for kind mi_estimation; a dim run "
                                                "has none: remove this key"));
    const std::string small = t.write("small.yaml",
        "name: s\nkind: mi_estimation\nseed: 1\n"
        "data: {type: bmi_task, task: 1v1-normal-0.75, size: 512, test_size: 64, batch_size: 128}\n"
        "objectives:\n  mi:\n    estimator: infonce\n    discriminator: {type: joint, critic_layers: [8]}\n"
        "train: {steps: 10}\neval: {held_out_every: 5}\noutput: {dir: " + out + "}\n");
    CHECK_THROWS_WITH(run(small), Catch::Contains("eval.held_out_every: the protocol evaluates on the test split, and "
                                                  "bmi_task(1v1-normal-0.75"));
    CHECK_FALSE(fs::exists(t.path / "runs"));
}

TEST_CASE("the verdict flags a saturated bound: InfoNCE with 7 negatives on 6 nats reads its cap log 8", "[mi][run][protocol]") {
    test::TempDir t("mi-test");
    const std::string spec = t.write("cap.yaml",
        "name: cap\nkind: mi_estimation\nseed: 2\n"
        "data: {type: gaussian, dim: 5, mi: 6.0, size: 4000, batch_size: 8}\n"
        "objectives:\n  mi:\n    estimator: infonce\n    discriminator: {type: separable, critic_layers: [64], embed_dim: 16}\n"
        "    negatives: all\n"
        "optimizer: {lr: 1.0e-3}\ntrain: {steps: 1500, log_every: 10}\n"
        "eval: {held_out_every: 100, patience: 3, held_out_batches: 50, probes: [], window: 100}\n"
        "output: {dir: " + (t.path / "runs").string() + "}\n");
    const auto j = results(run(spec));
    const auto& p = j["protocol"];
    INFO(p.dump());
    CHECK(p["ceiling"].get<double>() == Approx(std::log(8.0)));
    CHECK(p["estimate"].get<double>() >= 0.9 * std::log(8.0));
    CHECK(p["flags"]["saturated"] == true);
    CHECK(p["flagged"] == true);
    // The interval is of the estimate, not of the truth: 6 nats is far outside it.
    CHECK(p["covers_truth"] == false);
    // The staircase's verdict per level says the same of the logged estimates.
    CHECK(j["mi_levels"][0]["saturated"] == true);
}

TEST_CASE("eval.sample_estimators: KSG and CCA on the whole sample of a bmi task, beside (or without) training", "[mi][run][protocol]") {
    test::TempDir t("mi-test");
    const std::string spec = t.write("cls.yaml",
        "name: cls\nkind: mi_estimation\nseed: 1\n"
        "data: {type: bmi_task, task: multinormal-sparse-3-3-2-2.0, size: 1000, test_size: 3000, batch_size: 128}\n"
        "objectives:\n  mi:\n    estimator: infonce\n    discriminator: {type: joint, critic_layers: [8]}\n"
        "train: {steps: 0}\neval: {sample_estimators: [cca, ksg, {type: ksg, k: 10}], probes: []}\n"
        "output: {dir: " + (t.path / "runs").string() + "}\n");
    const auto j = results(run(spec));
    const auto& s = j["sample_estimates"];
    const double truth = -std::log(0.36);  // two pairs at correlation 0.8
    CHECK(s["cca"]["true_mi"].get<double>() == Approx(truth).epsilon(1e-12));
    // CCA's standard error is about sqrt(sum rho_i^2 / n) = 0.018 at n = 4000; its upward bias from the 9
    // correlations it fits, about dx dy / (2n) = 0.001: within 5 standard errors.
    CHECK(std::abs(s["cca"]["value"].get<double>() - truth) < 0.09);
    CHECK(s["cca"]["quantity"] == "mi_cca");
    // KSG in 6 dimensions reads low at n = 4000 (its bias grows with dimension, Kraskov et al.), but not below half.
    CHECK(s["ksg"]["value"].get<double>() > 0.5 * truth);
    CHECK(s["ksg"]["value"].get<double>() < truth + 0.1);
    CHECK(s.contains("ksg-2"));  // the second ksg (k 10) by its own name
    CHECK(s["ksg"]["samples"] == 4000);
}

TEST_CASE("the largest e^T term's share of a bound's held-out partition sum", "[mi][run][protocol]") {
    test::TempDir t("mi-test");
    // NWJ on 8 nats with all 4032 negatives of a batch of 64: a trained critic's negatives span many
    // nats, and a few carry the partition term, far above an even share (1/4032); InfoNCE's partition
    // is a softmax per row, not an e^T mean: none reported.
    auto spec = [&](const std::string& estimator) {
        return t.write(estimator + ".yaml",
            "name: conc-" + estimator + "\nkind: mi_estimation\nseed: 4\n"
            "data: {type: gaussian, dim: 5, mi: 8.0, size: 4096, batch_size: 64}\n"
            "objectives:\n  mi:\n    estimator: " + estimator + "\n"
            "    discriminator: {type: separable, critic_layers: [64], embed_dim: 16}\n    negatives: all\n"
            "optimizer: {lr: 1.0e-3}\ntrain: {steps: 600, log_every: 20}\n"
            "eval: {held_out_every: 100, patience: 10, held_out_batches: 8, probes: [], window: 100}\n"
            "output: {dir: " + (t.path / "runs").string() + "}\n");
    };
    const auto nwj = results(run(spec("nwj")));
    INFO(nwj["held_out"].dump());
    const double share = nwj["held_out"]["mi"]["largest_term_share"].get<double>();
    CHECK(share > 10.0 / 4032);  // measured 0.063: 250 even shares
    CHECK(share <= 1.0);
    CHECK(nwj["protocol"]["largest_term_share"].get<double>() == share);
    const auto infonce = results(run(spec("infonce")));
    CHECK_FALSE(infonce["held_out"]["mi"].contains("largest_term_share"));
}
