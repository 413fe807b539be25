#include "infomax/experiment/run.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>

#include <tbb/task_group.h>

#include "experiment/interrupts.hpp"
#include "run_dir/run_dir.hpp"
#include "experiment/trainer.hpp"
#include "infomax/data/files.hpp"
#include "infomax/eval/mi.hpp"
#include "infomax/eval/probes.hpp"
#include "infomax/experiment/session.hpp"
#include "infomax/experiment/suite.hpp"
#include "infomax/report/plot.hpp"
#include "infomax/ops/ops.hpp"
#include "infomax/runtime/error.hpp"
#include "infomax/runtime/precision.hpp"
#include "infomax/runtime/threads.hpp"
#include "infomax/version.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace infomax {

using detail::create_run_dir;
using detail::file_hash;
using detail::latest_checkpoint;
using detail::local_time;
using detail::Log;
using detail::Metrics;

namespace {

std::atomic<bool> g_stop{false};





}  // namespace




namespace {

json manifest(const Experiment& e, const Registry& registry, const Model& m) {
    json j;
    j["seed"] = e.seed;
    j["infomax"] = {{"version", version()}, {"git_commit", INFOMAX_GIT_COMMIT}, {"plugin_abi", kAbiVersion}};
    j["libraries"] = build_info();
    j["threads"] = threads();
    j["started"] = local_time("{:%Y-%m-%dT%H:%M:%S%z}");
    char host[256] = {0};
    gethostname(host, sizeof host - 1);
    j["host"] = host;
    j["cpu"] = cpu_model();
    json parts = json::array();
    std::map<std::string, std::string> hashes;
    for (const auto* e : registry.entries()) {
        if (!hashes.count(e->file)) hashes[e->file] = file_hash(e->file);
        parts.push_back({{"kind", e->kind}, {"name", e->name}, {"version", e->version}, {"file", e->file},
                         {"file_hash", hashes[e->file]}});
    }
    j["plugins"] = parts;
    j["model"] = m.summary();
    return j;
}


std::string product_file(const Model& m) { return m.generator ? "generator.safetensors" : "encoder.safetensors"; }


std::string eta(double seconds) {
    const auto s = static_cast<long>(seconds);
    return fmt::format("{}:{:02d}:{:02d}", s / 3600, (s / 60) % 60, s % 60);
}

// ---- evaluation ------------------------------------------------------------------
struct FeatureSet {
    std::map<std::string, Tensor> by_tap;
    std::vector<std::int64_t> labels;
};

// Frozen-encoder features of whole splits (concatenated) at the named taps.
FeatureSet features(Model& m, const std::vector<std::string>& splits, const std::vector<std::string>& taps) {
    NoGradGuard ng;
    m.encoder->train(false);
    const std::int64_t chunk = 500;
    FeatureSet out;
    std::map<std::string, std::vector<float>> acc;
    std::map<std::string, std::int64_t> dims;
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
            Var v;
            if (tap == "global") v = f.global;
            else if (tap == "local") v = ops::flatten(f.local);
            else if (tap == "local_pooled") v = ops::mean(f.local, {2, 3});
            else {
                for (auto& [name, t] : f.taps)
                    if (name == tap) v = ops::flatten(t);
                if (!v.defined()) {
                    std::vector<std::string> known{"global", "local", "local_pooled"};
                    for (auto& [name, t] : f.taps) known.push_back(name);
                    throw Error(config::unknown_name("feature tap", tap, known));
                }
            }
            auto vals = v.value().to_vector();
            dims[tap] = v.size(1);
            acc[tap].insert(acc[tap].end(), vals.begin(), vals.end());
        }
    }
    for (auto& [tap, vals] : acc) out.by_tap[tap] = Tensor::from({static_cast<std::int64_t>(vals.size()) / dims[tap], dims[tap]}, vals);
    return out;
}

json evaluate_mi(Model& m, const Experiment& e, Log& log, const fs::path& dir);
json evaluate_gan(Model& m, const Experiment& e, Log& log, const fs::path& dir);

json evaluate(Model& m, const Experiment& e, Log& log, const fs::path& dir, bool export_features) {
    if (m.kind == Kind::gan) return evaluate_gan(m, e, log, dir);
    json r;
    const std::vector<std::string>& probes = e.eval.probes;
    const std::vector<std::string>& taps = e.eval.features;
    // Held-out bounds: each objective on the test split, no training.
    const std::int64_t batch = e.data.batch_size;
    const std::string split = m.data->size("test") >= batch ? "test" : "validation";
    if (!m.objectives.empty() && m.data->size(split) >= batch) {
        NoGradGuard ng;
        if (m.encoder) m.encoder->train(false);
        std::map<std::string, double> sums;
        std::int64_t batches = 0;
        double truth = 0;
        const std::int64_t max_batches = e.eval.held_out_batches;
        for (std::int64_t s = 0; s + batch <= m.data->size(split) && (max_batches == 0 || batches < max_batches);
             s += batch, ++batches) {
            std::vector<std::int64_t> idx(batch);
            std::iota(idx.begin(), idx.end(), s);
            Features f;
            if (m.encoder) {
                f = m.encoder->encode(Var(m.data->batch(split, idx)));
            } else {  // mi_estimation: the data's own pairs
                f.local = Var(m.data->batch(split, idx));
                f.global = Var(m.data->pair(split, idx));
                for (auto i : idx) truth += m.data->true_mi(split, i) / double(batch);
            }
            Rng neg(0, fmt::format("eval negatives/{}", batches));
            for (auto& o : m.objectives) {
                const auto state = o.estimator->state();  // evaluation must not move DV's average
                Bound b = o.estimator->bound(make_scores(*o.discriminator, f.local, f.global, o.negatives, neg,
                                                         o.negative_samples));
                sums[o.name] += b.value.item();
                if (b.mi.defined()) sums[o.name + ".mi"] += b.mi.item();
                o.estimator->set_state(state);
            }
        }
        for (auto& o : m.objectives) {
            r["held_out"][o.name] = {{"quantity", o.estimator->quantity()}, {"value", sums[o.name] / double(batches)},
                                     {"split", split}, {"batches", batches}};
            if (sums.count(o.name + ".mi")) r["held_out"][o.name]["mi"] = sums[o.name + ".mi"] / double(batches);
            if (!m.encoder && std::isfinite(truth)) r["held_out"][o.name]["true_mi"] = truth / double(batches);
            log.line(fmt::format("eval: held-out {} of objective {} on the {} split: {:.4f}{}", o.estimator->quantity(),
                                 o.name, split, sums[o.name] / double(batches),
                                 !m.encoder && std::isfinite(truth) ? fmt::format(" (true MI {:.4f})", truth / double(batches))
                                                                    : ""));
        }
    }
    if (m.kind == Kind::mi_estimation) {
        r.update(evaluate_mi(m, e, log, dir));
        return r;
    }
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
    if (m.data->classes() == 0) {
        log.line("eval: the data has no labels: no probes");
        return r;
    }
    // Probes learn from every labelled sample that is not test: train and validation.
    log.line(fmt::format("eval: features at {} for {} train (with validation) and {} test samples", fmt::join(taps, ", "),
                         m.data->size("train") + m.data->size("validation"), m.data->size("test")));
    FeatureSet train = features(m, {"train", "validation"}, taps), test = features(m, {"test"}, taps);
    if (export_features) {
        fs::create_directories(dir / "features");
        for (const auto& [tap, t] : train.by_tap) data::write_npy((dir / "features" / ("train-" + tap + ".npy")).string(), t);
        for (const auto& [tap, t] : test.by_tap) data::write_npy((dir / "features" / ("test-" + tap + ".npy")).string(), t);
        auto labels = [](const std::vector<std::int64_t>& l) {
            std::vector<float> v(l.begin(), l.end());
            return Tensor::from({static_cast<std::int64_t>(v.size())}, v);
        };
        data::write_npy((dir / "features" / "train-labels.npy").string(), labels(train.labels));
        data::write_npy((dir / "features" / "test-labels.npy").string(), labels(test.labels));
        log.line(fmt::format("eval: features exported to {}", (dir / "features").string()));
    }
    std::string table = fmt::format("{:<14} {:>8} {:>10} {:>10} {:>8}\n", "features", "probe", "train acc", "test acc", "seconds");
    for (const auto& tap : taps)
        for (const auto& probe : probes) {
            eval::Split tr{train.by_tap[tap], train.labels}, te{test.by_tap[tap], test.labels};
            eval::ProbeOptions po;
            po.seed = e.seed;
            po.max_iter = static_cast<int>(e.eval.linear_max_iter);
            eval::ProbeResult pr = probe == "linear" ? eval::linear_probe(tr, te, m.data->classes(), po)
                                   : probe == "mlp"  ? eval::mlp_probe(tr, te, m.data->classes(), po)
                                                     : eval::knn_probe(tr, te, m.data->classes(), po);
            r["probes"][tap][probe] = {{"train_accuracy", pr.train_accuracy}, {"test_accuracy", pr.test_accuracy},
                                       {"seconds", pr.seconds}, {"dim", train.by_tap[tap].size(1)}};
            table += fmt::format("{:<14} {:>8} {:>9.2f}% {:>9.2f}% {:>8.1f}\n", tap, probe, 100 * pr.train_accuracy,
                                 100 * pr.test_accuracy, pr.seconds);
        }
    log.line(table);
    return r;
}

// The estimate at every logged step beside the truth: a table of bias,
// variance and MSE per level (mi_levels.md, .csv) and a plot (mi.svg).
json evaluate_mi(Model& m, const Experiment& e, Log& log, const fs::path& dir) {
    json r;
    const std::int64_t window = e.eval.window;
    const eval::MetricsTable t = eval::read_metrics_csv((dir / "metrics.csv").string());
    std::vector<std::string> estimates;
    // What estimates I: the bound itself, or its MI reading (JSD).
    auto column_of = [&](const Objective& o) {
        const std::string q = fmt::format("{}.{}", o.name, o.estimator->quantity());
        for (const auto& c : t.columns)
            if (c == o.name + ".mi") return c;
        return q;
    };
    for (const auto& o : m.objectives) estimates.push_back(column_of(o));
    const std::size_t step_col = t.column("step");
    report::Chart chart;
    chart.title = fmt::format("{}: MI estimate vs truth", e.name);
    chart.x_label = "step";
    chart.y_label = "nats";
    for (std::size_t k = 0; k < estimates.size(); ++k) {
        report::Series s;
        s.label = estimates[k];
        const std::size_t col = t.column(estimates[k]);
        for (const auto& row : t.rows) {
            s.x.push_back(row[step_col]);
            s.y.push_back(row[col]);
        }
        chart.series.push_back(std::move(s));
        const auto& o = m.objectives[k];
        if (o.estimator->quantity() == "mi_infonce") {  // InfoNCE cannot exceed log(1 + negatives)
            const std::int64_t batch = e.data.batch_size;
            const double negs = o.negatives == "all" ? double(batch - 1) : double(o.negative_samples);
            report::Series cap{fmt::format("log({:g}) cap", negs + 1), {}, {}, "#777777", true};
            cap.x = {t.rows.empty() ? 0.0 : t.rows.front()[step_col], t.rows.empty() ? 1.0 : t.rows.back()[step_col]};
            cap.y = {std::log(negs + 1), std::log(negs + 1)};
            chart.series.push_back(cap);
        }
    }
    bool known = false;
    for (const auto& c : t.columns) known |= c == "true_mi";
    if (known) {
        report::Series truth{"true MI", {}, {}, "#000000", true};
        const std::size_t col = t.column("true_mi");
        for (const auto& row : t.rows) {
            truth.x.push_back(row[step_col]);
            truth.y.push_back(row[col]);
        }
        chart.series.push_back(std::move(truth));
    }
    data::write_file_atomic((dir / "mi.svg").string(), report::svg(chart));
    r["plots"] = {"mi.svg"};
    if (!known) {
        log.line("eval: the data does not know its true MI: no bias or MSE (see mi.svg for the estimates)");
        return r;
    }
    const auto stats = eval::mi_level_stats(t, estimates, window);
    std::string csv = "estimate,true_mi,first_step,last_step,rows,mean,bias,variance,mse\n";
    for (const auto& l : stats) {
        r["mi_levels"].push_back({{"estimate", l.estimate}, {"true_mi", l.true_mi}, {"first_step", l.first_step},
                                  {"last_step", l.last_step}, {"rows", l.rows}, {"mean", l.mean}, {"bias", l.bias},
                                  {"variance", l.variance}, {"mse", l.mse}});
        csv += fmt::format("{},{},{},{},{},{:.8g},{:.8g},{:.8g},{:.8g}\n", l.estimate, l.true_mi, l.first_step, l.last_step,
                           l.rows, l.mean, l.bias, l.variance, l.mse);
    }
    const std::string md = eval::mi_level_table_markdown(stats);
    data::write_file_atomic((dir / "mi_levels.csv").string(), csv);
    data::write_file_atomic((dir / "mi_levels.md").string(), md);
    log.line(fmt::format("eval: estimates over the last {} steps of each level (mi_levels.md, mi.svg)\n{}", window, md));
    return r;
}

// Generated samples against the data's modes (modes covered, high-quality
// share) and a scatter plot (samples.svg).
json evaluate_gan(Model& m, const Experiment& e, Log& log, const fs::path& dir) {
    json r;
    const std::int64_t n = e.eval.samples;
    NoGradGuard ng;
    m.generator->train(false);
    Rng rng(e.seed, "eval noise");
    const Tensor x = m.generator->encode(Var(m.noise->sample({n, m.noise_dim}, rng))).global.value();
    data::write_npy((dir / "samples.npy").string(), x);
    const auto xs = x.to_vector();
    report::Chart chart;
    chart.title = fmt::format("{}: {} generated samples", e.name, n);
    chart.x_label = "x1";
    chart.y_label = "x2";
    chart.equal_axes = true;
    report::Series gen;
    gen.label = "generated";
    gen.points = true;
    for (std::int64_t i = 0; i < n; ++i) {
        gen.x.push_back(xs[2 * i]);
        gen.y.push_back(xs[2 * i + 1]);
    }
    const Tensor centers = m.data->mode_centers();
    if (centers.defined()) {
        const auto cs = centers.to_vector();
        report::Series modes{"modes", {}, {}, "#d62728"};
        modes.points = true;
        modes.radius = 3;
        double lim = 0;
        for (std::size_t i = 0; i < cs.size(); i += 2) {
            modes.x.push_back(cs[i]);
            modes.y.push_back(cs[i + 1]);
            lim = std::max({lim, std::abs(double(cs[i])), std::abs(double(cs[i + 1]))});
        }
        lim += 1.0;  // the plot frames the target, like seed 004's figures
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
    data::write_file_atomic((dir / "samples.svg").string(), report::svg(chart));
    r["plots"] = {"samples.svg"};
    return r;
}


}  // namespace

void request_stop() { g_stop.store(true); }
bool stop_requested() { return g_stop.load(); }

std::string resolved_hash(const std::string& resolved_yaml) { return fmt::format("{:016x}", detail::fnv64(resolved_yaml)).substr(0, 8); }

RunResult run_experiment(const RunOptions& opt) {
    // First, before any oneDNN or TBB thread exists: see interrupts.hpp.
    detail::InterruptGuard interrupts(g_stop);
    Session session({opt.threads, opt.plugin_paths});
    const bool resuming = !opt.resume.empty();
    fs::path dir;
    std::string spec_file = opt.spec;
    std::vector<std::string> overrides = opt.overrides;
    if (resuming) {
        dir = opt.resume;
        spec_file = (dir / "resolved.yaml").string();
        if (!fs::exists(spec_file))
            throw Error(fmt::format("{}: not a run directory (no resolved.yaml)", opt.resume));
        if (!overrides.empty()) throw Error("--resume continues a run as it was: overrides are not allowed");
    }
    const Experiment e = session.load(spec_file, overrides);
    session.apply(e);
    Model model = build_model(e, session.registry());
    detail::Trainer trainer(model, e);

    std::int64_t restored = -1;
    if (resuming) {
        const std::string ck = latest_checkpoint(dir);
        if (ck.empty()) throw Error(fmt::format("{}: no checkpoint to resume from (checkpoints/ is empty)", opt.resume));
        trainer.restore(data::read_safetensors(ck));
        restored = trainer.step();
        // Finished and evaluated: nothing to continue, nothing to overwrite. A run
        // that trained to the end but died before its results resumes into
        // the evaluation alone.
        if (restored >= trainer.total_steps() && fs::exists(dir / "results.json"))
            throw Error(fmt::format("{}: this run is complete ({} of {} steps); evaluate it again with: infomax eval {}",
                                    opt.resume, restored, trainer.total_steps(), opt.resume));
    } else {
        // Everything checked: now, and only now, make the directory.
        dir = create_run_dir(e, resolved_hash(e.resolved_yaml));
        data::write_file_atomic((dir / "resolved.yaml").string(), e.resolved_yaml);
        data::write_file_atomic((dir / "manifest.json").string(), manifest(e, session.registry(), model).dump(2) + "\n");
    }
    Log log(dir / "log.txt");
    Metrics metrics(dir, restored);
    log.line(fmt::format("{} {} ({} steps of batch {}, {}; threads {})", resuming ? "resuming" : "run", dir.string(),
                         trainer.total_steps(), trainer.batch_size(),
                         model.data->streamed() ? "fresh samples every step"
                                                : fmt::format("{} per epoch", trainer.steps_per_epoch()),
                         threads()));
    if (resuming) log.line(fmt::format("restored step {} from {}", restored, latest_checkpoint(dir)));

    const std::int64_t log_every = e.train.log_every;
    // Default: every epoch; streamed data has no epochs: every tenth of the run.
    const std::int64_t ck_every = e.train.checkpoint_every ? *e.train.checkpoint_every
                                  : model.data->streamed() ? std::max<std::int64_t>(1, trainer.total_steps() / 10)
                                                           : trainer.steps_per_epoch();
    const bool tty = opt.progress && isatty(STDOUT_FILENO);
    g_stop.store(false);
    interrupts.arm();
    RunResult result{dir.string(), 0, false};
    std::vector<std::pair<std::string, double>> sums;
    std::int64_t in_window = 0;
    auto t0 = Clock::now(), window_start = t0, last_print = t0 - std::chrono::hours(1);
    const std::int64_t first = trainer.step();
    try {
        // The next batch is prepared by a TBB task while the current step
        // trains (batches are a pure function of the step, so the bits do not change).
        tbb::task_group prefetch;
        detail::Trainer::Batch next;
        if (trainer.step() < trainer.total_steps()) next = trainer.next_batch();
        while (trainer.step() < trainer.total_steps()) {
            detail::Trainer::Batch current = std::move(next);
            const std::int64_t ahead = trainer.step() + 1;
            if (ahead < trainer.total_steps()) prefetch.run([&next, &trainer, ahead] { next = trainer.batch_for(ahead); });
            std::vector<std::pair<std::string, double>> m;
            try {
                m = trainer.train_step(current);
            } catch (...) {
                prefetch.wait();
                throw;
            }
            prefetch.wait();
            if (sums.empty()) sums = m;
            else
                for (std::size_t i = 0; i < m.size(); ++i) sums[i].second += m[i].second;
            ++in_window;
            const std::int64_t s = trainer.step();
            if (opt.after_step) opt.after_step(s);
            const bool last = s == trainer.total_steps();
            if (s % log_every == 0 || last || g_stop.load()) {
                const double secs = std::chrono::duration<double>(Clock::now() - window_start).count();
                std::vector<std::pair<std::string, double>> row{{"step", double(s)},
                                                                {"epoch", double(s) / trainer.steps_per_epoch()}};
                for (auto& [k, v] : sums) row.emplace_back(k, v / in_window);
                row.emplace_back("images_per_s", in_window * trainer.batch_size() / secs);
                metrics.write(row);
                const double done = std::chrono::duration<double>(Clock::now() - t0).count();
                std::string bounds;
                for (auto& [k, v] : sums)
                    if (k != "loss" && k.find("loss") == std::string::npos) bounds += fmt::format(" {} {:.4f}", k, v / in_window);
                const std::string line = fmt::format(
                    "epoch {:.2f} step {}/{} | {:.0f} img/s | ETA {} |{}", double(s) / trainer.steps_per_epoch(), s,
                    trainer.total_steps(), in_window * trainer.batch_size() / secs,
                    eta(done / double(s - first) * double(trainer.total_steps() - s)), bounds);
                // Every row goes to metrics; the screen and log.txt get at most
                // one line per 0.2 s (terminal) or 2 s (log), plus the last.
                const double since = std::chrono::duration<double>(Clock::now() - last_print).count();
                if (tty && !last) {
                    if (since >= 0.2) {
                        fmt::print("\r{}\x1b[K", line);  // a live line on a terminal
                        std::fflush(stdout);
                        last_print = Clock::now();
                    }
                } else if (last || g_stop.load() || since >= 2.0 || log_every * 20 >= trainer.total_steps()) {
                    if (tty) fmt::print("\r");
                    log.line(line);
                    last_print = Clock::now();
                }
                sums.clear();
                in_window = 0;
                window_start = Clock::now();
            }
            if (s % ck_every == 0 || last || g_stop.load()) detail::save_checkpoint(dir, trainer.step(), trainer.checkpoint());
            if (g_stop.load() && !last) {
                result.interrupted = true;
                log.line(fmt::format("\ninterrupted at step {}: checkpoint written; continue with: infomax run --resume {}",
                                     s, dir.string()));
                break;
            }
        }
    } catch (const Error& e) {
        interrupts.disarm();
        const std::string ck = latest_checkpoint(dir);
        log.line(fmt::format("error: {}; last good checkpoint: {}", e.what(), ck.empty() ? "none" : ck));
        throw Error(fmt::format("{}; last good checkpoint: {}", e.what(), ck.empty() ? "none" : ck));
    }
    interrupts.disarm();
    result.steps = trainer.step();
    if (result.interrupted) return result;

    if (model.encoder || model.generator)
        data::write_safetensors((dir / product_file(model)).string(), trainer.encoder_weights());
    json results;
    results["train"] = {{"steps", trainer.step()},
                        {"seconds", std::chrono::duration<double>(Clock::now() - t0).count()},
                        {"resumed_from_step", restored}};
    json ev = evaluate(model, e, log, dir, false);
    results.update(ev);
    data::write_file_atomic((dir / "results.json").string(), results.dump(2) + "\n");
    write_report(dir.string());
    log.line(fmt::format("results: {}", (dir / "results.json").string()));
    return result;
}

std::string evaluate_run(const EvalOptions& opt) {
    const fs::path dir = opt.run_dir;
    if (!fs::exists(dir / "resolved.yaml")) throw Error(fmt::format("{}: not a run directory (no resolved.yaml)", opt.run_dir));
    // Only how the run is evaluated may change: anything else would describe another run.
    for (std::size_t i = 0; i < opt.overrides.size(); ++i) {
        const std::string& o = opt.overrides[i];
        const std::string key = o.substr(o.find_first_not_of("+~"), o.find('=') == std::string::npos ? std::string::npos
                                                                                                      : o.find('=') - o.find_first_not_of("+~"));
        if (!key.starts_with("eval."))
            throw config::SpecError({{config::Origin{"", 0, 0, static_cast<int>(i) + 1, o}, key,
                                      "infomax eval re-evaluates a trained run: only eval.* settings can change here "
                                      "(train it again with infomax run for anything else)"}});
    }
    // Results are the run's only once it finished: an unfinished run is resumed, not evaluated.
    if (!fs::exists(dir / "results.json"))
        throw Error(fmt::format("{}: the run has not finished (no results.json); finish it (training, then its evaluation) "
                                "with: infomax run --resume {}",
                                opt.run_dir, opt.run_dir));
    Session session({opt.threads, opt.plugin_paths});
    const Experiment e = session.load((dir / "resolved.yaml").string(), opt.overrides);
    session.apply(e);
    Model model = build_model(e, session.registry());
    detail::Trainer trainer(model, e);
    std::string source = (dir / product_file(model)).string();
    if ((model.encoder || model.generator) && fs::exists(source)) {
        trainer.load_encoder_weights(data::read_safetensors(source));
    } else {
        source = latest_checkpoint(dir);
        if (source.empty()) throw Error(fmt::format("{}: no {} and no checkpoint", opt.run_dir, product_file(model)));
        trainer.restore(data::read_safetensors(source));
    }
    // A new file beside results.json, never over it (nor over an earlier evaluation).
    const std::string stamp = local_time("{:%Y%m%d-%H%M%S}");
    fs::path out = dir / fmt::format("results-eval-{}.json", stamp);
    for (int k = 2; fs::exists(out); ++k) out = dir / fmt::format("results-eval-{}-{}.json", stamp, k);
    Log log(dir / "log.txt");
    log.line(fmt::format("eval {} (encoder from {}{})", dir.string(), source,
                         opt.overrides.empty() ? "" : fmt::format("; {}", fmt::join(opt.overrides, " "))));
    json results = evaluate(model, e, log, dir, opt.export_features);
    results["eval_overrides"] = opt.overrides;
    data::write_file_atomic(out.string(), results.dump(2) + "\n");
    log.line(fmt::format("results: {}", out.string()));
    return out.string();
}

}  // namespace infomax
