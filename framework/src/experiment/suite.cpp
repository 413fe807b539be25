#include "experiment/load_spec.hpp"
#include "infomax/experiment/suite.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <deque>
#include <map>
#include <thread>
#include <tuple>

#include "config/document.hpp"
#include "infomax/data/files.hpp"
#include "infomax/experiment/model.hpp"
#include "infomax/experiment/run.hpp"
#include "infomax/experiment/session.hpp"
#include "infomax/runtime/console.hpp"
#include "infomax/runtime/error.hpp"
#include "infomax/runtime/threads.hpp"
#include "infomax/runtime/world.hpp"
#include "runtime/collectives.hpp"
#include "run_dir/run_dir.hpp"
#include "suite_internal.hpp"

extern char** environ;

namespace fs = std::filesystem;
using nlohmann::json;

namespace infomax {

std::string suite_schema_path() {
    return (fs::path(experiment_schema_path()).parent_path() / "suite.schema.yaml").string();
}

const config::Schema& suite_schema() {
    static const config::Schema schema = config::Schema::from_file(suite_schema_path());
    return schema;
}

namespace detail {

config::Document load_suite(const std::string& file) {
    const config::Schema& schema = suite_schema();
    config::Document doc = config::load(file);
    if (!doc.root.IsMap())
        throw config::SpecError({{doc.origin_of(""), "", "expected a map of settings (name: ..., base: ..., sweep: ...)"}});
    // An experiment spec handed to suite: one line that says so, not one unknown key per line.
    if (doc.root["kind"] && !doc.root["sweep"] && !doc.root["base"])
        throw config::SpecError({{doc.origin_of(""), "",
                                  fmt::format("an experiment spec (it has 'kind:'), not a suite: run it with "
                                              "`infomax run {}`, or sweep it from a suite (base: {} or sweep: [{{grid: "
                                              "{{spec: [...]}}}}])",
                                              file, file)}});
    auto errs = config::validate(doc, schema);
    if (!errs.empty()) throw config::SpecError(errs);
    return doc;
}

std::string flow_text(const YAML::Node& n) {
    if (n.IsScalar()) return n.Scalar();
    YAML::Emitter e;
    e.SetMapFormat(YAML::Flow);
    e.SetSeqFormat(YAML::Flow);
    e << n;
    return e.c_str();
}

std::vector<PlannedRun> plan_suite(const config::Document& doc, const std::string& file, std::vector<SweptKey>* swept) {
    const fs::path here = fs::path(file).parent_path();
    const YAML::Node& root = doc.root;
    // key, value as flow text, and where the value was written in the suite file
    struct Setting {
        std::string key, value, source;
    };
    using Settings = std::vector<Setting>;
    auto sweeps = [&](const std::string& key, const std::string& source) {
        if (!swept) return;
        for (const auto& k : *swept)
            if (k.key == key) return;
        swept->push_back({key, source});
    };
    std::vector<Settings> combos{{}};
    for (std::size_t b = 0; b < root["sweep"].size(); ++b) {
        const YAML::Node block = root["sweep"][b];
        const std::string where = fmt::format("sweep[{}]", b);
        std::vector<Settings> options;
        if (block.size() != 1)
            throw config::SpecError({{doc.origin_of(where), where, "a sweep block has one of grid, zip or list"}});
        if (block["grid"]) {
            options = {{}};
            for (const auto& kv : block["grid"]) {
                std::vector<Settings> next;
                const std::string at = where + ".grid." + kv.first.Scalar();
                sweeps(kv.first.Scalar(), at);
                for (const auto& o : options)
                    for (std::size_t i = 0; i < kv.second.size(); ++i) {
                        Settings s = o;
                        s.push_back({kv.first.Scalar(), flow_text(kv.second[i]), at});
                        next.push_back(s);
                    }
                options = next;
            }
        } else if (block["zip"]) {
            std::size_t n = 0;
            for (const auto& kv : block["zip"]) {
                if (n && kv.second.size() != n)
                    throw config::SpecError({{doc.origin_of(where + ".zip." + kv.first.Scalar()), where + ".zip." + kv.first.Scalar(),
                                              fmt::format("zip lists must have one length: {} has {} values, the first had {}",
                                                          kv.first.Scalar(), kv.second.size(), n)}});
                n = kv.second.size();
            }
            options.resize(n);
            for (const auto& kv : block["zip"]) {
                const std::string at = where + ".zip." + kv.first.Scalar();
                sweeps(kv.first.Scalar(), at);
                for (std::size_t i = 0; i < n; ++i) options[i].push_back({kv.first.Scalar(), flow_text(kv.second[i]), at});
            }
        } else {
            for (std::size_t i = 0; i < block["list"].size(); ++i) {
                Settings s;
                for (const auto& kv : block["list"][i]) {
                    const std::string at = fmt::format("{}.list[{}].{}", where, i, kv.first.Scalar());
                    sweeps(kv.first.Scalar(), at);
                    s.push_back({kv.first.Scalar(), flow_text(kv.second), at});
                }
                options.push_back(s);
            }
        }
        std::vector<Settings> next;
        for (const auto& c : combos)
            for (const auto& o : options) {
                Settings s = c;
                s.insert(s.end(), o.begin(), o.end());
                next.push_back(s);
            }
        combos = next;
    }
    std::vector<std::int64_t> seeds;
    for (const auto& s : root["seeds"]) seeds.push_back(s.as<std::int64_t>());
    std::vector<std::string> common, common_sources;
    for (std::size_t i = 0; i < root["overrides"].size(); ++i) {
        common.push_back(root["overrides"][i].Scalar());
        common_sources.push_back(fmt::format("overrides[{}]", i));
    }
    if (!seeds.empty()) sweeps("seed", "seeds");

    std::vector<PlannedRun> out;
    for (const auto& c : combos)
        for (std::size_t k = 0; k < std::max<std::size_t>(1, seeds.size()); ++k) {
            PlannedRun r;
            r.spec = root["base"] ? (here / root["base"].Scalar()).string() : "";
            r.overrides = common;
            r.sources = common_sources;
            std::vector<std::string> parts;
            for (const auto& [key, value, source] : c) {
                if (key == "spec") {
                    r.spec = (here / value).string();
                    parts.push_back("spec=" + fs::path(value).stem().string());
                } else {
                    r.overrides.push_back(key + "=" + value);
                    r.sources.push_back(source);
                    parts.push_back(key + "=" + value);
                }
            }
            r.setting = parts.empty() ? "default" : fmt::format("{}", fmt::join(parts, ","));
            if (!seeds.empty()) {
                r.seed = seeds[k];
                r.overrides.push_back(fmt::format("seed={}", r.seed));
                r.sources.push_back(fmt::format("seeds[{}]", k));
                parts.push_back(fmt::format("seed={}", r.seed));
            }
            std::string name = parts.empty() ? "default" : fmt::format("{}", fmt::join(parts, ","));
            for (auto& ch : name)
                if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '=' || ch == ',' ||
                      ch == '-' || ch == '+'))
                    ch = '_';
            r.name = name;
            if (r.spec.empty())
                throw config::SpecError({{doc.origin_of(""), "", "no spec: give `base:` or a `spec:` in every list entry"}});
            out.push_back(r);
        }
    return out;
}

// The run directory of a planned run whose resolved spec hashes to `hash`, if
// any: of several, the furthest along (finished, then the latest checkpoint,
// then the newest); a directory that died before its first checkpoint is
// chosen only when there is nothing better, and is continued from the start.
std::string find_run_dir(const fs::path& key_dir, const std::string& hash) {
    std::error_code ec;
    if (!fs::is_directory(key_dir, ec)) return "";
    std::string best;
    std::tuple<bool, std::string, std::string> best_rank;
    for (const auto& name_dir : fs::directory_iterator(key_dir, ec)) {
        if (!name_dir.is_directory(ec)) continue;
        for (const auto& d : fs::directory_iterator(name_dir.path(), ec)) {
            const std::string n = d.path().filename().string();
            if (!d.is_directory(ec) || n.find("-" + hash) == std::string::npos || !RunDir(d.path()).is_run())
                continue;
            const auto ck = checkpoint_files(d.path());
            const std::tuple<bool, std::string, std::string> rank{
                RunDir(d.path()).finished(), ck.empty() ? "" : ck.back().filename().string(), n};
            if (best.empty() || rank > best_rank) {
                best = d.path().string();
                best_rank = rank;
            }
        }
    }
    return best;
}

namespace {
// One shell word: 'text' with each ' written as '\''.
std::string shell_word(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}
}  // namespace

std::string write_slurm_jobs(const SuiteOptions& opt, const YAML::Node& root, const std::vector<PlannedRun>& plan,
                             const std::vector<std::string>& hashes, const fs::path& suite_dir) {
    std::vector<std::string> todo;
    for (std::size_t i = 0; i < plan.size(); ++i) {
        const std::string dir = find_run_dir(SuiteDir(suite_dir).run_root(plan[i].name), hashes[i]);
        if (dir.empty() || !RunDir(dir).finished()) todo.push_back(std::to_string(i + 1));
    }
    const SuiteDir suite(suite_dir);
    const fs::path out = suite.slurm();
    fs::create_directories(out);
    const std::string name = root["name"].Scalar();
    const std::int64_t per_run = root["threads_per_run"].as<std::int64_t>();
    // The command every job runs: this infomax, the suite file and the command line's overrides.
    std::string cmd = shell_word(opt.cli);
    for (const auto& p : opt.plugin_paths) cmd += " --plugin-path " + shell_word(fs::absolute(p).string());
    cmd += " suite " + shell_word(fs::absolute(opt.file).string());
    for (const auto& o : opt.overrides) cmd += " " + shell_word(o);
    cmd += " --out " + shell_word(fs::absolute(suite_dir.parent_path()).string());
    auto header = [&](const std::string& job, const std::string& log) {
        std::string h = "#!/bin/bash\n";
        h += fmt::format("#SBATCH --job-name={}\n#SBATCH --output={}\n", job, (out / log).string());
        if (!opt.partition.empty()) h += fmt::format("#SBATCH --partition={}\n", opt.partition);
        if (!opt.time.empty()) h += fmt::format("#SBATCH --time={}\n", opt.time);
        if (!opt.account.empty()) h += fmt::format("#SBATCH --account={}\n", opt.account);
        return h;
    };
    // One array task per unfinished run; a task whose run finished meanwhile skips it.
    std::string array = header(name + "-runs", "run-%a.out");
    array += fmt::format("#SBATCH --array={}\n#SBATCH --ntasks=1\n#SBATCH --cpus-per-task={}\n", fmt::join(todo, ","), per_run);
    array += "# Written by infomax suite --emit-slurm: task N runs the suite's N-th run alone.\n";
    array += fmt::format("exec {} --threads {} --only \"$SLURM_ARRAY_TASK_ID\"\n", cmd, per_run);
    std::string aggregate = header(name + "-tables", "tables.out");
    aggregate += "#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=1\n";
    aggregate += "# After every task: the suite again, which finds them finished and writes runs.json, the tables and the report\n"
                 "# (a run that failed or was cut off is run here; check the tasks' logs first if that is not wanted).\n";
    aggregate += fmt::format("exec {} --threads 1\n", cmd);
    std::string submit = "#!/bin/bash\n# Submits the job array, then the aggregation job to run after it (whatever its tasks' outcome).\nset -euo pipefail\n";
    submit += fmt::format("cd {}\n", shell_word(out.string()));
    submit += "runs=$(sbatch --parsable runs.sbatch)\n"
              "sbatch --dependency=afterany:\"${runs%%;*}\" tables.sbatch\n"
              "echo \"submitted job array $runs and its aggregation\"\n";
    data::write_file_atomic(suite.slurm_runs().string(), array);
    data::write_file_atomic(suite.slurm_tables().string(), aggregate);
    data::write_file_atomic(suite.slurm_submit().string(), submit);
    fs::permissions(suite.slurm_submit(), fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                    fs::perm_options::add);
    return suite.slurm_submit().string();
}

}  // namespace detail

namespace {

std::atomic<bool> g_suite_stop{false};
// Message tags between a suite's ranks: reports to rank 0, and its answers.
constexpr int kSuiteReport = 1, kSuiteAssign = 2;
extern "C" void on_suite_sigint(int) { g_suite_stop.store(true); }

std::string last_line(const std::string& file) {
    std::ifstream in(file);
    std::string line, last;
    while (std::getline(in, line))
        if (!line.empty()) last = line;
    return last;
}

}  // namespace

SuiteResult run_suite(const SuiteOptions& opt) {
    config::Document doc = detail::load_suite(opt.file);
    const YAML::Node& root = doc.root;
    std::vector<detail::SweptKey> swept;
    auto plan = detail::plan_suite(doc, opt.file, &swept);
    const fs::path suite_dir = fs::path(!opt.out.empty() ? opt.out : root["output"] ? root["output"]["dir"].Scalar() : "runs/suites") /
                               root["name"].Scalar();

    // A command-line value for a swept key would replace every run's value:
    // runs filed under seed=1 and seed=2 would be one run twice.
    auto written_at = [&](const std::string& source) {  // the key as written in the suite file, else its value
        return doc.key_origins.count(source) ? doc.key_origins.at(source) : doc.origin_of(source);
    };
    std::vector<config::Diagnostic> clashes;
    for (std::size_t i = 0; i < opt.overrides.size(); ++i) {
        const std::string& o = opt.overrides[i];
        const std::string key = config::override_key(o);  // "" (malformed) is reported when the runs load
        if (key.empty()) continue;
        for (const auto& k : swept) {
            const std::string swept_key = config::dotted_key(k.key);
            const bool overlaps = key == swept_key || swept_key.starts_with(key + ".") || key.starts_with(swept_key + ".");
            if (!overlaps) continue;
            clashes.push_back({config::Origin{"", 0, 0, static_cast<int>(i) + 1, o}, key,
                               fmt::format("the suite sweeps '{}' ({}): a command-line value would give every run the same "
                                           "one; remove this argument, or change the sweep in the suite file",
                                           k.key, written_at(k.source).to_string())});
            break;
        }
    }
    if (!clashes.empty()) throw config::SpecError(clashes);

    // Every run's spec must load before anything starts: a typo should not
    // surface hours into a suite. Problems with a value the suite file wrote
    // are reported at its line in the suite file.
    Session session({opt.threads, opt.plugin_paths});
    // One problem is often every run's: each text is said once, with the runs it concerns.
    std::vector<std::pair<std::string, std::vector<std::string>>> problems;  // text, runs
    auto problem = [&](const std::string& text, const std::string& run) {
        for (auto& [t, runs] : problems)
            if (t == text) return runs.push_back(run);
        problems.push_back({text, {run}});
    };
    std::vector<std::string> hashes;
    std::vector<double> cost;  // samples a run trains on, where its spec says (longest first)
    for (auto& r : plan) {
        r.overrides.insert(r.overrides.end(), opt.overrides.begin(), opt.overrides.end());
        r.overrides.push_back("output.dir=" + detail::SuiteDir(suite_dir).run_root(r.name).string());
        try {
            const Experiment e = session.load(r.spec, r.overrides);
            hashes.push_back(resolved_hash(e.resolved_yaml));
            cost.push_back(e.train.steps ? double(*e.train.steps) * double(e.data.batch_size) : -1.0);
        } catch (const config::SpecError& e) {
            std::vector<config::Diagnostic> ds = e.diagnostics();
            for (auto& d : ds) {
                const int arg = d.origin.argument;
                if (arg >= 1 && static_cast<std::size_t>(arg) <= r.sources.size() && !r.sources[arg - 1].empty()) {
                    d.origin = written_at(r.sources[arg - 1]);
                } else if (arg > static_cast<int>(r.sources.size()) &&
                           static_cast<std::size_t>(arg) <= r.sources.size() + opt.overrides.size()) {
                    d.origin.argument = arg - static_cast<int>(r.sources.size());  // the suite's own command line
                }
            }
            config::sort_diagnostics(ds);
            std::string text;
            for (const auto& d : ds) text += (text.empty() ? "" : "\n  ") + d.to_string();
            problem(text, r.name);
            hashes.emplace_back();
            cost.push_back(-1);
        } catch (const Error& e) {
            problem(e.what(), r.name);
            hashes.emplace_back();
            cost.push_back(-1);
        }
    }
    if (!problems.empty()) {
        std::size_t failing = 0;
        std::string text;
        for (const auto& [t, runs] : problems) {
            failing += runs.size();
            text += fmt::format("\n{}: {}", runs.size() == 1 ? fmt::format("run '{}'", runs[0])
                                                             : fmt::format("{} runs ('{}', ...)", runs.size(), runs[0]),
                                t);
        }
        throw Error(fmt::format("{}: {} of {} runs do not load; nothing was run:{}", opt.file, failing, plan.size(), text));
    }

    if (opt.only < 0 || opt.only > static_cast<std::int64_t>(plan.size()))
        throw Error(fmt::format("--only {}: the suite has runs 1 to {}", opt.only, plan.size()));
    if (opt.emit_slurm) {
        SuiteResult r;
        r.dir = suite_dir.string();
        r.slurm_submit = detail::write_slurm_jobs(opt, root, plan, hashes, suite_dir);
        return r;
    }

    // Under mpirun every rank gets here with the same plan: rank 0 keeps the
    // queue and hands each run to whichever rank has a free slot (itself
    // included), and writes runs.json when every rank is done.
    const WorldInfo& w = world();
    const bool lead = w.rank == 0;
    if (lead) {
        fs::create_directories(suite_dir);
        data::write_file_atomic(detail::SuiteDir(suite_dir).suite().string(), config::dump(doc));
    }
    detail::barrier();
    const int per_run = static_cast<int>(root["threads_per_run"].as<std::int64_t>());
    const int budget = opt.threads > 0 ? opt.threads : default_threads();
    const int jobs = root["jobs"].as<std::int64_t>() > 0 ? static_cast<int>(root["jobs"].as<std::int64_t>())
                                                          : std::max(1, budget / per_run);
    if (lead)
        console::info(fmt::format("suite {}: {} runs, {} at once{}, {} thread(s) each; {}", root["name"].Scalar(),
                                  plan.size(), jobs, w.size > 1 ? fmt::format(" on each of {} ranks", w.size) : "",
                                  per_run, suite_dir.string()));

    SuiteResult result;
    result.dir = suite_dir.string();
    result.table = detail::SuiteDir(suite_dir).table_md().string();
    result.lead = lead;
    result.runs.resize(plan.size());
    std::deque<std::size_t> queue;
    std::size_t todo_count = 0;
    for (std::size_t i = 0; i < plan.size(); ++i) {
        result.runs[i].name = plan[i].name;
        if (!lead) continue;
        const std::string dir = detail::find_run_dir(detail::SuiteDir(suite_dir).run_root(plan[i].name), hashes[i]);
        result.runs[i].dir = dir;
        if (!dir.empty() && detail::RunDir(dir).finished()) {
            result.runs[i].status = "finished";
            console::info(fmt::format("[{}/{}] {}: finished before, skipped", i + 1, plan.size(), plan[i].name));
        } else if (opt.only == 0 || static_cast<std::int64_t>(i) + 1 == opt.only) {
            queue.push_back(i);
        } else {
            result.runs[i].status = "not started";  // --only another run
        }
    }
    todo_count = queue.size();
    // Longest first (where every spec says its steps): the last runs to start are short.
    if (std::all_of(queue.begin(), queue.end(), [&](std::size_t i) { return cost[i] > 0; }))
        std::stable_sort(queue.begin(), queue.end(), [&](std::size_t a, std::size_t b) { return cost[a] > cost[b]; });

    g_suite_stop.store(false);
    // Ctrl-C (and SIGTERM: mpirun's and Slurm's way to stop a job) stops
    // handing out runs and passes SIGINT to the running ones: each checkpoints.
    struct sigaction on_int {}, old_int {}, old_term {};
    on_int.sa_handler = on_suite_sigint;
    sigemptyset(&on_int.sa_mask);
    sigaction(SIGINT, &on_int, &old_int);
    sigaction(SIGTERM, &on_int, &old_term);

    // A run's claim: an exclusive lock on <run name>/.claim while its process
    // runs, so two suites started on one directory never run a run twice. The
    // lock goes with the suite process, however it ends.
    struct Running {
        std::size_t index;
        detail::DirClaim claim;
        std::chrono::steady_clock::time_point started;
        std::string status;  // done or resumed, if it ends well
    };
    std::map<pid_t, Running> running;
    // The environment of a run: without the launcher's variables, a run is a
    // process of its own, not a rank of this job.
    std::vector<std::string> env_store;
    for (char** e = environ; *e; ++e) {
        const std::string v = *e;
        if (v.starts_with("OMPI_") || v.starts_with("PMIX_") || v.starts_with("PMI_")) continue;
        env_store.push_back(v);
    }
    std::vector<char*> run_env;
    for (auto& v : env_store) run_env.push_back(v.data());
    run_env.push_back(nullptr);

    // Runs `i` in a process of its own; false (and why) when another process holds its claim.
    auto launch = [&](std::size_t i, std::string* busy) {
        const auto& r = plan[i];
        fs::create_directories(detail::SuiteDir(suite_dir).run_root(r.name));
        std::string holder;
        auto claim = detail::DirClaim::try_claim(detail::SuiteDir(suite_dir).run_claim(r.name), &holder);
        if (!claim) {
            *busy = fmt::format("another suite process ({}) is running it", holder);
            return false;
        }
        const std::string log = detail::SuiteDir(suite_dir).run_log(r.name).string();
        std::vector<std::string> args{opt.cli, "--threads", std::to_string(per_run)};
        for (const auto& p : opt.plugin_paths) args.insert(args.end(), {"--plugin-path", p});
        const std::string existing = detail::find_run_dir(detail::SuiteDir(suite_dir).run_root(r.name), hashes[i]);
        result.runs[i].dir = existing;
        if (!existing.empty() && detail::RunDir(existing).finished()) {  // finished since the plan
            *busy = "finished by another suite process";
            return false;
        }
        // An unfinished directory is continued: from its checkpoint, or from
        // the start when it died before its first (resume reuses it).
        const bool resume = !existing.empty();
        if (resume) {
            args.insert(args.end(), {"run", "--resume", existing, "--no-progress"});
        } else {
            args.insert(args.end(), {"run", r.spec});
            args.insert(args.end(), r.overrides.begin(), r.overrides.end());
            args.push_back("--no-progress");
        }
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        pid_t pid = 0;
        const int rc = posix_spawn(&pid, opt.cli.c_str(), &fa, nullptr, argv.data(), run_env.data());
        posix_spawn_file_actions_destroy(&fa);
        if (rc != 0) {
            throw Error(fmt::format("cannot start '{}': {}", opt.cli, std::strerror(rc)));
        }
        running.emplace(pid, Running{i, std::move(*claim), std::chrono::steady_clock::now(), resume ? "resumed" : "done"});
        const std::string where = w.size > 1 ? fmt::format(" (rank {})", w.rank) : "";
        const std::string what = (resume ? "resuming " + existing : std::string("started")) + where;
        if (lead) console::info(fmt::format("[{}/{}] {}: {}", i + 1, plan.size(), r.name, what));
        else detail::send_text(0, kSuiteReport, json{{"started", i}, {"what", what}}.dump());
                return true;
    };
    // How a run process ended: its status, error and directory.
    auto ended_run = [&](pid_t pid, int status) {
        const auto it = running.find(pid);
        const std::size_t i = it->second.index;
        const auto started = it->second.started;
        const std::string ok_status = it->second.status;
        running.erase(it);  // releases the claim
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        json j{{"ended", i}, {"secs", secs}, {"dir", detail::find_run_dir(detail::SuiteDir(suite_dir).run_root(plan[i].name), hashes[i])}};
        if (code == 0) {
            j["status"] = ok_status;
        } else if (code == 130) {
            j["status"] = "interrupted";
        } else {
            j["status"] = "failed";
            j["code"] = code;
            j["error"] = last_line(detail::SuiteDir(suite_dir).run_log(plan[i].name).string());
        }
        return j;
    };

    // The lead's record of a run that ended on any rank, and its line.
    const auto suite_start = std::chrono::steady_clock::now();
    std::size_t ended = 0;
    auto record = [&](const json& j) {
        const std::size_t i = j["ended"].get<std::size_t>();
        auto& r = result.runs[i];
        r.status = j["status"].get<std::string>();
        r.dir = j["dir"].get<std::string>();
        ++ended;
        const double spent = std::chrono::duration<double>(std::chrono::steady_clock::now() - suite_start).count();
        const std::string eta = fmt::format(" | {} of {} ended, suite ETA {}", ended, todo_count,
                                            detail::eta(spent / double(ended) * double(todo_count - ended)));
        if (r.status == "interrupted") {
            console::info(fmt::format("[{}/{}] {}: interrupted (checkpoint written)", i + 1, plan.size(), plan[i].name));
        } else if (r.status == "failed") {
            r.error = j["error"].get<std::string>();
            ++result.failed;
            console::warn(fmt::format("[{}/{}] {}: FAILED (exit {}): {}{}", i + 1, plan.size(), plan[i].name,
                                      j["code"].get<int>(), r.error, eta));
        } else if (r.status == "busy") {
            console::info(fmt::format("[{}/{}] {}: skipped: {}", i + 1, plan.size(), plan[i].name, j["error"].get<std::string>()));
        } else {
            console::info(fmt::format("[{}/{}] {}: {} in {:.0f} s{}", i + 1, plan.size(), plan[i].name, r.status, j["secs"].get<double>(),
                       eta));
        }
            };
    auto busy_record = [&](std::size_t i, const std::string& why) {
        return json{{"ended", i}, {"status", "busy"}, {"dir", result.runs[i].dir}, {"error", why}, {"secs", 0.0}};
    };
    bool forwarded = false;
    auto forward_stop = [&] {
        if (!g_suite_stop.load() || forwarded) return;
        forwarded = true;
        for (auto& [p, r] : running) kill(p, SIGINT);  // each run checkpoints and stops
    };

    if (lead) {
        int workers = w.size - 1;
        // Stopped (Ctrl-C), queued runs stay queued: the loop ends once the running ones have.
        while ((!queue.empty() && !g_suite_stop.load()) || !running.empty() || workers > 0) {
            bool busy_loop = false;
            while (!g_suite_stop.load() && !queue.empty() && static_cast<int>(running.size()) < jobs) {
                const std::size_t i = queue.front();
                queue.pop_front();
                std::string why;
                if (!launch(i, &why)) record(busy_record(i, why));
                busy_loop = true;
            }
            forward_stop();
            while (workers > 0) {
                auto m = detail::poll_text(kSuiteReport);
                if (!m) break;
                busy_loop = true;
                const json j = json::parse(m->second);
                if (j.contains("want")) {
                    std::int64_t i = -1;
                    if (!g_suite_stop.load() && !queue.empty()) {
                        i = static_cast<std::int64_t>(queue.front());
                        queue.pop_front();
                    }
                    detail::send_text(m->first, kSuiteAssign, json{{"run", i}}.dump());
                } else if (j.contains("started")) {
                    const std::size_t i = j["started"].get<std::size_t>();
                    console::info(fmt::format("[{}/{}] {}: {}", i + 1, plan.size(), plan[i].name, j["what"].get<std::string>()));
                                    } else if (j.contains("ended")) {
                    record(j);
                } else if (j.contains("done")) {
                    --workers;
                }
            }
            int status = 0;
            const pid_t pid = running.empty() ? 0 : waitpid(-1, &status, WNOHANG);
            if (pid > 0 && running.count(pid)) {
                record(ended_run(pid, status));
                busy_loop = true;
            }
            if (!busy_loop) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    } else {
        bool more = true;
        while (true) {
            while (more && !g_suite_stop.load() && static_cast<int>(running.size()) < jobs) {
                detail::send_text(0, kSuiteReport, json{{"want", true}}.dump());
                const std::int64_t i = json::parse(detail::receive_text(0, kSuiteAssign))["run"].get<std::int64_t>();
                if (i < 0) {
                    more = false;
                    break;
                }
                std::string why;
                if (!launch(static_cast<std::size_t>(i), &why))
                    detail::send_text(0, kSuiteReport, busy_record(static_cast<std::size_t>(i), why).dump());
            }
            forward_stop();
            if (running.empty()) break;
            int status = 0;
            const pid_t pid = waitpid(-1, &status, 0);
            if (pid < 0) continue;  // EINTR: Ctrl-C is passed on above
            if (running.count(pid)) detail::send_text(0, kSuiteReport, ended_run(pid, status).dump());
        }
        detail::send_text(0, kSuiteReport, json{{"done", true}}.dump());
    }
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);
    result.interrupted = detail::any_rank(g_suite_stop.load());
    if (!lead) return result;
    for (std::size_t i : queue) result.runs[i].status = "not started";
    // --only (a job array's task): the other tasks run the other runs at the
    // same time; runs.json and the tables are the aggregation's.
    if (opt.only > 0) {
        result.failed = result.runs[opt.only - 1].status == "failed";
        return result;
    }

    // A run another suite process held may have finished since: what is on
    // disk counts, so the last suite to end writes the whole picture.
    for (std::size_t i = 0; i < plan.size(); ++i) {
        auto& r = result.runs[i];
        if (r.status != "busy" && r.status != "not started") continue;
        const std::string dir = detail::find_run_dir(detail::SuiteDir(suite_dir).run_root(plan[i].name), hashes[i]);
        if (!dir.empty() && detail::RunDir(dir).finished()) {
            r.status = "finished";
            r.dir = dir;
            r.error.clear();
        }
    }
    json runs = json::array();
    for (std::size_t i = 0; i < plan.size(); ++i) {
        json j{{"name", plan[i].name}, {"setting", plan[i].setting}, {"spec", plan[i].spec}, {"overrides", plan[i].overrides},
               {"status", result.runs[i].status}, {"dir", result.runs[i].dir}, {"error", result.runs[i].error}};
        if (plan[i].seed >= 0) j["seed"] = plan[i].seed;
        runs.push_back(j);
    }
    data::write_file_atomic(detail::SuiteDir(suite_dir).runs().string(), runs.dump(2) + "\n");
    const std::string summary = fmt::format("suite {}: {} runs, {} failed{}", root["name"].Scalar(), plan.size(),
                                            result.failed,
                                            result.interrupted ? ", interrupted (run the suite again to resume)" : "");
    if (result.failed > 0 || result.interrupted) console::warn(summary);
    else console::info(summary);
    for (const auto& r : result.runs)
        if (r.status == "failed") console::warn(fmt::format("  failed: {}: {}", r.name, r.error));
    return result;
}

}  // namespace infomax
