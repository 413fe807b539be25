// The infomax command line. Subcommands come from one table; an unknown one
// lists those that exist. Exit codes: 0 ok, 1 user error (spec, data, plugin),
// 2 internal error.
#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "config/document.hpp"
#include "infomax/experiment/bench.hpp"
#include "infomax/experiment/model.hpp"
#include "infomax/experiment/run.hpp"
#include "infomax/experiment/session.hpp"
#include "infomax/report/report.hpp"
#include "infomax/experiment/suite.hpp"
#include "infomax/plugin/registry.hpp"
#include "infomax/runtime/error.hpp"
#include "infomax/runtime/threads.hpp"
#include "infomax/runtime/world.hpp"
#include "infomax/version.hpp"
#include "reference.hpp"

namespace {

using infomax::Error;

// Arguments shared by every command.
struct Args {
    std::vector<std::string> positional;  // SPEC, NAME, ...
    std::vector<std::string> overrides;   // key.path=value, +k=v, ++k=v, ~k
    std::vector<std::string> plugin_paths;
    int threads = 0;               // --threads N (0: not given)
    std::string resume;            // --resume RUN_DIR
    std::vector<std::string> extend;  // --extend train.steps=N (with --resume)
    bool export_features = false;  // --export-features
    bool progress = true;          // --no-progress
    std::string out;               // --out DIR (suite)
    int steps = 20, warmup = 5;    // --steps N, --warmup N (bench)
    bool json = false;             // --json (bench)
    std::int64_t only = 0;         // --only N (suite)
    bool emit_slurm = false;       // --emit-slurm (suite)
    std::string partition, time, account;  // --partition, --time, --account (suite --emit-slurm)
};

bool is_override(const std::string& a) {
    return a.find('=') != std::string::npos || (a.size() > 1 && a[0] == '~');
}

// "train.steps": a dotted key path without a file extension one would type for a spec.
bool looks_like_key(const std::string& a) {
    if (a.find('.') == std::string::npos || a.find('/') != std::string::npos) return false;
    for (const char* ext : {".yaml", ".yml", ".json"})
        if (a.size() > std::strlen(ext) && a.compare(a.size() - std::strlen(ext), std::string::npos, ext) == 0) return false;
    return std::all_of(a.begin(), a.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_'; });
}

struct Command {
    const char* name;
    const char* usage;
    const char* summary;
    std::function<int(const Args&)> run;
};

void load_registry(infomax::Registry& r, const Args& a) {
    r.load_defaults();
    for (const auto& p : a.plugin_paths) r.load_directory(p);
}

std::string need_spec(const Args& a, const char* cmd) {
    if (a.positional.size() != 1)
        throw Error(fmt::format("usage: infomax {} SPEC.yaml [key.path=value ...]", cmd));
    return a.positional[0];
}

int cmd_version(const Args&) {
    fmt::print("{}\n", infomax::build_info());
    return 0;
}

infomax::SessionOptions session_options(const Args& a) { return {a.threads, a.plugin_paths}; }

// Everything that can be known before training: the spec and every part's
// params, the model built and every objective scored once on a batch of 2,
// eval's taps, step counts, the trainer's settings.
int cmd_validate(const Args& a) {
    const std::string spec = need_spec(a, "validate");
    infomax::Session session(session_options(a));
    const infomax::Experiment e = session.load(spec, a.overrides);
    session.apply(e);
    auto model = infomax::build_model(e, session.registry());
    const std::int64_t steps = infomax::training_steps(model, e);
    fmt::print("{}: valid ({} training steps)\n{}", spec, steps, model.summary());
    return 0;
}

int cmd_show(const Args& a) {
    const std::string spec = need_spec(a, "show");
    infomax::Session session(session_options(a));
    const infomax::Experiment e = session.load(spec, a.overrides);
    fmt::print("# {} resolved (extends, overrides and defaults applied)\n{}\n", spec, e.resolved_yaml);
    return 0;
}

int cmd_plugins(const Args& a) {
    infomax::Registry registry;
    load_registry(registry, a);
    if (a.positional.empty()) {
        fmt::print("{:<14} {:<18} {:<8} {}\n", "kind", "name", "version", "description / file");
        for (const auto* e : registry.entries())
            fmt::print("{:<14} {:<18} {:<8} {}\n{:<42} {}\n", e->kind, e->name, e->version, e->description, "", e->file);
        return 0;
    }
    if (a.positional.size() != 2 || a.positional[0] != "show")
        throw Error("usage: infomax plugins [show NAME] [--plugin-path DIR]");
    const std::string& name = a.positional[1];
    bool found = false;
    std::vector<std::string> all;
    for (const auto* e : registry.entries()) {
        all.push_back(e->name);
        if (e->name != name) continue;
        found = true;
        fmt::print("{} {} {}\n  {}\n  file: {}\n  params:\n", e->kind, e->name, e->version, e->description, e->file);
        fmt::print("{}", infomax::cli::params_text(infomax::config::schema_node(e->schema), "    "));
    }
    if (!found) throw Error(infomax::config::unknown_name("part", name, all));
    return 0;
}

int cmd_run(const Args& a) {
    infomax::RunOptions o;
    o.resume = a.resume;
    if (a.resume.empty()) o.spec = need_spec(a, "run");
    else if (!a.positional.empty()) throw Error("usage: infomax run --resume RUN_DIR (no spec: the run has its own)");
    o.overrides = a.overrides;
    o.extend = a.extend;
    o.plugin_paths = a.plugin_paths;
    o.threads = a.threads;
    o.progress = a.progress;
    auto r = infomax::run_experiment(o);
    if (r.interrupted) return 130;
    if (infomax::world().rank > 0) return 0;  // data-parallel: rank 0 wrote the run and reports it
    fmt::print("report: {}\n", infomax::write_report(r.dir));
    return 0;
}

// Commands that write a run's files once: under mpirun every rank would.
void one_process(const char* command) {
    const auto& w = infomax::world();
    if (w.size > 1)
        throw Error(fmt::format("infomax {} runs on one process, and this is rank {} of {} (mpirun): run it without mpirun",
                                command, w.rank, w.size));
}

int cmd_eval(const Args& a) {
    one_process("eval");
    if (a.positional.size() != 1) throw Error("usage: infomax eval RUN_DIR [eval.key=value ...] [--export-features]");
    infomax::EvalOptions o;
    o.run_dir = a.positional[0];
    o.overrides = a.overrides;
    o.plugin_paths = a.plugin_paths;
    o.threads = a.threads;
    o.export_features = a.export_features;
    o.progress = a.progress;
    infomax::evaluate_run(o);
    return 0;
}

// The running executable, so suite runs use this very infomax.
std::string self_path() {
    char buf[4096];
    const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) throw Error("cannot find the infomax executable (/proc/self/exe)");
    return std::string(buf, static_cast<std::size_t>(n));
}

int cmd_suite(const Args& a) {
    if (a.positional.size() != 1)
        throw Error("usage: infomax suite SUITE.yaml [key.path=value ...] [--out DIR] [--only N] [--emit-slurm ...]");
    infomax::SuiteOptions o;
    o.file = a.positional[0];
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
    if (!a.emit_slurm && !(a.partition.empty() && a.time.empty() && a.account.empty()))
        throw Error("--partition, --time and --account go with --emit-slurm");
    auto r = infomax::run_suite(o);
    if (!r.slurm_submit.empty()) {
        fmt::print("wrote the Slurm jobs of {} (nothing was run); submit them with:\n  {}\n", r.dir, r.slurm_submit);
        return 0;
    }
    if (!r.lead) return 0;  // another rank of an mpirun job: rank 0 tabulates
    if (o.only > 0) return r.interrupted ? 130 : r.failed ? 1 : 0;  // a job array's task: the aggregation tabulates
    fmt::print("table: {}, report: {}\n", (std::filesystem::path(r.dir) / "table.md").string(), infomax::write_report(r.dir));
    return r.interrupted ? 130 : r.failed ? 1 : 0;
}

int cmd_report(const Args& a) {
    if (a.positional.size() != 1) throw Error("usage: infomax report SUITE_DIR|RUN_DIR");
    fmt::print("{}\n", infomax::write_report(a.positional[0]));
    return 0;
}

int cmd_reproduce(const Args& a) {
    one_process("reproduce");
    if (a.positional.size() != 1) throw Error("usage: infomax reproduce RUN_DIR");
    infomax::ReproduceOptions o;
    o.run_dir = a.positional[0];
    o.plugin_paths = a.plugin_paths;
    o.threads = a.threads;
    auto r = infomax::reproduce_run(o);
    for (const auto& w : r.warnings) fmt::print("warning: {}\n", w);
    if (r.match) {
        fmt::print("reproduced: every metric, result and final parameter matches bit for bit ({})\n", r.new_dir);
        return 0;
    }
    fmt::print("NOT reproduced: first difference: {}\n(reproduction in {})\n", r.first_difference, r.new_dir);
    return 3;
}

int cmd_bench(const Args& a) {
    infomax::BenchOptions o;
    o.spec = need_spec(a, "bench");
    o.overrides = a.overrides;
    o.plugin_paths = a.plugin_paths;
    o.threads = a.threads;
    o.steps = a.steps;
    o.warmup = a.warmup;
    const auto r = infomax::bench_spec(o);
    if (infomax::world().rank > 0) return 0;  // rank 0 reports for all
    fmt::print("{}\n", a.json ? infomax::bench_json(r) : infomax::bench_table(r));
    return 0;
}

int cmd_reference(const Args& a) {
    infomax::Registry registry;
    registry.load_defaults();
    for (const auto& p : a.plugin_paths) registry.load_directory(p);
    fmt::print("{}", infomax::cli::markdown_reference(infomax::config::schema_node(infomax::experiment_schema()), registry));
    return 0;
}

const std::vector<Command>& commands();

int cmd_help(const Args&) {
    fmt::print("infomax {} - Deep InfoMax and mutual-information learning on the CPU\n\n"
               "usage: infomax [--threads N] [--plugin-path DIR] <command> [args]\n\ncommands:\n",
               infomax::version());
    for (const auto& c : commands()) fmt::print("  {:<40} {}\n", c.usage, c.summary);
    fmt::print(
        "\noverrides (after SPEC; Hydra style):\n"
        "  key.path=value    change a value        +key.path=value   add a key\n"
        "  ++key.path=value  add or change         ~key.path         delete a key\n\n"
        "options:\n"
        "  --threads N        threads for oneDNN and TBB together (default: $INFOMAX_THREADS, else one per core other processes leave free)\n"
        "  --plugin-path DIR  also load plugins from DIR (repeatable; also $INFOMAX_PLUGIN_PATH, ':'-separated)\n"
        "  --no-progress      plain progress lines even on a terminal\n"
        "  --out DIR          suite: put the suite directory under DIR (default: the suite's output.dir)\n"
        "  --only N           suite: run only its N-th run (as numbered in its progress lines; a job array's task)\n"
        "  --emit-slurm [--partition P] [--time T] [--account A]\n"
        "                     suite: write a Slurm job array (one task per unfinished run) and a dependent\n"
        "                     aggregation job under <suite dir>/slurm/, run nothing (docs/scale.md)\n"
        "  --steps N, --warmup N, --json   bench: timed steps (20), warm-up steps (5), one JSON object\n"
        "  --extend KEY=N     run --resume: train longer (train.steps or train.epochs), recorded in the manifest\n"
        "  Ctrl-C during run  writes a checkpoint and stops (exit 130); continue with run --resume DIR\n"
        "  --version          same as 'infomax version'\n"
        "  -h, --help         this text\n\n"
        "exit codes: 0 ok, 1 bad input or a failed run, 2 internal error, 3 reproduce found a difference,\n"
        "  130 interrupted (Ctrl-C)\n\n"
        "threads: --threads wins over the spec's train.threads, which wins over $INFOMAX_THREADS; without them a run follows the load (threads.csv).\n");
    return 0;
}

const std::vector<Command>& commands() {
    static const std::vector<Command> table{
        {"help", "help", "show this help", cmd_help},
        {"version", "version", "versions of infomax, oneDNN (ISA, runtime), oneTBB; the thread count", cmd_version},
        {"run", "run SPEC [overrides] | run --resume DIR [--extend train.steps=N]", "train and evaluate in a new run directory, or continue one", cmd_run},
        {"eval", "eval RUN_DIR [eval.key=value ...] [--export-features]", "evaluate a finished run again, into a new results file", cmd_eval},
        {"suite", "suite SUITE [overrides] [--out DIR] [--only N]",
         "run a suite's runs (skips finished, resumes interrupted; under mpirun shared among the ranks), then tabulate", cmd_suite},
        {"report", "report SUITE_DIR|RUN_DIR", "write the tables and report.html of a suite, or a run's report.html", cmd_report},
        {"bench", "bench SPEC [overrides] [--steps N] [--warmup N] [--json]",
         "time the training step and inference; phases, op families, GFLOP/s against the sgemm peak", cmd_bench},
        {"reproduce", "reproduce RUN_DIR", "run a run again and check every metric matches bit for bit", cmd_reproduce},
        {"validate", "validate SPEC [overrides]", "check everything known before training: spec, parts, model, dry run, steps", cmd_validate},
        {"show", "show SPEC [overrides]", "print the resolved spec (extends, overrides, defaults)", cmd_show},
        {"plugins", "plugins [show NAME]", "list the registered parts, or one part's params", cmd_plugins},
        {"reference", "reference", "print the spec reference (Markdown) from the schemas", cmd_reference},
    };
    return table;
}

// What a rank other than 0 prints starts with its rank: under mpirun every
// rank's output arrives on one terminal.
std::string rank_prefix() {
    const auto& w = infomax::world();
    return w.size > 1 && w.rank > 0 ? fmt::format("[rank {}] ", w.rank) : "";
}

int run_cli(const std::vector<std::string>& argv_s) {
    try {
        int threads = 0;
        std::string command;
        Args args;
        for (std::size_t i = 0; i < argv_s.size(); ++i) {
            const std::string& a = argv_s[i];
            auto value = [&](const char* flag) {
                if (i + 1 >= argv_s.size()) throw Error(fmt::format("{} needs a value", flag));
                return argv_s[++i];
            };
            // A flag's numeric value: `what` (a whole number, a run number) of at least `min`.
            auto number = [&](const char* flag, long long min, const char* what) {
                const std::string v = value(flag);
                char* end = nullptr;
                const long long n = std::strtoll(v.c_str(), &end, 10);
                if (*end != '\0' || n < min) throw Error(fmt::format("{} '{}': expected {} >= {}", flag, v, what, min));
                return n;
            };
            if (a == "--threads") {
                threads = static_cast<int>(number("--threads", 1, "a whole number"));
            } else if (a == "--resume") {
                args.resume = value("--resume");
            } else if (a == "--extend") {
                args.extend.push_back(value("--extend"));
            } else if (a == "--export-features") {
                args.export_features = true;
            } else if (a == "--steps" || a == "--warmup") {
                (a == "--steps" ? args.steps : args.warmup) =
                    static_cast<int>(number(a.c_str(), a == "--steps" ? 1 : 0, "a whole number"));
            } else if (a == "--json") {
                args.json = true;
            } else if (a == "--only") {
                args.only = number("--only", 1, "a run number");
            } else if (a == "--emit-slurm") {
                args.emit_slurm = true;
            } else if (a == "--partition" || a == "--time" || a == "--account") {
                (a == "--partition" ? args.partition : a == "--time" ? args.time : args.account) = value(a.c_str());
            } else if (a == "--out") {
                args.out = value("--out");
            } else if (a == "--no-progress") {
                args.progress = false;
            } else if (a == "--plugin-path") {
                args.plugin_paths.push_back(value("--plugin-path"));
            } else if (a == "-h" || a == "--help") {
                command = "help";
            } else if (a == "--version") {
                command = "version";
            } else if (a.size() > 1 && a[0] == '-' && a[1] == '-') {
                throw Error(fmt::format("unknown option '{}' (see infomax --help)", a));
            } else if (command.empty()) {
                command = a;
            } else if (is_override(a)) {
                args.overrides.push_back(a);
            } else if (looks_like_key(a)) {
                // "train.steps 10": a setting without its '='.
                throw Error(fmt::format("argument '{}'{}: expected key.path=value (did you mean '{}={}'?)", a,
                                        i + 1 < argv_s.size() ? fmt::format(" followed by '{}'", argv_s[i + 1]) : "",
                                        a, i + 1 < argv_s.size() ? argv_s[i + 1] : "VALUE"));
            } else {
                args.positional.push_back(a);
            }
        }
        args.threads = threads;
        if (command.empty()) return cmd_help(args), 1;
        for (const auto& c : commands())
            if (command == c.name) return c.run(args);
        std::vector<std::string> known;
        for (const auto& c : commands()) known.push_back(c.name);
        fmt::print(stderr, "infomax: unknown command '{}' (known: {})\n", command, fmt::join(known, ", "));
        return 1;
    } catch (const infomax::config::SpecError& e) {
        fmt::print(stderr, "{}{}\n", rank_prefix(), e.what());
    } catch (const Error& e) {
        fmt::print(stderr, "{}infomax: {}\n", rank_prefix(), e.what());
    } catch (const std::filesystem::filesystem_error& e) {
        // A folder or file the user gave that cannot be made, read or written.
        fmt::print(stderr, "{}infomax: {}: check the path and its permissions\n", rank_prefix(), e.what());
    } catch (const std::bad_alloc&) {
        fmt::print(stderr, "{}infomax: out of memory: lower the batch size or the model's size, or free memory\n",
                   rank_prefix());
    } catch (const std::exception& e) {
        fmt::print(stderr, "{}infomax: internal error: {}\n", rank_prefix(), e.what());
        return -2;
    }
    return -1;
}

}  // namespace

int main(int argc, char** argv) {
    infomax::init_world();  // under mpirun or srun; alone, nothing happens
    const int rc = run_cli(std::vector<std::string>(argv + 1, argv + argc));
    // An error on one rank: the others may be waiting for it in a collective,
    // so the whole job ends (mpirun reports the code).
    if (rc < 0 && infomax::world().size > 1) infomax::abort_world(-rc);
    infomax::finalize_world();
    return rc < 0 ? -rc : rc;
}
