// What the runners share: building an encoder, scoring the objectives in a
// step, and the pieces of evaluation.
#include "experiment/runners/common.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <tuple>
#include <numeric>

#include "experiment/data_parallel.hpp"
#include "infomax/data/files.hpp"
#include "infomax/eval/mi.hpp"
#include "infomax/eval/probes.hpp"
#include "infomax/ops/ops.hpp"
#include "infomax/eval/plot.hpp"
#include "infomax/experiment/mi_term.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace infomax::detail {

void refuse(const Experiment& e, bool present, const std::string& key, const std::string& why) {
    if (present) e.fail(key, why);
}

void refuse_gan_keys(const Experiment& e) {
    if (!e.gan) return;
    for (const auto& [key, part] : {std::pair{"generator", &e.gan->generator}, std::pair{"noise", &e.gan->noise},
                                    std::pair{"critic", &e.gan->critic}})
        if (part->has_value()) e.fail(key, fmt::format("{}: is for kind gan", key));
}

Shape per_sample(const Var& v) { return Shape(v.shape().begin() + 1, v.shape().end()); }

std::pair<Var, Var> build_encoder(Model& m, const Experiment& e, const Registry& registry, BuildContext& ctx,
                                  bool needs_local) {
    if (!e.encoder) e.fail("encoder", fmt::format("a {} experiment needs an encoder", to_string(e.kind)));
    m.encoder_type = e.encoder->type;
    m.encoder = registry.create_as<Encoder>("encoder", m.encoder_type, e.params(*e.encoder), ctx);
    Shape xs{2};  // the dry-run batch
    xs.insert(xs.end(), m.input_shape.begin(), m.input_shape.end());
    Features f;
    at(e, "encoder", fmt::format("encoder '{}' does not accept the data's shape {}", m.encoder_type, to_string(m.input_shape)),
       [&] { f = m.encoder->encode(Var(Tensor::zeros(xs))); });
    if (!f.local.defined() && needs_local)
        e.fail("encoder", fmt::format("encoder '{}' has no local tap: add `- tap: local` where M is taken", m.encoder_type));
    if (!f.global.defined() || f.global.dim() != 2)
        e.fail("encoder", fmt::format("encoder '{}' gives y of shape {}: y must be a vector per sample", m.encoder_type,
                                      f.global.defined() ? to_string(f.global.shape()) : "(none)"));
    m.taps = {"global"};
    if (f.local.defined()) m.taps.insert(m.taps.end(), {"local", "local_pooled"});
    for (const auto& [name, t] : f.taps)
        if (std::find(m.taps.begin(), m.taps.end(), name) == m.taps.end()) m.taps.push_back(name);
    return {f.local, f.global};
}

Var add(const Var& total, const Var& v) { return total.defined() ? total + v : v; }

void score_objectives(Trainer& t, const Features& f, StepMetrics& out, Var& total) {
    Rng neg(t.seed(), fmt::format("negatives/{}", t.step()));
    for (auto& o : t.model().objectives) {
        const Bound b = score_rows(o, f.local, f.global, neg);  // alone: o.score
        out.emplace_back(o.column(), finite(b.value.item(), t.step() + 1,
                                            fmt::format("objective '{}' ({})", o.name, o.estimator->quantity())));
        for (const auto& r : b.readings) out.emplace_back(o.name + "." + r.name, r.value.item());
        total = add(total, b.loss * o.weight);
    }
}

struct FeatureSet {
    std::map<std::string, Tensor> by_tap;
    std::vector<std::int64_t> labels;
};

// The tap's features of an encoded batch, flattened to (rows, D).
Var tap_of(const Features& f, const std::string& tap) {
    if (tap == "global") return f.global;
    if (tap == "local") return ops::flatten(f.local);
    if (tap == "local_pooled") return ops::mean(f.local, {2, 3});
    for (auto& [name, t] : f.taps)
        if (name == tap) return ops::flatten(t);
    std::vector<std::string> known{"global", "local", "local_pooled"};
    for (auto& [name, t] : f.taps) known.push_back(name);
    throw Error(config::unknown_name("feature tap", tap, known));
}

// Frozen-encoder features of whole splits (concatenated) at the named taps,
// written into tensors sized once (a 60k x 6400 tap is 1.5 GB: no growing copies).
// `progress` counts samples: `before` were encoded earlier, `all` will be.
FeatureSet features(Model& m, const std::vector<std::string>& splits, const std::vector<std::string>& taps,
                    Progress& progress, std::int64_t before, std::int64_t all) {
    NoGradGuard ng;
    m.encoder->train(false);
    const std::int64_t chunk = 500;
    std::int64_t total = 0, done = 0;
    for (const auto& split : splits) total += m.data->size(split);
    FeatureSet out;
    for (const auto& split : splits)
        for (std::int64_t s = 0, n = m.data->size(split); s < n; s += chunk) {
            std::vector<std::int64_t> idx(std::min(chunk, n - s));
            std::iota(idx.begin(), idx.end(), s);
            Features f = m.encoder->encode(Var(m.data->batch(split, idx)));
            if (m.data->classes() > 0) {
                auto l = m.data->labels(split, idx);
                out.labels.insert(out.labels.end(), l.begin(), l.end());
            }
            for (const auto& tap : taps) {
                const Tensor v = tap_of(f, tap).value().plain();
                Tensor& dst = out.by_tap[tap];
                if (!dst.defined()) dst = Tensor::empty({total, v.size(1)});
                std::memcpy(dst.data() + done * v.size(1), v.data(), static_cast<std::size_t>(v.numel()) * sizeof(float));
            }
            done += static_cast<std::int64_t>(idx.size());
            progress.update(double(before + done) / double(all), fmt::format("{} of {} samples", before + done, all));
        }
    return out;
}


// The share of sum_j e^{t_j} over a batch's negative scores that its largest term carries (shifted by the max).
static double largest_term_share(const Var& negatives) {
    const Tensor t = negatives.value().plain();
    const float* v = t.data();
    const std::int64_t n = t.numel();
    if (n == 0) return 0;
    const double top = *std::max_element(v, v + n);
    double sum = 0;
    for (std::int64_t i = 0; i < n; ++i) sum += std::exp(double(v[i]) - top);
    return 1.0 / sum;
}

json held_out_bounds(EvalContext& c, const Sides& sides, bool knows_truth) {
    json r = json::object();  // an object even when nothing is added: callers update() with it
    Model& m = c.model;
    const Experiment& e = c.experiment;
    Log& log = c.log;
    // Held-out bounds: each objective on the test split, no training.
    const std::int64_t batch = e.data.batch_size;
    const std::string split = m.data->size("test") >= batch ? "test" : "validation";
    if (!m.objectives.empty() && !c.critics) {
        log.line("eval: no held-out bounds: the run has no checkpoint, so its trained critics are gone (the encoder alone "
                 "was restored)");
    } else if (!m.objectives.empty() && m.data->size(split) >= batch) {
        NoGradGuard ng;
        std::map<std::string, double> sums;
        std::map<std::string, std::vector<std::string>> readings;  // objective -> its MI readings' names, in order
        std::map<std::string, double> largest_share;  // e^T-weighted bounds: the largest term's share, summed over batches
        std::int64_t batches = 0;
        double truth = 0;
        const std::int64_t max_batches = e.eval.held_out_batches;
        const std::int64_t planned = max_batches == 0 ? m.data->size(split) / batch
                                                      : std::min(max_batches, m.data->size(split) / batch);
        Progress progress(log, c.live, fmt::format("eval: held-out bounds on {} batches of the {} split", planned, split));
        for (std::int64_t s = 0; s + batch <= m.data->size(split) && (max_batches == 0 || batches < max_batches);
             s += batch, ++batches) {
            std::vector<std::int64_t> idx(batch);
            std::iota(idx.begin(), idx.end(), s);
            const Features f = sides(split, idx, truth);
            Rng neg(0, fmt::format("eval negatives/{}", batches));
            for (auto& o : m.objectives) {
                Scores scores;
                const Bound b = o.score(f.local, f.global, neg, true, &scores);  // evaluation must not move DV's average
                if (o.estimator->exponential_partition()) largest_share[o.name] += largest_term_share(scores.neg);
                sums[o.name] += b.value.item();
                if (batches == 0)
                    for (const auto& reading : b.readings) readings[o.name].push_back(reading.name);
                for (const auto& reading : b.readings) sums[o.name + "." + reading.name] += reading.value.item();
            }
            progress.update(double(batches + 1) / double(planned), fmt::format("batch {} of {}", batches + 1, planned));
        }
        progress.finish("done");
        for (auto& o : m.objectives) {
            r["held_out"][o.name] = {{"quantity", o.estimator->quantity()}, {"value", sums[o.name] / double(batches)},
                                     {"split", split}, {"batches", batches}};
            // The MI readings of a divergence, each by name; `mi` is the first (what tables use).
            const auto& names = readings[o.name];
            for (const auto& name : names) r["held_out"][o.name][name] = sums[o.name + "." + name] / double(batches);
            if (!names.empty()) {
                r["held_out"][o.name]["mi"] = sums[o.name + "." + names.front()] / double(batches);
                r["held_out"][o.name]["mi_reading"] = names.front();
            }
            if (knows_truth && std::isfinite(truth)) r["held_out"][o.name]["true_mi"] = truth / double(batches);
            // How much of an e^T partition sum its largest term carries (the mean over batches of
            // max_j e^{t_j} / sum_j e^{t_j}, raw scores): reported, not yet a flag. A threshold that
            // tells a concentrated sum from a healthy one depends on the number of negatives and on
            // the bound's clipping (SMILE's), and is not calibrated yet (docs/estimators.md).
            if (o.estimator->exponential_partition())
                r["held_out"][o.name]["largest_term_share"] = largest_share[o.name] / double(batches);
            log.line(fmt::format("eval: held-out {} of objective {} on the {} split: {:.4f}{}", o.estimator->quantity(),
                                 o.name, split, sums[o.name] / double(batches),
                                 knows_truth && std::isfinite(truth) ? fmt::format(" (true MI {:.4f})", truth / double(batches))
                                                                    : ""));
        }
    }
    return r;
}

json classifier_accuracy(EvalContext& c) {
    json r = json::object();  // an object even when nothing is added: callers update() with it
    Model& m = c.model;
    Log& log = c.log;
    if (m.head && m.data->size("test") > 0) {  // kind supervised: the trained classifier itself
        NoGradGuard ng;
        m.encoder->train(false);
        m.head->train(false);
        const std::int64_t n = m.data->size("test");
        std::int64_t correct = 0;
        for (std::int64_t s = 0; s < n; s += 500) {
            std::vector<std::int64_t> idx(std::min<std::int64_t>(500, n - s));
            std::iota(idx.begin(), idx.end(), s);
            const auto labels = m.data->labels("test", idx);
            Var logits = m.head->forward(m.encoder->encode(Var(m.data->batch("test", idx))).global);
            correct += eval::count_correct(logits.value(), labels.data());
        }
        r["classifier"] = {{"test_accuracy", double(correct) / double(n)}, {"split", "test"}};
        log.line(fmt::format("eval: the trained classifier scores {:.2f}% on the test split", 100.0 * correct / n));
    }
    return r;
}

json probe_features(EvalContext& c) {
    json r = json::object();  // an object even when nothing is added: callers update() with it
    Model& m = c.model;
    const Experiment& e = c.experiment;
    Log& log = c.log;
    const RunDir& dir = c.dir;
    const bool export_features = c.export_features;
    const std::vector<std::string>& probes = e.eval.probes;
    const std::vector<std::string>& taps = e.eval.features;
    if (m.data->classes() == 0) {
        log.line("eval: the data has no labels: no probes");
        return r;
    }
    // Probes learn from every labelled sample that is not test: train and validation.
    const std::int64_t train_rows = m.data->size("train") + m.data->size("validation"),
                       all = train_rows + m.data->size("test");
    Progress extracting(log, c.live, fmt::format("eval: features at {} of {} train (with validation) and {} test samples",
                                                 fmt::join(taps, ", "), train_rows, m.data->size("test")));
    FeatureSet train = features(m, {"train", "validation"}, taps, extracting, 0, all),
               test = features(m, {"test"}, taps, extracting, train_rows, all);
    extracting.finish("done");
    if (export_features) {
        fs::create_directories(dir.features());
        for (const auto& [tap, t] : train.by_tap) data::write_npy(dir.feature_file("train", tap).string(), t);
        for (const auto& [tap, t] : test.by_tap) data::write_npy(dir.feature_file("test", tap).string(), t);
        // Labels as integers (int64), as numpy and scikit-learn expect class labels.
        data::write_npy(dir.feature_file("train", "labels").string(), train.labels);
        data::write_npy(dir.feature_file("test", "labels").string(), test.labels);
        log.line(fmt::format("eval: features exported to {}", dir.features().string()));
    }
    std::string table = fmt::format("{:<14} {:>8} {:>10} {:>10} {:>8}\n", "features", "probe", "train acc", "test acc", "seconds");
    for (const auto& tap : taps)
        for (const auto& probe : probes) {
            eval::Split tr{train.by_tap[tap], train.labels}, te{test.by_tap[tap], test.labels};
            eval::ProbeOptions po;
            po.seed = e.seed;
            po.max_iter = static_cast<int>(e.eval.linear_max_iter);
            Progress progress(log, c.live, fmt::format("eval: {} probe on {} ({}-d)", probe, tap, tr.x.size(1)));
            po.progress = [&progress](double fraction, const std::string& where) { progress.update(fraction, where); };
            eval::ProbeResult pr = eval::run_probe(probe, tr, te, m.data->classes(), po);
            progress.finish(fmt::format("test accuracy {:.2f}%{}", 100 * pr.test_accuracy,
                                        probe != "linear" ? ""
                                        : pr.converged
                                            ? fmt::format(" ({} iterations, converged)", pr.iterations)
                                            : fmt::format(" ({} iterations: not converged, raise eval.linear_max_iter)",
                                                          pr.iterations)));
            r["probes"][tap][probe] = {{"train_accuracy", pr.train_accuracy}, {"test_accuracy", pr.test_accuracy},
                                       {"seconds", pr.seconds}, {"dim", train.by_tap[tap].size(1)}};
            release_cached_memory();  // a probe's buffers (a standardised copy of the features) go back now
            if (probe == "linear")
                r["probes"][tap][probe].update({{"iterations", pr.iterations}, {"loss", pr.loss}, {"converged", pr.converged}});
            table += fmt::format("{:<14} {:>8} {:>9.2f}% {:>9.2f}% {:>8.1f}\n", tap, probe, 100 * pr.train_accuracy,
                                 100 * pr.test_accuracy, pr.seconds);
        }
    log.line(table);
    return r;
}

// The estimate at every logged step beside the truth: a table of bias,
// variance and MSE per level (mi_levels.md, .csv) and a plot (mi.svg).
json mi_levels(EvalContext& c) {
    Model& m = c.model;
    const Experiment& e = c.experiment;
    Log& log = c.log;
    const RunDir& dir = c.dir;
    json r = json::object();  // an object even when nothing is added: callers update() with it
    const std::int64_t window = e.eval.window;
    if (!fs::exists(dir.metrics_csv())) {  // train.steps: 0 (the sample estimators alone, say)
        log.line("eval: no training steps: no estimates per level");
        return r;
    }
    const eval::MetricsTable t = eval::read_metrics_csv(dir.metrics_csv().string());
    std::vector<std::string> estimates;
    // What estimates I: the bound itself when it is an MI bound (mi_*), else
    // every MI reading logged beside it (a divergence's: mi_smile, mi_nwj).
    std::vector<const Objective*> owner;  // the objective of each estimate
    for (const auto& o : m.objectives) {
        const std::string q = fmt::format("{}.{}", o.name, o.estimator->quantity());
        const std::size_t before = estimates.size();
        if (!o.estimator->quantity().starts_with("mi_"))
            for (const auto& c : t.columns)
                if (c.starts_with(o.name + ".mi_")) estimates.push_back(c);
        if (estimates.size() == before) estimates.push_back(q);
        owner.resize(estimates.size(), &o);
    }
    const std::size_t step_col = t.column("step");
    eval::Chart chart;
    chart.title = fmt::format("{}: MI estimate vs truth", e.name);
    chart.x_label = "step";
    chart.y_label = "nats";
    for (std::size_t k = 0; k < estimates.size(); ++k) {
        eval::Series s;
        s.label = estimates[k];
        const std::size_t col = t.column(estimates[k]);
        for (const auto& row : t.rows) {
            s.x.push_back(row[step_col]);
            s.y.push_back(row[col]);
        }
        chart.series.push_back(std::move(s));
        // A bound that cannot exceed a ceiling (InfoNCE: log(1 + negatives)) shows it.
        if (const double top = ceiling_of(*owner[k], e.data.batch_size); std::isfinite(top)) {
            eval::Series cap{fmt::format("{} cap {:.2f}", estimates[k], top), {}, {}, "#777777", true};
            cap.x = {t.rows.empty() ? 0.0 : t.rows.front()[step_col], t.rows.empty() ? 1.0 : t.rows.back()[step_col]};
            cap.y = {top, top};
            chart.series.push_back(cap);
        }
    }
    bool known = false;
    for (const auto& c : t.columns) known |= c == "true_mi";
    if (known) {
        eval::Series truth{"true MI", {}, {}, "#000000", true};
        const std::size_t col = t.column("true_mi");
        for (const auto& row : t.rows) {
            truth.x.push_back(row[step_col]);
            truth.y.push_back(row[col]);
        }
        chart.series.push_back(std::move(truth));
    }
    data::write_file_atomic(dir.mi_plot().string(), eval::svg(chart));
    r["plots"] = {dir.mi_plot().filename().string()};
    if (!known) {
        log.line("eval: the data does not know its true MI: no bias or MSE (see mi.svg for the estimates)");
        return r;
    }
    const auto stats = eval::mi_level_stats(t, estimates, window);
    std::string csv = "estimate,true_mi,first_step,last_step,rows,mean,median,q25,q75,bias,variance,mse\n";
    for (const auto& l : stats) {
        r["mi_levels"].push_back({{"estimate", l.estimate}, {"true_mi", l.true_mi}, {"first_step", l.first_step},
                                  {"last_step", l.last_step}, {"rows", l.rows}, {"mean", l.mean}, {"median", l.median},
                                  {"q25", l.q25}, {"q75", l.q75}, {"iqr", l.iqr}, {"bias", l.bias},
                                  {"variance", l.variance}, {"mse", l.mse}});
        // The verdict on a level: its median saturated.
        const auto k = static_cast<std::size_t>(std::find(estimates.begin(), estimates.end(), l.estimate) - estimates.begin());
        if (k < owner.size()) r["mi_levels"].back()["saturated"] = saturated(l.median, ceiling_of(*owner[k], e.data.batch_size));
        csv += fmt::format("{},{},{},{},{},{:.8g},{:.8g},{:.8g},{:.8g},{:.8g},{:.8g},{:.8g}\n", l.estimate, l.true_mi,
                           l.first_step, l.last_step, l.rows, l.mean, l.median, l.q25, l.q75, l.bias, l.variance, l.mse);
    }
    // Bias, variance and MSE against the true MI, one line per estimate (Song
    // and Ermon's figure 2): how each estimator degrades as I grows.
    for (auto [kind, field, unit] : {std::tuple{"bias", &eval::LevelStats::bias, "nats"},
                                     {"variance", &eval::LevelStats::variance, "nats²"},
                                     {"mse", &eval::LevelStats::mse, "nats²"}}) {
        eval::Chart chart;
        chart.title = fmt::format("{}: {} against the true MI", e.name, kind);
        chart.x_label = "true MI (nats)";
        chart.y_label = fmt::format("{} ({})", kind, unit);
        for (const auto& name : estimates) {
            eval::Series s;
            s.label = name;
            for (const auto& l : stats) {
                if (l.estimate != name) continue;
                s.x.push_back(l.true_mi);
                s.y.push_back(l.*field);
            }
            chart.series.push_back(std::move(s));
        }
        const fs::path file = dir.mi_statistic_plot(kind);
        data::write_file_atomic(file.string(), eval::svg(chart));
        r["plots"].push_back(file.filename().string());
    }
    const std::string md = eval::mi_level_table_markdown(stats);
    data::write_file_atomic(dir.mi_levels_csv().string(), csv);
    data::write_file_atomic(dir.mi_levels_md().string(), md);
    log.line(fmt::format("eval: estimates over the last {} steps of each level (mi_levels.md, mi.svg)\n{}", window, md));
    return r;
}

// Generated samples against the data's modes (modes covered, high-quality
// share) and a scatter plot (samples.svg).
json generated_samples(EvalContext& c) {
    Model& m = c.model;
    const Experiment& e = c.experiment;
    Log& log = c.log;
    const RunDir& dir = c.dir;
    json r = json::object();  // an object even when nothing is added: callers update() with it
    const std::int64_t n = e.eval.samples;
    NoGradGuard ng;
    m.generator->train(false);
    Rng rng(e.seed, "eval noise");
    const Tensor x = m.generator->encode(Var(m.noise->sample({n, m.noise_dim}, rng))).global.value();
    data::write_npy(dir.samples().string(), x);
    const auto xs = x.to_vector();
    eval::Chart chart;
    chart.title = fmt::format("{}: {} generated samples", e.name, n);
    chart.x_label = "x1";
    chart.y_label = "x2";
    chart.equal_axes = true;
    eval::Series gen;
    gen.label = "generated";
    gen.points = true;
    for (std::int64_t i = 0; i < n; ++i) {
        gen.x.push_back(xs[2 * i]);
        gen.y.push_back(xs[2 * i + 1]);
    }
    const Tensor centers = m.data->mode_centers();
    if (centers.defined()) {
        const auto cs = centers.to_vector();
        eval::Series modes{"modes", {}, {}, "#d62728"};
        modes.points = true;
        modes.radius = 3;
        double lim = 0;
        for (std::size_t i = 0; i < cs.size(); i += 2) {
            modes.x.push_back(cs[i]);
            modes.y.push_back(cs[i + 1]);
            lim = std::max({lim, std::abs(double(cs[i])), std::abs(double(cs[i + 1]))});
        }
        lim += 1.0;  // the plot frames the target, like the MINE/NWJ library's figures
        chart.x_min = chart.y_min = -lim;
        chart.x_max = chart.y_max = lim;
        chart.series = {gen, modes};
        const eval::ModeCoverage c = eval::mode_coverage(x, centers, m.data->mode_std());
        r["gan"] = {{"samples", c.samples}, {"modes", c.modes}, {"modes_covered", c.covered},
                    {"high_quality", c.high_quality}, {"high_quality_share", c.high_quality_share},
                    {"covered_threshold", c.threshold}, {"per_mode", c.per_mode}};
        log.line(fmt::format("eval: {} of {} modes covered (>= {} samples within 3 std), {:.1f}% of {} samples of high "
                             "quality; samples.svg",
                             c.covered, c.modes, c.threshold, 100 * c.high_quality_share, c.samples));
    } else {
        chart.series = {gen};
        log.line("eval: the data reports no modes: samples.svg only");
    }
    data::write_file_atomic(dir.samples_plot().string(), eval::svg(chart));
    r["plots"] = {dir.samples_plot().filename().string()};
    return r;
}



}  // namespace infomax::detail

namespace infomax::detail {

namespace {

// A batch for a measure: the input flattened (MINE only) and y.
struct MeasureBatch {
    Var x, y;
};
using MeasureSource = std::function<MeasureBatch(std::int64_t b, Rng* draw)>;  // test batch b, or a random one

// One measure read the one way, whatever the batches: a fresh critic trained
// `steps` batches drawn from `source`, its value the mean over `test_batches`.
double measure_once(const std::string& name, const MeasureSource& source, std::int64_t x_dim, std::int64_t y_dim,
                    std::int64_t steps, std::int64_t test_batches, std::uint64_t seed, const std::string& stream,
                    const std::function<void(double)>& progress) {
    Rng draw(seed, stream);
    double value = 0;
    if (name == "mine") {
        MiTermOptions o;
        o.estimator = "dv";
        o.discriminator = "{type: joint, critic_layers: [256, 256]}";
        o.lr = 1e-3f;
        o.seed = seed;
        MiTerm mine(o, Shape{x_dim}, Shape{y_dim});
        for (std::int64_t s = 0; s < steps; ++s) {
            const MeasureBatch b = source(0, &draw);
            mine.train_critic(b.x, b.y);
            progress(double(s + 1) / double(steps));
        }
        for (std::int64_t t = 0; t < test_batches; ++t) {
            const MeasureBatch b = source(t, nullptr);
            NoGradGuard ng;
            value += mine(b.x, b.y).value.item() / double(test_batches);
        }
        return value;
    }
    eval::NdmOptions o;  // ndm
    o.steps = steps;
    o.seed = seed;
    std::vector<Tensor> test;
    for (std::int64_t t = 0; t < test_batches; ++t) test.push_back(source(t, nullptr).y.value());
    return eval::neural_dependency([&] { return source(0, &draw).y.value(); }, test, o, progress);
}

// The known-MI proxy as a measure's batches (eval::gaussian_proxy): test
// batch b is the same each time it is asked for.
MeasureSource proxy_source(const std::string& name, const eval::GaussianProxy& p, std::int64_t batch, std::int64_t x_dim,
                           std::int64_t y_dim, std::uint64_t seed) {
    return [=](std::int64_t b, Rng* draw) {
        Rng fixed(seed, fmt::format("measure proxy test/{}", b));
        const eval::ProxySample s =
            eval::sample_gaussian_proxy(p, batch, name == "mine" ? x_dim : 0, y_dim, draw ? *draw : fixed);
        return MeasureBatch{s.x.defined() ? Var(s.x) : Var(), Var(s.y)};
    };
}

}  // namespace

// The DIM paper's measures of a frozen encoder's y, each a critic trained on
// the training split and read (DV form, nats) on the test split:
//  ndm:  y against y with every dimension shuffled across the batch on its
//        own: 0 when y's dimensions are independent (the neural dependency measure);
//  mine: I(X; Y) between the input and y, MINE's estimate (MiTerm, dv, a joint critic).
// Each is then calibrated: the same measure (critic, steps, batches) on a
// Gaussian proxy of the same dimensions whose truth is the value just read;
// its bias is reported beside the value, and a warning said past 1 nat.
json representation_measures(EvalContext& c) {
    Model& m = c.model;
    const Experiment& e = c.experiment;
    json r = json::object();
    if (e.eval.measures.empty() || !m.encoder) return r;
    const std::int64_t batch = e.data.batch_size, steps = e.eval.measure_steps;
    const std::string split = m.data->size("test") >= batch ? "test" : "validation";
    if (m.data->size(split) < batch || m.data->size("train") < batch) {
        c.log.line("eval: no representation measures: fewer samples than a batch in the train or test split");
        return r;
    }
    m.encoder->train(false);
    // A batch of inputs (flattened) and their y, the encoder frozen: test
    // batch b of the split, or a random training batch.
    const MeasureSource encoded = [&](std::int64_t b, Rng* rng) {
        const std::string s = rng ? "train" : split;
        std::vector<std::int64_t> idx(batch);
        for (std::int64_t i = 0; i < batch; ++i)
            idx[i] = rng ? static_cast<std::int64_t>(rng->next_u64() % std::uint64_t(m.data->size(s))) : b * batch + i;
        NoGradGuard ng;
        Tensor x = m.data->batch(s, idx);
        Tensor y = m.encoder->encode(Var(x)).global.value();
        return MeasureBatch{ops::reshape(Var(x), {batch, x.numel() / batch}), Var(y)};
    };
    const std::int64_t test_batches = std::min<std::int64_t>(20, m.data->size(split) / batch);
    const std::int64_t dim = m.global_shape.empty() ? 0 : m.global_shape[0];
    std::int64_t x_dim = 1;  // the input, flattened
    for (auto d : m.input_shape) x_dim *= d;
    for (const auto& name : e.eval.measures) {
        Progress progress(c.log, c.live, fmt::format("eval: {} critic, {} steps, then on a known-MI proxy", name, steps));
        const double value =
            measure_once(name, encoded, x_dim, dim, steps, test_batches, e.seed, "measure batches/" + name,
                         [&](double f) { progress.update(f / 2, "critic steps"); });
        const std::int64_t pairs = name == "mine" ? std::min(x_dim, dim) : dim / 2;
        json measure = {{"value", value}, {"quantity", name == "mine" ? "mi_dv" : "ndm_dv"}, {"split", split},
                        {"batches", test_batches}, {"steps", steps}};
        std::string calibrated = "not calibrated: y has one dimension";
        if (pairs > 0) {
            const eval::GaussianProxy p = eval::gaussian_proxy(value, pairs);
            const double proxy_value =
                measure_once(name, proxy_source(name, p, batch, x_dim, dim, e.seed), x_dim, dim, steps, test_batches,
                             e.seed, "measure proxy batches/" + name,
                             [&](double f) { progress.update(0.5 + f / 2, "proxy critic steps"); });
            const double bias = proxy_value - p.truth;
            measure["calibration"] = {{"true_mi", p.truth}, {"estimate", proxy_value}, {"bias", bias},
                                      {"proxy", fmt::format("Gaussian, {} pair{} of correlation {:.4f}", pairs,
                                                            pairs == 1 ? "" : "s", p.rho)}};
            calibrated = fmt::format("on a Gaussian proxy of {:.4f} nats it reads {:.4f}, a bias of {:+.4f}", p.truth,
                                     proxy_value, bias);
            if (std::abs(bias) > 1.0 || !std::isfinite(bias)) {
                measure["warning"] = fmt::format("the measure is off by {:+.2f} nats on a Gaussian proxy of its own "
                                                 "value and dimensions: read it as a ranking at most", bias);
                console::warn(fmt::format("eval: {}: {}", name, measure["warning"].get<std::string>()));
            }
        }
        progress.finish("done");
        r["measures"][name] = measure;
        c.log.line(fmt::format("eval: {} of y on the {} split: {:.4f} nats ({} critic steps); {}",
                               name == "mine" ? "MINE's I(X; Y)" : "NDM", split, value, steps, calibrated));
    }
    return r;
}

json protocol_results(EvalContext& c, const HeldOutState& h, const std::string& column) {
    std::vector<double> training;  // one estimate per logged row
    const eval::MetricsTable t = eval::read_metrics_csv(c.dir.metrics_csv().string());
    const std::size_t col = t.column(column);
    for (const auto& row : t.rows) training.push_back(row[col]);
    const ConvergenceCheck flags = convergence_of(training);
    json evaluations = json::array();
    for (const auto& [s, v] : h.evaluations) evaluations.push_back({s, v});
    const double ceiling = ceiling_of(c.model.objectives.front(), c.experiment.data.batch_size);
    json r{{"estimate", h.best},
           {"best_step", h.best_step},
           {"evaluations", evaluations},
           {"tracked", column},
           {"flags",
            {{"early_stopping_not_triggered", !h.stopped_early},
             {"max_training_mi_decreased", flags.max_training_mi_decreased},
             {"training_mi_still_increasing", flags.training_mi_still_increasing},
             {"saturated", saturated(h.best, ceiling)}}}};
    if (std::isfinite(ceiling)) r["ceiling"] = ceiling;
    std::vector<std::string> raised;
    for (const auto& [k, v] : r["flags"].items())
        if (v.get<bool>()) raised.push_back(k);
    r["flagged"] = !raised.empty();
    // The interval: a 95% percentile bootstrap of the best evaluation's mean over its held-out batches.
    const auto [lo, hi] = bootstrap_interval(h.best_batches, 0.95, 2000, c.experiment.seed);
    if (std::isfinite(lo)) r["interval"] = {lo, hi};
    const double truth = c.model.data->size("test") > 0 ? c.model.data->true_mi("test", 0) : NAN;
    if (std::isfinite(truth)) {
        r["true_mi"] = truth;
        r["bias"] = h.best - truth;
        if (std::isfinite(lo)) r["covers_truth"] = lo <= truth && truth <= hi;
    }
    c.log.line(fmt::format("eval: the protocol's estimate (best held-out {}) {:.4f} at step {}{}{}; flags: {}", column, h.best,
                           h.best_step, std::isfinite(lo) ? fmt::format(", 95% interval [{:.4f}, {:.4f}]", lo, hi) : "",
                           std::isfinite(truth) ? fmt::format(" (true MI {:.4f})", truth) : "",
                           raised.empty() ? "none" : fmt::format("{}", fmt::join(raised, ", "))));
    return r;
}

json sample_estimates(EvalContext& c) {
    json r = json::object();
    Model& m = c.model;
    if (m.sample_estimators.empty()) return r;
    // The whole sample, both splits (nothing is trained), as bmi gives a classical estimator all N pairs.
    const std::int64_t n_train = m.data->size("train"), n = n_train + m.data->size("test");
    NoGradGuard ng;
    auto whole = [&](bool z) {
        std::vector<Var> splits;
        for (const char* split : {"train", "test"}) {
            std::vector<std::int64_t> idx(m.data->size(split));
            std::iota(idx.begin(), idx.end(), 0);
            if (!idx.empty()) splits.emplace_back(z ? m.data->pair(split, idx) : m.data->batch(split, idx));
        }
        return ops::concat(splits, 0).value();
    };
    const Tensor x = whole(false), y = whole(true);
    const double truth = n > 0 ? m.data->true_mi("test", 0) : NAN;
    for (const auto& [type, est] : m.sample_estimators) {
        std::string name = type;  // ksg twice (k 5 and k 10): ksg, ksg-2
        for (int k = 2; r.contains("sample_estimates") && r["sample_estimates"].contains(name); ++k) name = fmt::format("{}-{}", type, k);
        const auto start = std::chrono::steady_clock::now();
        const double value = est->estimate(x, y);
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        json& j = r["sample_estimates"][name];
        j = {{"value", value}, {"quantity", est->quantity()}, {"samples", n}, {"seconds", secs}};
        if (std::isfinite(truth)) {
            j["true_mi"] = truth;
            j["bias"] = value - truth;
        }
        c.log.line(fmt::format("eval: {} ({}) on the {} pairs of both splits: {:.4f}{} ({:.2f} s)", name, est->quantity(), n, value,
                               std::isfinite(truth) ? fmt::format(" (true MI {:.4f})", truth) : "", secs));
    }
    return r;
}

}  // namespace infomax::detail
