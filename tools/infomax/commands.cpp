#include "commands.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "infomax/experiment/bench.hpp"
#include "infomax/experiment/estimate.hpp"
#include "infomax/experiment/model.hpp"
#include "infomax/experiment/run.hpp"
#include "infomax/experiment/session.hpp"
#include "infomax/experiment/suite.hpp"
#include "infomax/plugin/registry.hpp"
#include "infomax/report/compare.hpp"
#include "infomax/report/report.hpp"
#include "infomax/runtime/console.hpp"
#include "infomax/runtime/error.hpp"
#include "infomax/runtime/world.hpp"
#include "infomax/version.hpp"
#include "infomax/report/reference.hpp"

namespace infomax::cli {

namespace {

SessionOptions session_options(const Args& a) { return {a.threads, a.plugin_paths}; }

// Commands that write a run's files once: under mpirun every rank would.
void one_process(const char* command) {
    const auto& w = world();
    if (w.size > 1)
        throw Error(fmt::format("infomax {} runs on one process, and this is rank {} of {} (mpirun): run it without mpirun",
                                command, w.rank, w.size));
}

// The running executable, so suite runs use this very infomax.
std::string self_path() {
    char buf[4096];
    const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) throw Error("cannot find the infomax executable (/proc/self/exe)");
    return std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace

int cmd_version(const Args&) {
    fmt::print("{}\n", build_info());
    return 0;
}

// Everything that can be known before training: the spec and every part's
// params, the model built and every objective scored once on a batch of 2,
// eval's taps, step counts, the trainer's settings.
int cmd_validate(const Args& a) {
    const std::string& spec = a.positional.at(0);
    Session session(session_options(a));
    const Experiment e = session.load(spec, a.overrides);
    session.apply(e);
    auto model = build_model(e, session.registry());
    const std::int64_t steps = training_steps(model, e);
    fmt::print("{}: valid ({} training steps)\n{}", spec, steps, model.summary());
    return 0;
}

int cmd_show(const Args& a) {
    const std::string& spec = a.positional.at(0);
    Session session(session_options(a));
    const Experiment e = session.load(spec, a.overrides);
    fmt::print("# {} resolved (extends, overrides and defaults applied)\n{}\n", spec, e.resolved_yaml);
    return 0;
}

int cmd_plugins(const Args& a) {
    Registry registry;
    registry.load_defaults(a.plugin_paths);
    if (a.positional.empty()) {
        fmt::print("{:<14} {:<18} {:<8} {}\n", "kind", "name", "version", "description / file");
        for (const auto* e : registry.entries())
            fmt::print("{:<14} {:<18} {:<8} {}\n{:<42} {}\n", e->kind, e->name, e->version, e->description, "", e->file);
        return 0;
    }
    const std::string& name = a.positional.back();
    bool found = false;
    std::vector<std::string> all;
    for (const auto* e : registry.entries()) {
        all.push_back(e->name);
        if (e->name != name) continue;
        found = true;
        fmt::print("{} {} {}\n  {}\n  file: {}\n  params:\n", e->kind, e->name, e->version, e->description, e->file);
        fmt::print("{}", params_text(e->schema, "    "));
    }
    if (!found) throw Error(config::unknown_name("part", name, all));
    return 0;
}

int cmd_run(const Args& a) {
    RunOptions o;
    o.resume = a.resume;
    if (a.resume.empty()) o.spec = a.positional.at(0);
    o.overrides = a.overrides;
    o.extend = a.extend;
    o.plugin_paths = a.plugin_paths;
    o.threads = a.threads;
    o.progress = a.progress;
    auto r = run_experiment(o);
    if (r.interrupted) return 130;
    if (world().rank > 0) return 0;  // data-parallel: rank 0 wrote the run and reports it
    fmt::print("run: {}\nreport: {}\n", r.dir, write_report(r.dir));
    return 0;
}

int cmd_eval(const Args& a) {
    one_process("eval");
    EvalOptions o;
    o.run_dir = a.positional.at(0);
    o.overrides = a.overrides;
    o.plugin_paths = a.plugin_paths;
    o.threads = a.threads;
    o.export_features = a.export_features;
    o.progress = a.progress;
    evaluate_run(o);
    return 0;
}

int cmd_suite(const Args& a) {
    SuiteOptions o;
    o.file = a.positional.at(0);
    o.overrides = a.overrides;
    o.out = a.out;
    o.cli = self_path();
    o.plugin_paths = a.plugin_paths;
    o.threads = a.threads;
    o.only = a.only;
    o.emit_slurm = a.emit_slurm;
    o.partition = a.partition;
    o.time = a.time;
    o.account = a.account;
    o.mem = a.mem;
    if (!a.compare.empty()) {  // a reference that cannot be read is said before hours of runs
        std::ifstream ref(a.compare);
        std::string header;
        if (!ref || !std::getline(ref, header))
            throw Error(fmt::format("--compare {}: cannot read it (no such file, not readable or empty)", a.compare));
    }
    auto r = run_suite(o);
    if (o.emit_slurm) {
        if (r.slurm_submit.empty())
            fmt::print("every run of {} is finished and its tables are written: nothing to submit\n", r.dir);
        else
            fmt::print("wrote the Slurm jobs of {} (nothing was run); submit them with:\n  {}\n", r.dir, r.slurm_submit);
        return 0;
    }
    if (!r.lead) return 0;  // another rank of an mpirun job: rank 0 tabulates
    if (o.only > 0) return r.interrupted ? 130 : r.failed ? 1 : 0;  // a job array's task: the aggregation tabulates
    fmt::print("table: {}\nreport: {}\n", r.table, write_report(r.dir));
    if (r.interrupted) return 130;
    if (!a.compare.empty()) {
        const CompareResult c = compare_suite(r.dir, a.compare, a.tolerance);
        fmt::print("{}", c.text);
        if (c.failed > 0) return 1;
    }
    return r.failed ? 1 : 0;
}

int cmd_report(const Args& a) {
    fmt::print("{}\n", write_report(a.positional.at(0)));
    return 0;
}

int cmd_reproduce(const Args& a) {
    one_process("reproduce");
    ReproduceOptions o;
    o.run_dir = a.positional.at(0);
    o.plugin_paths = a.plugin_paths;
    o.threads = a.threads;
    o.out = a.out;
    auto r = reproduce_run(o);  // prints its warnings before it runs
    if (r.match) {
        fmt::print("reproduced: every metric, result and final parameter matches bit for bit ({})\n", r.new_dir);
        return 0;
    }
    fmt::print("NOT reproduced: first difference: {}\n(reproduction in {})\n", r.first_difference, r.new_dir);
    return 3;
}

int cmd_bench(const Args& a) {
    BenchOptions o;
    o.spec = a.positional.at(0);
    o.overrides = a.overrides;
    o.plugin_paths = a.plugin_paths;
    o.threads = a.threads;
    o.steps = a.steps;
    o.warmup = a.warmup;
    const auto r = bench_spec(o);
    if (world().rank > 0) return 0;  // rank 0 reports for all
    fmt::print("{}\n", a.json ? bench_json(r) : bench_table(r));
    return 0;
}

int cmd_reference(const Args& a) {
    Registry registry;
    registry.load_defaults(a.plugin_paths);
    fmt::print("{}", markdown_reference(experiment_schema(), registry));
    return 0;
}

int cmd_schema(const Args& a) {
    const bool suite = !a.positional.empty() && a.positional[0] == "suite";
    if (!a.json) {
        std::ifstream in(suite ? suite_schema_path() : experiment_schema_path());
        fmt::print("{}", std::string((std::istreambuf_iterator<char>(in)), {}));
        return 0;
    }
    Registry registry;
    registry.load_defaults(a.plugin_paths);
    fmt::print("{}\n", json_schema(suite ? suite_schema() : experiment_schema(), registry));
    return 0;
}

// One number on stdout and nothing else unless --verbose: bmi's
// ExternalEstimator reads stdout and stderr merged.
int cmd_estimate(const Args& a) {
    one_process("estimate");
    EstimateOptions o;
    o.samples = a.positional.at(0);
    auto dim = [&](std::size_t i, const char* what) {
        const std::string& t = a.positional.at(i);
        std::int64_t v = 0;
        std::size_t used = 0;
        try {
            v = std::stoll(t, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != t.size() || v < 1 || v > (std::int64_t{1} << 20))
            throw Error(fmt::format("{}: expected a whole number of columns from 1 to 1048576, found '{}'", what, t));
        return v;
    };
    o.dim_x = dim(1, "DIM_X");
    o.dim_y = dim(2, "DIM_Y");
    o.estimator = a.estimator;
    o.params = a.overrides;
    o.plugin_paths = a.plugin_paths;
    o.threads = a.threads;
    o.seed = static_cast<std::uint64_t>(a.seed);
    o.max_steps = a.max_steps;
    o.batch = a.batch;
    if (!a.critic.empty()) o.critic = a.critic;
    const EstimateResult r = estimate_mi(o);
    if (r.kind == "estimator")
        console::detail(fmt::format("estimate: {} ({}), best held-out value at step {} of {} ({} train, {} test samples); "
                                    "flags: early_stopping_not_triggered {}, max_training_mi_decreased {}, "
                                    "training_mi_still_increasing {}; {:.2f} s",
                                    r.quantity, o.estimator, r.best_step, r.steps, r.n_train, r.n_test,
                                    r.flags.early_stopping_not_triggered, r.flags.max_training_mi_decreased,
                                    r.flags.training_mi_still_increasing, r.seconds));
    else
        console::detail(fmt::format("estimate: {} ({}); {:.3f} s", r.quantity, o.estimator, r.seconds));
    // The number alone on stdout and nothing on stderr unless asked (bmi's
    // ExternalEstimator reads both streams merged); --verbose gives the verdict.
    console::detail(fmt::format("verdict: {}", r.verdict()));
    fmt::print("{}\n", r.mi);
    return 0;
}

}  // namespace infomax::cli
