#include "infomax/experiment/run.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>

#include "experiment/interrupts.hpp"
#include "experiment/run_loop.hpp"
#include "run_dir/run_dir.hpp"
#include "experiment/runner.hpp"
#include "experiment/thread_schedule.hpp"
#include "experiment/trainer.hpp"
#include "infomax/data/files.hpp"
#include "infomax/experiment/session.hpp"
#include "infomax/runtime/error.hpp"
#include "infomax/runtime/precision.hpp"
#include "infomax/runtime/threads.hpp"
#include "infomax/runtime/world.hpp"
#include "runtime/collectives.hpp"
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

json manifest(const Experiment& e, const Registry& registry, const Model& m) {
    json j;
    j["seed"] = e.seed;
    j["infomax"] = {{"version", version()}, {"git_commit", git_commit()}, {"plugin_abi", kAbiVersion}};
    j["libraries"] = build_info();
    j["threads"] = threads();
    j["world_size"] = world().size;  // data-parallel ranks (each with `threads`)
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
    // Each bound's unit, by its metrics column, as its estimator declares it (reports label curves with it).
    json units = json::object();
    for (const auto& o : m.objectives) units[o.column()] = o.estimator->unit();
    j["units"] = units;
    j["resolved_hash"] = resolved_hash(e.resolved_yaml);  // what resolved.yaml must still hash to
    return j;
}

// What --extend may change: how long the run trains.
bool extendable(const std::string& key) { return key == "train.steps" || key == "train.epochs"; }


fs::path product_file(const fs::path& dir, const Model& m) { return detail::RunDir(dir).product(m.generator != nullptr); }

// --extend: the run's new resolved.yaml, its hash and the change in the
// manifest; a finished run's results.json moves aside (results-step-N.json)
// so the run is unfinished again and its first results are kept.
void extend_run(const fs::path& dir, const Experiment& e, const std::vector<std::string>& changes, std::int64_t step) {
    json m = detail::read_json(detail::RunDir(dir).manifest());
    if (!m.is_object()) throw Error(fmt::format("{}: not a JSON object: the file is damaged", detail::RunDir(dir).manifest().string()));
    if (detail::RunDir(dir).finished()) {
        const fs::path aside = detail::RunDir(dir).results_aside(step);
        std::error_code ec;
        fs::rename(detail::RunDir(dir).results(), aside, ec);
        if (ec) throw Error(fmt::format("{}: cannot move it aside: {}", detail::RunDir(dir).results().string(), ec.message()));
    }
    // An extension cut before it rewrote resolved.yaml never took effect: this
    // one replaces its record.
    std::ifstream in(detail::RunDir(dir).resolved(), std::ios::binary);
    const std::string now = detail::text_hash(std::string((std::istreambuf_iterator<char>(in)), {}));
    if (m.contains("extended") && m["extended"].is_array() && !m["extended"].empty() &&
        m["extended"].back().value("resolved_hash_before", std::string()) == now && m.value("resolved_hash", std::string()) != now) {
        m["extended"].erase(m["extended"].size() - 1);
        m["resolved_hash"] = now;
    }
    json change{{"at_step", step}, {"time", local_time("{:%Y-%m-%dT%H:%M:%S%z}")}, {"overrides", changes},
                {"resolved_hash_before", m.value("resolved_hash", std::string())}};
    if (!m.contains("extended") || !m["extended"].is_array()) m["extended"] = json::array();
    m["extended"].push_back(change);
    m["resolved_hash"] = resolved_hash(e.resolved_yaml);
    // The manifest first: cut between the two, resolved.yaml is the one before
    // (check_resolved says so, and lets the same --extend finish the change).
    data::write_file_atomic(detail::RunDir(dir).manifest().string(), m.dump(2) + "\n");
    data::write_file_atomic(detail::RunDir(dir).resolved().string(), e.resolved_yaml);
}

}  // namespace

void request_stop() { g_stop.store(true); }
bool stop_requested() { return g_stop.load(); }

std::string resolved_hash(const std::string& resolved_yaml) { return detail::text_hash(resolved_yaml); }

namespace {

// --resume DIR [--extend ...]: the directory is a run, nothing else changes
// but its length, and (rank 0) this process holds it.
void check_resume(const RunOptions& opt, bool lead, std::optional<detail::DirClaim>& claim) {
    const detail::RunDir dir(opt.resume);
    if (!dir.is_run())
        throw Error(fmt::format("{}: not a run directory (no {})", opt.resume, dir.resolved().filename().string()));
    if (!opt.overrides.empty())
        throw Error("--resume continues a run as it was: overrides are not allowed (to train longer: infomax run "
                    "--resume DIR --extend train.steps=N)");
    for (std::size_t i = 0; i < opt.extend.size(); ++i) {
        const std::string key = config::override_key(opt.extend[i]);
        if (!extendable(key))
            throw config::SpecError({{config::Origin{"", 0, 0, static_cast<int>(i) + 1, opt.extend[i]}, key,
                                      "--extend changes only how long a run trains (train.steps or train.epochs); "
                                      "start a new run for anything else"}});
    }
    if (lead) {
        claim = detail::claim_run_dir(dir.path());
        dir.check_resolved(!opt.extend.empty());
    }
}

// Where a resumed run continues: the newest checkpoint that verifies (its
// notices to log), the step it holds (-1: none) and the metrics window it cut.
struct Restored {
    std::int64_t step = -1;
    detail::VerifiedCheckpoint checkpoint;
    detail::MetricsWindow window{{}, 0, ""};
    detail::HeldOutState held_out;  // the protocol's evaluations so far
};

Restored restore(const RunOptions& opt, const Experiment& e, detail::Trainer& trainer, bool lead) {
    const fs::path dir = opt.resume;
    Restored r;
    r.checkpoint = detail::load_checkpoint(dir);
    if (r.checkpoint.path.empty()) {
        if (detail::RunDir(dir).finished())
            throw Error(fmt::format("{}: the run is finished but its checkpoints are gone: evaluate it again with "
                                    "infomax eval {}",
                                    opt.resume, opt.resume));
        // It stopped before its first checkpoint: the directory is reused from the start.
        r.checkpoint.notices.push_back("the run stopped before its first checkpoint: training again from step 0 in this "
                                       "directory");
    } else {
        trainer.restore(r.checkpoint.file);
    }
    auto [sums, steps] = detail::MetricsWindow::read_from(r.checkpoint.file, r.checkpoint.path);
    r.window = detail::MetricsWindow(std::move(sums), steps, r.checkpoint.path);
    r.held_out = detail::HeldOutState::read_from(r.checkpoint.file, r.checkpoint.path);
    r.checkpoint.file = {};
    r.step = trainer.step();
    // Finished and evaluated: nothing to continue, nothing to overwrite. A run
    // that trained to the end but died before its results resumes into the
    // evaluation alone.
    if (!opt.extend.empty() && r.step > trainer.total_steps())
        throw Error(fmt::format("{}: the run has trained {} steps: --extend must give at least that many (it gives {})",
                                opt.resume, r.step, trainer.total_steps()));
    if (r.step >= trainer.total_steps() && detail::RunDir(dir).finished())
        throw Error(fmt::format("{}: this run is complete ({} of {} steps); evaluate it again with: infomax eval {} (or "
                                "train it longer: infomax run --resume {} --extend train.steps=N)",
                                opt.resume, r.step, trainer.total_steps(), opt.resume, opt.resume));
    if (!opt.extend.empty() && lead) extend_run(dir, e, opt.extend, r.step);
    return r;
}

// A new run's directory, made only once everything is checked, with its
// resolved spec and manifest.
fs::path open_new_run(const Experiment& e, Session& session, const Model& model,
                      std::optional<detail::DirClaim>& claim) {
    fs::path dir;
    try {
        dir = create_run_dir(e.output_dir, e.name, resolved_hash(e.resolved_yaml));
    } catch (const detail::RunDirError& err) {
        e.fail("output.dir", err.what());
    }
    claim = detail::claim_run_dir(dir);
    data::write_file_atomic(detail::RunDir(dir).resolved().string(), e.resolved_yaml);
    data::write_file_atomic(detail::RunDir(dir).manifest().string(), manifest(e, session.registry(), model).dump(2) + "\n");
    return dir;
}

std::string describe_run(bool resuming, const fs::path& dir, const Model& model, const detail::Trainer& trainer,
                         bool parallel) {
    const WorldInfo& w = world();
    return fmt::format("{} {} ({} steps of batch {}, {}; threads {}{})", resuming ? "resuming" : "run", dir.string(),
                       trainer.total_steps(), trainer.batch_size(),
                       model.data->streamed() ? "fresh samples every step"
                                              : fmt::format("{} per epoch", trainer.steps_per_epoch()),
                       threads(), parallel ? fmt::format(" on each of {} ranks, {} rows each", w.size, trainer.batch_size() / w.size) : "");
}

// Default: every epoch; streamed data has no epochs: every tenth of the run.
std::int64_t checkpoint_every(const Experiment& e, const Model& model, const detail::Trainer& trainer) {
    if (e.train.checkpoint_every) return *e.train.checkpoint_every;
    return model.data->streamed() ? std::max<std::int64_t>(1, trainer.total_steps() / 10) : trainer.steps_per_epoch();
}

// The trained run's product (the final encoder or generator) and its evaluation.
void finish_run(const fs::path& dir, Model& model, const Experiment& e, detail::Trainer& trainer, Log& log,
                std::int64_t restored, double seconds, bool tty, const detail::HeldOutState* held_out) {
    if (model.encoder || model.generator)
        detail::save_product(product_file(dir, model), trainer.encoder_weights(), trainer.step());
    json results;
    results["train"] = {{"steps", trainer.step()}, {"seconds", seconds}, {"resumed_from_step", restored}};
    // Which weights these numbers are of (infomax eval says the file it read).
    results["weights"] = {{"source", "training"}, {"step", trainer.step()}, {"critics", true}};
    detail::EvalContext ec{model, e, log, detail::RunDir(dir), false, tty, true, held_out};
    release_cached_memory();  // the training step's buffers: evaluation needs other sizes
    results.update(model.runner->evaluate(ec));
    data::write_file_atomic(detail::RunDir(dir).results().string(), results.dump(2) + "\n");
    log.line(fmt::format("results: {}", detail::RunDir(dir).results().string()));
}

}  // namespace

RunResult run_experiment(const RunOptions& opt) {
    // First, before any oneDNN or TBB thread exists: see interrupts.hpp.
    detail::InterruptGuard interrupts(g_stop);
    // A suite's run dies with its suite (SIGTERM: a checkpoint, then exit),
    // so a suite restarted after a kill -9 never meets it still training.
    if (const char* suite = std::getenv("INFOMAX_SUITE_PID"); suite && *suite) {
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (std::to_string(::getppid()) != suite) ::kill(::getpid(), SIGTERM);  // it died before the line above
    }
    Session session({opt.threads, opt.plugin_paths});
    const WorldInfo& w = world();
    // Data-parallel (mpirun): rank 0 alone writes the run directory; every
    // rank runs the same thread count, so the parts all ranks compute alike
    // stay bit-identical.
    const bool lead = w.rank == 0, parallel = w.size > 1, resuming = !opt.resume.empty();
    std::optional<detail::DirClaim> claim;  // the run directory is this process's while it runs
    if (resuming) check_resume(opt, lead, claim);
    else if (!opt.extend.empty())
        throw Error("--extend changes a run being resumed: infomax run --resume DIR --extend train.steps=N");
    const Experiment e = session.load(resuming ? detail::RunDir(opt.resume).resolved().string() : opt.spec,
                                      resuming ? opt.extend : opt.overrides);
    session.apply(e);
    if (parallel) {
        std::int64_t n = threads();
        detail::allreduce_min(&n, 1);
        set_threads(static_cast<int>(n));
    }
    Model model = build_model(e, session.registry());
    detail::Trainer trainer(model, e);
    std::function<std::vector<double>()> held_out = model.runner->held_out_estimate(model, e);  // build_model refused a kind without
    Restored restored;
    fs::path dir;
    if (resuming) {
        restored = restore(opt, e, trainer, lead);
        dir = opt.resume;
    } else if (lead) {
        dir = open_new_run(e, session, model, claim);
    }
    std::unique_ptr<Log> log_file = lead ? std::make_unique<Log>(detail::RunDir(dir).log()) : std::make_unique<Log>();
    Log& log = *log_file;
    std::optional<Metrics> metrics;
    if (lead) metrics.emplace(dir, restored.step);
    if (metrics)
        for (const auto& n : metrics->notices()) restored.checkpoint.notices.push_back(n);
    log.line(describe_run(resuming, dir, model, trainer, parallel));
    for (const auto& n : restored.checkpoint.notices) log.line("notice: " + n);
    if (resuming) log.line(fmt::format("restored step {} from {}", restored.step, restored.checkpoint.path));

    // Data-parallel ranks keep one count (see above): no governor.
    detail::ThreadGovernor governor(log, dir, parallel ? detail::ThreadSchedule{} : opt.thread_schedule,
                                    !parallel && session.threads_follow_load(e), available_cores(), restored.step);
    detail::LoopOptions loop{detail::RunDir(dir), &log, metrics ? &*metrics : nullptr, &governor, lead, parallel,
                             opt.progress && console::live(), e.train.log_every, checkpoint_every(e, model, trainer),
                             std::move(restored.window), &g_stop, opt.after_step, e.eval.held_out_every,
                             e.eval.patience, held_out, restored.held_out};
    g_stop.store(false);
    interrupts.arm();
    detail::LoopResult trained;
    try {
        trained = detail::train_loop(trainer, *model.runner, loop);
    } catch (const std::exception& err) {
        // Every failure in training names the checkpoint to continue from;
        // an Error stays one (exit 1), anything else stays internal (exit 2).
        interrupts.disarm();
        const std::string ck = lead ? latest_checkpoint(dir) : "";
        const bool ours = dynamic_cast<const Error*>(&err) != nullptr;
        const std::string text = fmt::format("{}; last good checkpoint: {}", err.what(), ck.empty() ? "none" : ck);
        // The first failure is the one to report, even if the log fails too.
        log.try_line(fmt::format("error: {}{}", ours ? "" : "internal error: ", text));
        if (ours) throw Error(text);
        throw std::runtime_error(text);
    }
    interrupts.disarm();
    RunResult result{dir.string(), trainer.step(), trained.interrupted};
    if (result.interrupted || !lead) return result;  // rank 0 evaluates alone
    finish_run(dir, model, e, trainer, log, restored.step,
               std::chrono::duration<double>(Clock::now() - trained.started).count(), loop.tty,
               e.eval.held_out_every > 0 ? &loop.held_out : nullptr);
    return result;
}

std::string evaluate_run(const EvalOptions& opt) {
    const fs::path dir = opt.run_dir;
    if (!detail::RunDir(dir).is_run())
        throw Error(fmt::format("{}: not a run directory (no {})", opt.run_dir, detail::RunDir(dir).resolved().filename().string()));
    // Only how the run is evaluated may change: anything else would describe another run.
    for (std::size_t i = 0; i < opt.overrides.size(); ++i) {
        const std::string& o = opt.overrides[i];
        const std::string key = config::override_key(o);  // "" (malformed) is reported when the spec loads
        if (!key.empty() && !key.starts_with("eval."))
            throw config::SpecError({{config::Origin{"", 0, 0, static_cast<int>(i) + 1, o}, key,
                                      "infomax eval re-evaluates a trained run: only eval.* settings can change here "
                                      "(train it again with infomax run for anything else)"}});
    }
    // Results are the run's only once it finished: an unfinished run is resumed, not evaluated.
    if (!detail::RunDir(dir).finished())
        throw Error(fmt::format("{}: the run has not finished (no {}); finish it (training, then its evaluation) "
                                "with: infomax run --resume {}",
                                opt.run_dir, detail::RunDir(dir).results().filename().string(), opt.run_dir));
    const detail::DirClaim claim = detail::claim_run_dir(dir);
    detail::RunDir(dir).check_resolved();
    // Its results go into the run: found now, before minutes of evaluation.
    if (const std::string why = data::cannot_write(dir.string()); !why.empty())
        throw Error(fmt::format("{}: cannot write the new results there ({}): eval writes results-eval-<time>.json into "
                                "the run; make it writable, or copy the run somewhere writable and evaluate the copy",
                                dir.string(), why));
    Session session({opt.threads, opt.plugin_paths});
    const Experiment e = session.load(detail::RunDir(dir).resolved().string(), opt.overrides);
    session.apply(e);
    Model model = build_model(e, session.registry());
    detail::Trainer trainer(model, e);
    // The last checkpoint holds everything trained (the critics the held-out
    // bounds need, too); the product file alone is the fallback.
    // When the final checkpoint is damaged, the product (stamped with its step
    // and checksum) holds newer weights: they are evaluated, without critics.
    detail::VerifiedCheckpoint checkpoint = detail::load_checkpoint(dir);  // the newest that verifies
    const fs::path product = product_file(dir, model);
    detail::VerifiedProduct final_weights;
    if (model.encoder || model.generator) final_weights = detail::load_product(product);
    std::vector<std::string> notices = checkpoint.notices;
    if (!final_weights.fault.empty()) {
        const std::string warning = fmt::format("{} is damaged ({}): evaluated from {}; do not load that file elsewhere",
                                                product.string(), final_weights.fault,
                                                checkpoint.path.empty() ? "nothing" : checkpoint.path);
        console::warn("warning: " + warning);
        notices.push_back(warning);
    }
    std::string source = checkpoint.path;
    std::int64_t weights_step = -1;
    bool critics = true;
    if (!source.empty()) {
        trainer.restore(checkpoint.file);
        weights_step = trainer.step();
    }
    if (final_weights.verified && final_weights.step > weights_step) {
        if (!source.empty())
            notices.push_back(fmt::format("{} holds step {}, newer than {} (step {}): its weights are evaluated, "
                                          "without the critics", product.string(), final_weights.step, source, weights_step));
        trainer.load_encoder_weights(final_weights.file);
        source = product.string();
        weights_step = final_weights.step;
        critics = false;
    } else if (source.empty()) {  // a product written before products were stamped
        if (!(model.encoder || model.generator) || !fs::exists(product) || !final_weights.fault.empty())
            throw Error(fmt::format("{}: no checkpoint and no {}{}", opt.run_dir, product.filename().string(),
                                    final_weights.fault.empty() ? "" : " that can be trusted"));
        trainer.load_encoder_weights(final_weights.file);
        source = product.string();
        critics = false;
    }
    // A new file beside results.json, never over it (nor over an earlier evaluation).
    const fs::path out = detail::RunDir(dir).eval_results();
    Log log(detail::RunDir(dir).log());
    for (const auto& n : notices) log.line("notice: " + n);
    log.line(fmt::format("eval {} (weights from {}{})", dir.string(), source,
                         opt.overrides.empty() ? "" : fmt::format("; {}", fmt::join(opt.overrides, " "))));
    detail::EvalContext ec{model, e, log, detail::RunDir(dir), opt.export_features, opt.progress && console::live(), critics};
    json results = model.runner->evaluate(ec);
    results["eval_overrides"] = opt.overrides;
    // Which weights these numbers are of.
    results["weights"] = {{"source", fs::path(source).lexically_relative(dir).string()}, {"step", weights_step},
                          {"critics", critics}};
    data::write_file_atomic(out.string(), results.dump(2) + "\n");
    log.line(fmt::format("results: {}", out.string()));
    return out.string();
}

}  // namespace infomax
