// The infomax command line in CLI11. Each command declares its arguments and
// options here once; `infomax CMD --help`, `infomax help CMD`, the refusal of
// arguments a command does not take and `infomax completion` all read that
// declaration. Options shared by several commands (--threads, --plugin-path,
// --no-progress, --quiet, --verbose) may also come before the command
// (`infomax --threads 1 run ...`), and are refused there when the command does
// not take them.
#include "cli.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>

#include "commands.hpp"
#include "infomax/config/spec.hpp"
#include "infomax/experiment/model.hpp"
#include "infomax/plugin/registry.hpp"
#include "infomax/runtime/console.hpp"
#include "infomax/runtime/error.hpp"
#include "infomax/runtime/threads.hpp"
#include "infomax/version.hpp"
#include "infomax/report/reference.hpp"

namespace infomax::cli {

namespace {

// The shared options a command takes.
enum Uses : unsigned { kThreads = 1, kPlugins = 2, kProgress = 4 };

// What a command's positional arguments are, for checking and completion.
enum class Operands {
    none,       // nothing
    spec,       // one SPEC.yaml, then key.path=value overrides
    eval,       // one RUN_DIR, then eval.key=value overrides
    suite,      // one SUITE.yaml, then key.path=value overrides (for every run)
    run_dir,    // one directory
    plugins,    // nothing, or "show NAME"
    schema,     // optional experiment|suite
    shell,      // bash|zsh
    command,    // optional command name (help)
    samples,    // SAMPLES DIM_X DIM_Y, then the estimator's PARAM=VALUE
};

struct Command {
    CLI::App* app = nullptr;
    Operands operands = Operands::none;
    unsigned uses = 0;
    std::function<int(const Args&)> run;
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

const char* kOverrideHelp =
    "Overrides (after the spec, Hydra style):\n"
    "  key.path=value    change a value        +key.path=value   add a key\n"
    "  ++key.path=value  add or change         ~key.path         delete a key\n"
    "  Lists and maps in YAML flow style: 'eval.probes=[linear, knn]'.\n";

// CLI11's help page with our usage lines ("infomax run [OPTIONS] SPEC.yaml
// [OVERRIDES...]"), which say more than the generated ones.
class Formatter : public CLI::Formatter {
public:
    std::map<const CLI::App*, std::string> usage;
    std::string make_usage(const CLI::App* app, std::string name) const override {
        const auto it = usage.find(app);
        return it == usage.end() ? CLI::Formatter::make_usage(app, std::move(name)) : "Usage: " + it->second + "\n";
    }
};

class CommandLine {
public:
    CommandLine();
    int run(const std::vector<std::string>& argv);
    std::string completion(const std::string& shell) const;

private:
    Command& add(const char* name, const char* usage, const char* summary, Operands operands, unsigned uses,
                 std::string examples, std::function<int(const Args&)> run);
    void check_operands(const std::string& name, const Command& c);
    [[noreturn]] void refuse_unknown(CLI::App* where, const std::string& what) const;
    std::vector<std::string> option_names(const CLI::App* app) const;
    std::string help_of(const std::string& command) const;

    CLI::App app_;
    std::shared_ptr<Formatter> formatter_ = std::make_shared<Formatter>();
    Args args_;
    std::map<std::string, Command> commands_;
    std::vector<std::string> order_;  // commands as declared
    // Shared options given before the command, and after it.
    int threads_before_ = 0, threads_after_ = 0;
    std::vector<std::string> plugins_before_, plugins_after_;
    bool no_progress_ = false;
    int quiet_ = 0, verbose_ = 0;
    // The command's positionals as CLI11 collected them.
    std::vector<std::string> operands_;
    std::string help_topic_, shell_;
};

void add_shared(CLI::App* app, unsigned uses, int& threads, std::vector<std::string>& plugins, bool& no_progress,
                int& quiet, int& verbose) {
    if (uses & kThreads)
        app->add_option("--threads", threads,
                        "threads for oneDNN and TBB together (default: train.threads, $INFOMAX_THREADS, free cores)")
            ->type_name("N")
            ->check(CLI::Range(1, infomax::kMaxThreads));
    if (uses & kPlugins)
        app->add_option("--plugin-path", plugins,
                        "also load plugins from DIR (repeatable; also $INFOMAX_PLUGIN_PATH, ':'-separated)")
            ->type_name("DIR");
    if (uses & kProgress)
        app->add_flag("--no-progress", no_progress, "plain progress lines even on a terminal (no live line)");
    app->add_flag("-q,--quiet", quiet, "say nothing on stderr but warnings and errors");
    app->add_flag("-v,--verbose", verbose, "also say how settings were resolved (threads, plugins), every metrics row");
}

CommandLine::CommandLine() : app_(fmt::format("infomax {}: Deep InfoMax and mutual-information learning on the CPU", version()), "infomax") {
    app_.set_help_flag("-h,--help", "print this help (infomax COMMAND --help: the command's)");
    app_.set_version_flag("--version", build_info(), "print the versions (infomax version)");
    app_.require_subcommand(0, 1);
    app_.allow_extras();  // an unknown command gets a did-you-mean (run), not CLI11's message
    formatter_->column_width(30);
    formatter_->label("Subcommands", "Commands");
    formatter_->label("Positionals", "Arguments");
    formatter_->usage[&app_] = "infomax [OPTIONS] COMMAND [ARGS...]   (infomax COMMAND --help: the command's options)";
    app_.formatter(formatter_);  // before the commands: they share it
    add_shared(&app_, kThreads | kPlugins | kProgress, threads_before_, plugins_before_, no_progress_, quiet_, verbose_);
    app_.footer(fmt::format(
        "{}\n"
        "Threads: --threads wins over the spec's train.threads, which wins over $INFOMAX_THREADS; without any a run\n"
        "  follows the machine's load (threads.csv in the run directory).\n"
        "Output: results (a resolved spec, a verdict, the paths of a run and its report) on stdout; progress and\n"
        "  notices on stderr (--quiet: warnings and errors only, --verbose: more).\n"
        "Exit codes: 0 ok, 1 bad input or a failed run, 2 internal error, 3 reproduce found a difference,\n"
        "  130 interrupted (Ctrl-C writes a checkpoint; continue with infomax run --resume DIR).\n\n"
        "Start with:\n"
        "  infomax validate experiments/dim_g_jsd.yaml     check a spec and see the model\n"
        "  infomax run experiments/dim_g_jsd.yaml          train and evaluate; prints the run directory\n"
        "  infomax report runs/dim-g-jsd/<run>             the run's report.html again\n"
        "Docs: docs/running.md, docs/specs.md, docs/reference.md (every key), docs/suites.md.",
        kOverrideHelp));

    add("help", "infomax help [COMMAND]", "print the help of infomax or of one command", Operands::command, 0,
        "infomax help run\ninfomax help suite", [this](const Args&) {
            fmt::print("{}", help_of(help_topic_));
            return 0;
        });
    add("version", "infomax version", "versions of infomax, oneDNN (ISA, runtime), oneTBB; the thread count", Operands::none, 0,
        "infomax version\ninfomax --version", [](const Args& a) { return cmd_version(a); });

    auto& run = add("run", "infomax run [OPTIONS] SPEC.yaml [OVERRIDES...]\n       infomax run [OPTIONS] --resume RUN_DIR [--extend KEY=N]", "train and evaluate an experiment in a new run directory, or continue one (--resume)",
                    Operands::spec, kThreads | kPlugins | kProgress,
                    "infomax run experiments/dim_g_jsd.yaml train.epochs=1 --threads 2\n"
                    "infomax run --resume runs/dim-g-jsd/20261127-101500-1a2b3c4d --extend train.epochs=20",
                    cmd_run);
    run.app->add_option("--resume", args_.resume, "continue the run in DIR from its last checkpoint (no SPEC: the run has its own)")
        ->type_name("DIR");
    run.app->add_option("--extend", args_.extend, "with --resume: train longer (train.steps=N or train.epochs=N), recorded in the manifest")
        ->type_name("KEY=N");

    auto& eval = add("eval", "infomax eval [OPTIONS] RUN_DIR [eval.key=value...]", "evaluate a finished run again, into a new results file", Operands::eval,
                     kThreads | kPlugins | kProgress,
                     "infomax eval runs/dim-g-jsd/20261127-101500-1a2b3c4d 'eval.probes=[linear, knn]'\n"
                     "infomax eval runs/dim-g-jsd/20261127-101500-1a2b3c4d --export-features",
                     cmd_eval);
    eval.app->add_flag("--export-features", args_.export_features, "also write the features and labels as NPY (features/)");

    auto& suite = add("suite", "infomax suite [OPTIONS] SUITE.yaml [OVERRIDES...]", "run a suite's runs (finished ones skipped, interrupted ones resumed; under mpirun shared "
                               "among the ranks), then tabulate",
                      Operands::suite, kThreads | kPlugins,
                      "infomax suite experiments/suites/estimators.yaml train.epochs=1 --out /tmp/suites\n"
                      "infomax suite experiments/suites/estimators.yaml --emit-slurm --partition short --time 2:00:00",
                      cmd_suite);
    suite.app->add_option("--out", args_.out, "put the suite directory under DIR (default: the suite's output.dir)")->type_name("DIR");
    auto* only = suite.app->add_option("--only", args_.only, "run only the suite's N-th run (as its progress lines number them; a job array's task)")
        ->type_name("N")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 40));
    auto* slurm = suite.app->add_flag("--emit-slurm", args_.emit_slurm,
                                      "write a Slurm job array (one task per unfinished run) and a dependent aggregation "
                                      "job under <suite dir>/slurm/; run nothing (docs/scale.md)");
    for (auto [flag, target, what] : {std::tuple{"--partition", &args_.partition, "Slurm partition (#SBATCH --partition)"},
                                      std::tuple{"--time", &args_.time, "Slurm time limit per run, e.g. 2:00:00"},
                                      std::tuple{"--account", &args_.account, "Slurm account"},
                                      std::tuple{"--mem", &args_.mem, "Slurm memory per run, e.g. 4G (#SBATCH --mem)"}})
        suite.app->add_option(flag, *target, std::string(what) + " (with --emit-slurm)")->type_name("TEXT")->needs(slurm);
    auto* compare = suite.app->add_option("--compare", args_.compare,
                                          "after the suite: each cell of REF.csv (setting,metric,value) against the suite's mean, "
                                          "the signed difference and pass/fail; exit 1 if any fails (docs/suites.md)")
                        ->type_name("REF.csv")
                        ->excludes(slurm)
                        ->excludes(only);
    suite.app->add_option("--tolerance", args_.tolerance, "with --compare: the largest |difference| that passes")
        ->type_name("T")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber)
        ->needs(compare);

    add("report", "infomax report DIR", "write the tables and report.html of a suite directory, or a run directory's report.html",
        Operands::run_dir, 0, "infomax report runs/suites/estimators\ninfomax report runs/dim-g-jsd/20261127-101500-1a2b3c4d",
        cmd_report);

    auto& bench = add("bench", "infomax bench [OPTIONS] SPEC.yaml [OVERRIDES...]", "time the training step and inference: phases, op families, GFLOP/s against the sgemm peak",
                      Operands::spec, kThreads | kPlugins,
                      "infomax bench experiments/dim_g_jsd.yaml --threads 1\n"
                      "infomax bench experiments/dim_g_jsd.yaml data.batch_size=256 --steps 50 --json",
                      cmd_bench);
    bench.app->add_option("--steps", args_.steps, "timed training steps")->type_name("N")->capture_default_str()->check(CLI::Range(1, 1000000));
    bench.app->add_option("--warmup", args_.warmup, "untimed steps first")->type_name("N")->capture_default_str()->check(CLI::Range(0, 1000000));
    bench.app->add_flag("--json", args_.json, "print one JSON object instead of the table");

    auto& reproduce = add("reproduce", "infomax reproduce [OPTIONS] RUN_DIR", "run a finished run again and check that every metric, result and parameter matches bit for bit",
        Operands::run_dir, kThreads | kPlugins,
        "infomax reproduce runs/dim-g-jsd/20261127-101500-1a2b3c4d\n"
        "infomax reproduce runs/dim-g-jsd/20261127-101500-1a2b3c4d --out /scratch/reproductions",
        cmd_reproduce);
    reproduce.app->add_option("--out", args_.out, "put the reproduction under DIR (default: RUN_DIR/reproductions)")->type_name("DIR");
    add("validate", "infomax validate [OPTIONS] SPEC.yaml [OVERRIDES...]", "check everything known before training: the spec, every part, the model built, a dry run, the steps",
        Operands::spec, kThreads | kPlugins,
        "infomax validate experiments/dim_g_jsd.yaml\ninfomax validate my_spec.yaml objectives.global.estimator=infonce",
        cmd_validate);
    add("show", "infomax show [OPTIONS] SPEC.yaml [OVERRIDES...]", "print the resolved spec (extends, overrides, defaults) on stdout", Operands::spec, kPlugins,
        "infomax show experiments/dim_g_jsd.yaml > resolved.yaml\ninfomax show experiments/dim_g_jsd.yaml train.epochs=1",
        cmd_show);
    add("plugins", "infomax plugins [OPTIONS] [show NAME]", "list the registered parts, or one part's params (plugins show NAME)", Operands::plugins, kPlugins,
        "infomax plugins\ninfomax plugins show jsd", cmd_plugins);
    add("reference", "infomax reference [OPTIONS]", "print the spec reference (Markdown) from the schemas", Operands::none, kPlugins,
        "infomax reference > docs/reference.md\ninfomax reference --plugin-path ~/my-plugins", cmd_reference);
    auto& schema = add("schema", "infomax schema [OPTIONS] [experiment|suite]", "print the experiment (or suite) schema; --json: as JSON Schema for editors",
                       Operands::schema, kPlugins,
                       "infomax schema --json > schemas/experiment.schema.json\ninfomax schema suite --json",
                       cmd_schema);
    schema.app->add_flag("--json", args_.json,
                         "JSON Schema (draft-07) with every part's params resolved by its type, for yaml-language-server "
                         "and VS Code");
    auto& estimate = add("estimate", "infomax estimate [OPTIONS] SAMPLES DIM_X DIM_Y [PARAM=VALUE...]",
                         "estimate I(X; Y) of a sample (bmi's CSV or an NPY): prints one number, in nats",
                         Operands::samples, kThreads | kPlugins,
                         "infomax estimate sample.csv 5 5 --estimator ksg k=10\n"
                         "infomax estimate sample.npy 2 2 --estimator infonce --seed 1 --verbose",
                         cmd_estimate);
    estimate.app->add_option("--estimator", args_.estimator,
                             "a sample estimator (ksg, cca, binned) or a bound trained with bmi's protocol (infonce, nwj, dv, "
                             "smile, ...); its params follow as PARAM=VALUE")
        ->type_name("NAME")
        ->capture_default_str();
    estimate.app->add_option("--seed", args_.seed, "the split, the critic's initialisation and the batches (a bound)")
        ->type_name("N")
        ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 62));
    estimate.app->add_option("--max-steps", args_.max_steps, "a bound's training steps at most (early stopping may end it sooner)")
        ->type_name("N")
        ->capture_default_str()
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 40));
    estimate.app->add_option("--batch", args_.batch, "a bound's batch, drawn from the training half")
        ->type_name("N")
        ->capture_default_str()
        ->check(CLI::Range(std::int64_t{2}, std::int64_t{1} << 24));
    estimate.app->add_option("--critic", args_.critic, "a bound's critic, as in a spec (default: {type: joint, critic_layers: [16, 8]})")
        ->type_name("YAML");
    add("completion", "infomax completion bash|zsh", "print a completion script: source <(infomax completion bash)", Operands::shell, 0,
        "infomax completion bash > ~/.local/share/bash-completion/completions/infomax\n"
        "infomax completion zsh > ~/.infomax.zsh   (and in ~/.zshrc: source ~/.infomax.zsh)",
        [this](const Args&) {
            fmt::print("{}", completion(shell_));
            return 0;
        });
    // The shared options last in each command's help, after its own.
    for (auto& [name, c] : commands_)
        add_shared(c.app, c.uses, threads_after_, plugins_after_, no_progress_, quiet_, verbose_);
}

Command& CommandLine::add(const char* name, const char* usage, const char* summary, Operands operands, unsigned uses,
                          std::string examples, std::function<int(const Args&)> run) {
    Command c;
    c.app = app_.add_subcommand(name, summary);
    formatter_->usage[c.app] = usage;
    c.operands = operands;
    c.uses = uses;
    c.run = std::move(run);
    c.app->allow_extras();  // refused below, naming the argument
    // A command's operands and overrides are collected in order and sorted out in check_operands.
    const char* report_dir = std::string(name) == "report" ? "a suite or run directory" : "a finished run's directory";
    for (auto [kind, label, what] : {std::tuple{Operands::spec, "SPEC", "the experiment spec (YAML), then key.path=value overrides"},
                                     {Operands::eval, "RUN_DIR", "a finished run's directory, then eval.key=value overrides"},
                                     {Operands::suite, "SUITE", "the suite (YAML), then key.path=value overrides for every run"},
                                     {Operands::run_dir, "DIR", report_dir},
                                     {Operands::samples, "SAMPLES", "the sample (CSV with header X0..,Y0.. or NPY (n, DIM_X + DIM_Y)), DIM_X, DIM_Y, then the estimator's PARAM=VALUE"}})
        if (operands == kind) c.app->add_option(label, operands_, what)->type_name("");
    switch (operands) {
        case Operands::none:
        case Operands::spec:
        case Operands::eval:
        case Operands::suite:
        case Operands::run_dir:
        case Operands::samples:
            break;
        case Operands::plugins:
            c.app->add_option("show NAME", operands_, "show one part's params")->type_name("")->expected(0, 2);
            break;
        case Operands::schema:
            c.app->add_option("KIND", operands_, "experiment (default) or suite")
                ->type_name("experiment|suite")
                ->check(CLI::IsMember({"experiment", "suite"}))
                ->expected(0, 1);
            break;
        case Operands::shell:
            c.app->add_option("SHELL", shell_, "the shell")->type_name("bash|zsh")->required()->check(CLI::IsMember({"bash", "zsh"}));
            break;
        case Operands::command:
            c.app->add_option("COMMAND", help_topic_, "the command")->type_name("COMMAND");
            break;
    }
    std::string footer = "Examples:\n";
    for (std::size_t start = 0; start < examples.size();) {
        const std::size_t end = std::min(examples.find('\n', start), examples.size());
        footer += "  " + examples.substr(start, end - start) + "\n";
        start = end + 1;
    }
    if (operands == Operands::spec || operands == Operands::suite) footer = std::string(kOverrideHelp) + "\n" + footer;
    c.app->footer(footer);
    order_.push_back(name);
    return commands_[name] = std::move(c);
}

std::vector<std::string> CommandLine::option_names(const CLI::App* app) const {
    std::vector<std::string> names;
    for (const CLI::Option* o : app->get_options()) {
        for (const auto& l : o->get_lnames()) names.push_back("--" + l);
        for (const auto& s : o->get_snames()) names.push_back("-" + s);
    }
    return names;
}

void CommandLine::refuse_unknown(CLI::App* where, const std::string& what) const {
    const bool top = where == &app_;
    const std::string cmd = top ? "infomax" : "infomax " + where->get_name();
    if (what.size() > 1 && what[0] == '-') {
        std::string name = what.substr(0, what.find('='));
        // An option of another command, or of infomax before the command.
        std::vector<std::string> takers;
        for (const auto& n : order_)
            if (commands_.at(n).app->get_option_no_throw(name) != nullptr) takers.push_back(n);
        const auto names = option_names(where);
        if (std::find(names.begin(), names.end(), name) == names.end() && !takers.empty() && !top)
            throw UsageError(fmt::format("{}: option '{}' does not apply to this command (it is an option of: {}); see {} --help",
                                    cmd, name, fmt::join(takers, ", "), cmd));
        throw UsageError(fmt::format("{}: {}; see {} --help", cmd, config::unknown_name("option", name, names), cmd));
    }
    if (top)
        throw UsageError(fmt::format("infomax: {}; see infomax --help", config::unknown_name("command", what, order_)));
    throw UsageError(fmt::format("{}: unexpected argument '{}' ({} takes {}); see {} --help", cmd, what, where->get_name(),
                            commands_.at(where->get_name()).operands == Operands::none ? "no arguments"
                                                                                         : "no more arguments",
                            cmd));
}

// Splits the command's positionals into its operands and its overrides, and
// refuses what the command does not take, naming the argument.
void CommandLine::check_operands(const std::string& name, const Command& c) {
    const std::string cmd = "infomax " + name;
    const bool with_overrides = c.operands == Operands::spec || c.operands == Operands::eval || c.operands == Operands::suite;
    if (with_overrides) {
        for (std::size_t i = 0; i < operands_.size(); ++i) {
            const std::string& a = operands_[i];
            if (is_override(a)) {
                args_.overrides.push_back(a);
            } else if (looks_like_key(a)) {
                // "train.steps 10": a setting without its '='.
                throw Error(fmt::format("argument '{}'{}: expected key.path=value (did you mean '{}={}'?)", a,
                                        i + 1 < operands_.size() ? fmt::format(" followed by '{}'", operands_[i + 1]) : "",
                                        a, i + 1 < operands_.size() ? operands_[i + 1] : "VALUE"));
            } else {
                args_.positional.push_back(a);
            }
        }
        const char* what = c.operands == Operands::eval ? "RUN_DIR" : c.operands == Operands::suite ? "SUITE.yaml" : "SPEC.yaml";
        if (name == "run" && !args_.resume.empty()) {
            if (!args_.positional.empty())
                throw UsageError(fmt::format("{} --resume: unexpected argument '{}' (no spec: the run has its own); see {} --help",
                                        cmd, args_.positional[0], cmd));
            if (!args_.overrides.empty())
                throw UsageError(fmt::format("{} --resume: unexpected override '{}' (a resumed run keeps its spec; train "
                                        "longer with --extend train.steps=N); see {} --help",
                                        cmd, args_.overrides[0], cmd));
            return;
        }
        if (!args_.extend.empty()) throw UsageError(fmt::format("{}: --extend goes with --resume DIR; see {} --help", cmd, cmd));
        if (args_.positional.empty())
            throw UsageError(fmt::format("{}: {} is missing; see {} --help", cmd, what, cmd));
        if (args_.positional.size() > 1)
            throw UsageError(fmt::format("{}: unexpected argument '{}' ({} takes one {}; settings after it are key.path=value); "
                                    "see {} --help",
                                    cmd, args_.positional[1], name, what, cmd));
        return;
    }
    if (c.operands == Operands::samples) {
        for (const auto& o : operands_) (is_override(o) ? args_.overrides : args_.positional).push_back(o);
        if (args_.positional.size() < 3)
            throw UsageError(fmt::format("{}: {} is missing; see {} --help", cmd,
                                         std::vector<const char*>{"SAMPLES", "DIM_X", "DIM_Y"}[args_.positional.size()], cmd));
        if (args_.positional.size() > 3)
            throw UsageError(fmt::format("{}: unexpected argument '{}' (estimate takes SAMPLES DIM_X DIM_Y, then the "
                                         "estimator's PARAM=VALUE); see {} --help",
                                         cmd, args_.positional[3], cmd));
        return;
    }
    if (c.operands == Operands::plugins && !operands_.empty()) {
        if (operands_.size() != 2 || operands_[0] != "show")
            throw UsageError(fmt::format("{}: unexpected argument '{}' (plugins takes nothing, or show NAME); see {} --help", cmd,
                                    operands_[0] == "show" ? operands_.back() : operands_[0], cmd));
    }
    if (c.operands == Operands::run_dir && operands_.size() != 1) {
        const char* what = name == "report" ? "DIR" : "RUN_DIR";
        if (operands_.empty()) throw UsageError(fmt::format("{}: {} is missing; see {} --help", cmd, what, cmd));
        throw UsageError(fmt::format("{}: unexpected argument '{}' ({} takes one {}); see {} --help", cmd, operands_[1],
                                     name, what, cmd));
    }
    args_.positional = operands_;
}

std::string CommandLine::help_of(const std::string& command) const {
    if (command.empty()) return app_.help();
    const auto it = commands_.find(command);
    if (it == commands_.end())
        throw UsageError(fmt::format("infomax help: {}; see infomax --help", config::unknown_name("command", command, order_)));
    return it->second.app->help();
}

int CommandLine::run(const std::vector<std::string>& argv_in) {
    // "--" after the command: everything after it is an operand, even a word
    // that looks like an option or a command (POSIX's end of options).
    std::vector<std::string> argv = argv_in, after_dashes;
    if (const auto dashes = std::find(argv.begin(), argv.end(), "--"); dashes != argv.end()) {
        const bool command_before = std::any_of(argv.begin(), dashes, [&](const std::string& a) { return commands_.count(a) > 0; });
        if (command_before) {
            after_dashes.assign(dashes + 1, argv.end());
            argv.erase(dashes, argv.end());
        }
    }
    std::vector<std::string> reversed(argv.rbegin(), argv.rend());  // CLI11 takes them last first
    try {
        app_.parse(reversed);
    } catch (const CLI::CallForHelp&) {
        const auto subs = app_.get_subcommands();
        fmt::print("{}", subs.empty() ? app_.help() : subs[0]->help());
        return 0;
    } catch (const CLI::CallForVersion&) {
        fmt::print("{}\n", build_info());
        return 0;
    } catch (const CLI::ParseError& e) {
        const auto subs = app_.get_subcommands();
        const std::string cmd = subs.empty() ? "infomax" : "infomax " + subs[0]->get_name();
        throw UsageError(fmt::format("{}: {}; see {} --help", cmd, e.what(), cmd));
    }
    const auto subs = app_.get_subcommands();
    if (subs.empty()) {
        for (const auto& r : app_.remaining()) refuse_unknown(&app_, r);
        fmt::print(stderr, "{}", app_.help());
        return 1;
    }
    const std::string name = subs[0]->get_name();
    const Command& c = commands_.at(name);
    for (const auto& r : app_.remaining()) refuse_unknown(&app_, r);
    for (const auto& r : subs[0]->remaining()) refuse_unknown(subs[0], r);
    if (!after_dashes.empty()) {
        if (c.operands == Operands::none)
            throw UsageError(fmt::format("infomax {}: unexpected argument '{}' ({} takes no arguments); see infomax {} --help",
                                         name, after_dashes[0], name, name));
        operands_.insert(operands_.end(), after_dashes.begin(), after_dashes.end());
    }

    // Shared options before the command: refused where the command does not take them.
    for (auto [flag, use] : {std::pair{"--threads", kThreads}, {"--plugin-path", kPlugins}, {"--no-progress", kProgress}})
        if (app_.get_option(flag)->count() > 0 && !(c.uses & use))
            throw UsageError(fmt::format("infomax {}: option '{}' does not apply to this command; see infomax {} --help", name,
                                    flag, name));
    if (quiet_ > 0 && verbose_ > 0) throw UsageError(fmt::format("infomax {}: --quiet and --verbose contradict each other", name));
    console::set_level(quiet_ > 0 ? console::Level::quiet : verbose_ > 0 ? console::Level::verbose : console::Level::normal);

    if (app_.get_option("--threads")->count() > 0 && subs[0]->get_option("--threads")->count() > 0 &&
        threads_before_ != threads_after_)
        throw UsageError(fmt::format("infomax {}: --threads given twice ({} and {})", name, threads_before_, threads_after_));
    args_.threads = threads_after_ > 0 ? threads_after_ : threads_before_;
    args_.plugin_paths = plugins_before_;
    args_.plugin_paths.insert(args_.plugin_paths.end(), plugins_after_.begin(), plugins_after_.end());
    args_.progress = !no_progress_;
    console::set_live(args_.progress);

    check_operands(name, c);
    return c.run(args_);
}

// --- completion -------------------------------------------------------------

// Words joined by spaces (none holds a quote or a space: names, options, keys).
std::string words(const std::vector<std::string>& v) { return fmt::format("{}", fmt::join(v, " ")); }

std::string CommandLine::completion(const std::string& shell) const {
    Registry registry;
    registry.load_defaults();  // and $INFOMAX_PLUGIN_PATH's parts
    const auto keys = override_keys(experiment_schema(), registry);
    std::vector<std::string> spec_keys, eval_keys;
    for (const auto& k : keys) {
        spec_keys.push_back(k + "=");
        if (k.rfind("eval.", 0) == 0) eval_keys.push_back(k + "=");
    }
    // Options that take a value, and what the value is.
    std::vector<std::string> dir_options, number_options, text_options;
    std::string s = fmt::format(
        "# bash completion for infomax {} (generated by `infomax completion bash`):\n"
        "#   source <(infomax completion bash)     or save it in ~/.local/share/bash-completion/completions/infomax\n"
        "# Completes commands, options, spec files and the spec's override keys (from the schemas).\n",
        version());
    s += fmt::format("_infomax_spec_keys='{}'\n", words(spec_keys));
    s += fmt::format("_infomax_eval_keys='{}'\n", words(eval_keys));
    std::string cases;
    auto collect = [&](const CLI::App* app) {
        for (const CLI::Option* o : app->get_options()) {
            if (o->get_positional() || o->get_type_size() == 0) continue;
            for (const auto& l : o->get_lnames()) {
                const std::string t = o->get_type_name();
                auto& into = t == "DIR" ? dir_options : t == "N" ? number_options : text_options;
                if (std::find(into.begin(), into.end(), "--" + l) == into.end()) into.push_back("--" + l);
            }
        }
    };
    collect(&app_);
    for (const auto& n : order_) {
        const Command& c = commands_.at(n);
        collect(c.app);
        std::vector<std::string> opts = option_names(c.app);
        std::string operands;
        switch (c.operands) {
            case Operands::spec:
            case Operands::suite: operands = "spec"; break;
            case Operands::eval: operands = "eval"; break;
            case Operands::run_dir: operands = "dir"; break;
            case Operands::plugins: operands = "plugins"; break;
            case Operands::schema: operands = "schema"; break;
            case Operands::shell: operands = "shell"; break;
            case Operands::command: operands = "command"; break;
            case Operands::none: operands = "none"; break;
            case Operands::samples: operands = "samples"; break;
        }
        cases += fmt::format("        {}) opts='{}'; operands={} ;;\n", n, words(opts), operands);
    }
    std::vector<std::string> with_value;
    for (const auto* v : {&dir_options, &number_options, &text_options})
        with_value.insert(with_value.end(), v->begin(), v->end());
    s += fmt::format(R"(_infomax() {{
    # zsh runs this through bashcompinit: index arrays from 0, as bash does.
    [[ -n ${{ZSH_VERSION-}} ]] && setopt localoptions ksharrays
    local cur=${{COMP_WORDS[COMP_CWORD]}} prev=${{COMP_WORDS[COMP_CWORD-1]}} cmd= i opts operands
    # '=' splits a word in bash: complete "key=" as one word.
    if [[ $cur == = || $prev == = ]]; then return; fi
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${{COMP_WORDS[i]}} in
            {}) ((i++)) ;;
            -*) ;;
            *) cmd=${{COMP_WORDS[i]}}; break ;;
        esac
    done
    case $prev in
        {}) COMPREPLY=($(compgen -d -- "$cur")); return ;;
        --extend) COMPREPLY=($(compgen -W 'train.steps= train.epochs=' -- "$cur")); compopt -o nospace 2>/dev/null; return ;;
        {}) return ;;
    esac
    if [[ -z $cmd ]]; then
        COMPREPLY=($(compgen -W '{} {}' -- "$cur"))
        return
    fi
    case $cmd in
{}        *) return ;;
    esac
    if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "$opts" -- "$cur")); return; fi
    case $operands in
        spec) COMPREPLY=($(compgen -f -X '!*.y*ml' -- "$cur") $(compgen -d -S / -- "$cur") $(compgen -W "$_infomax_spec_keys" -- "$cur")) ;;
        eval) COMPREPLY=($(compgen -d -S / -- "$cur") $(compgen -W "$_infomax_eval_keys" -- "$cur")) ;;
        dir) COMPREPLY=($(compgen -d -S / -- "$cur")) ;;
        plugins) COMPREPLY=($(compgen -W 'show' -- "$cur")) ;;
        schema) COMPREPLY=($(compgen -W 'experiment suite' -- "$cur")) ;;
        shell) COMPREPLY=($(compgen -W 'bash zsh' -- "$cur")) ;;
        samples) COMPREPLY=($(compgen -f -X '!*.@(csv|npy)' -- "$cur") $(compgen -d -S / -- "$cur")) ;;
        command) COMPREPLY=($(compgen -W '{}' -- "$cur")) ;;
    esac
    # A key ends in '=' and a folder in '/': the value or the file comes next.
    if [[ ${{#COMPREPLY[@]}} == 1 && ${{COMPREPLY[0]}} == *[=/] ]]; then compopt -o nospace 2>/dev/null; fi
}}
complete -o filenames -F _infomax infomax
)",
                     fmt::join(with_value, "|"), fmt::join(dir_options, "|"),
                     fmt::join([&] {
                         auto v = number_options;
                         v.insert(v.end(), text_options.begin(), text_options.end());
                         return v;
                     }(),
                               "|"),
                     words(order_), words(option_names(&app_)), cases, words(order_));
    if (shell == "bash") return s;
    // zsh runs the bash function through its bash-completion layer, so both
    // shells complete the same words from one script.
    return "# zsh completion for infomax (generated by `infomax completion zsh`): in ~/.zshrc,\n"
           "#   source <(infomax completion zsh)\n"
           "autoload -U +X compinit && compinit\nautoload -U +X bashcompinit && bashcompinit\n" +
           s;
}

}  // namespace

int run_command_line(const std::vector<std::string>& argv) {
    CommandLine cli;
    return cli.run(argv);
}

}  // namespace infomax::cli
