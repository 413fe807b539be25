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
#include <map>

#include "config/document.hpp"
#include "infomax/data/files.hpp"
#include "infomax/experiment/model.hpp"
#include "infomax/experiment/run.hpp"
#include "infomax/experiment/session.hpp"
#include "infomax/runtime/error.hpp"
#include "infomax/runtime/threads.hpp"
#include "run_dir/run_dir.hpp"
#include "suite_internal.hpp"

extern char** environ;

namespace fs = std::filesystem;
using nlohmann::json;

namespace infomax {

namespace detail {

std::string suite_schema_path() {
    return (fs::path(experiment_schema_path()).parent_path() / "suite.schema.yaml").string();
}

config::Document load_suite(const std::string& file) {
    static const config::Schema schema = config::Schema::from_file(suite_schema_path());
    config::Document doc = config::load(file);
    if (!doc.root.IsMap())
        throw config::SpecError({{doc.origin_of(""), "", "expected a map of settings (name: ..., base: ..., sweep: ...)"}});
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

// The run directory of a planned run whose resolved spec hashes to `hash`, if any.
std::string find_run_dir(const fs::path& key_dir, const std::string& hash) {
    if (!fs::is_directory(key_dir)) return "";
    for (const auto& name_dir : fs::directory_iterator(key_dir)) {
        if (!name_dir.is_directory()) continue;
        for (const auto& d : fs::directory_iterator(name_dir.path())) {
            const std::string n = d.path().filename().string();
            if (d.is_directory() && n.find("-" + hash) != std::string::npos &&
                fs::exists(d.path() / "resolved.yaml"))
                return d.path().string();
        }
    }
    return "";
}

}  // namespace detail

namespace {

std::atomic<bool> g_suite_stop{false};
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
    for (auto& r : plan) {
        r.overrides.insert(r.overrides.end(), opt.overrides.begin(), opt.overrides.end());
        r.overrides.push_back("output.dir=" + (suite_dir / r.name).string());
        try {
            hashes.push_back(resolved_hash(session.load(r.spec, r.overrides).resolved_yaml));
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
        } catch (const Error& e) {
            problem(e.what(), r.name);
            hashes.emplace_back();
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

    fs::create_directories(suite_dir);
    data::write_file_atomic((suite_dir / "suite.yaml").string(), config::dump(doc));
    const int per_run = static_cast<int>(root["threads_per_run"].as<std::int64_t>());
    const int budget = opt.threads > 0 ? opt.threads : default_threads();
    const int jobs = root["jobs"].as<std::int64_t>() > 0 ? static_cast<int>(root["jobs"].as<std::int64_t>())
                                                          : std::max(1, budget / per_run);
    fmt::print("suite {}: {} runs, {} at once, {} thread(s) each; {}\n", root["name"].Scalar(), plan.size(), jobs, per_run,
               suite_dir.string());
    std::fflush(stdout);

    SuiteResult result;
    result.dir = suite_dir.string();
    result.runs.resize(plan.size());
    std::vector<std::size_t> todo;
    for (std::size_t i = 0; i < plan.size(); ++i) {
        result.runs[i].name = plan[i].name;
        const std::string dir = detail::find_run_dir(suite_dir / plan[i].name, hashes[i]);
        result.runs[i].dir = dir;
        if (!dir.empty() && fs::exists(fs::path(dir) / "results.json")) {
            result.runs[i].status = "finished";
            fmt::print("[{}/{}] {}: finished before, skipped\n", i + 1, plan.size(), plan[i].name);
        } else {
            todo.push_back(i);
        }
    }

    g_suite_stop.store(false);
    // Without SA_RESTART (std::signal sets it): waitpid must return EINTR so the
    // suite passes Ctrl-C on to its runs when only the suite got it (kill -INT).
    struct sigaction on_int {}, old {};
    on_int.sa_handler = on_suite_sigint;
    sigemptyset(&on_int.sa_mask);
    sigaction(SIGINT, &on_int, &old);
    std::map<pid_t, std::size_t> running;
    std::map<std::size_t, std::chrono::steady_clock::time_point> started;
    std::size_t next = 0;
    auto launch = [&](std::size_t i) {
        const auto& r = plan[i];
        fs::create_directories(suite_dir / r.name);
        const std::string log = (suite_dir / r.name / "run.log").string();
        std::vector<std::string> args{opt.cli, "--threads", std::to_string(per_run)};
        for (const auto& p : opt.plugin_paths) args.insert(args.end(), {"--plugin-path", p});
        const std::string existing = result.runs[i].dir;
        const bool resume = !existing.empty() && fs::is_directory(fs::path(existing) / "checkpoints") &&
                            !fs::is_empty(fs::path(existing) / "checkpoints");
        if (resume) {
            args.insert(args.end(), {"run", "--resume", existing, "--no-progress"});
            result.runs[i].status = "resumed";
        } else {
            args.insert(args.end(), {"run", r.spec});
            args.insert(args.end(), r.overrides.begin(), r.overrides.end());
            args.push_back("--no-progress");
            result.runs[i].status = "done";
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
        const int rc = posix_spawn(&pid, opt.cli.c_str(), &fa, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&fa);
        if (rc != 0) throw Error(fmt::format("cannot start '{}': {}", opt.cli, std::strerror(rc)));
        running[pid] = i;
        started[i] = std::chrono::steady_clock::now();
        fmt::print("[{}/{}] {}: {}\n", i + 1, plan.size(), r.name, resume ? "resuming " + existing : "started");
        std::fflush(stdout);
    };
    // The suite's ETA: the pace of the runs ended so far (jobs at once included).
    const auto suite_start = std::chrono::steady_clock::now();
    std::size_t ended = 0;
    auto suite_eta = [&] {
        const double spent = std::chrono::duration<double>(std::chrono::steady_clock::now() - suite_start).count();
        return fmt::format(" | {} of {} ended, suite ETA {}", ended, todo.size(),
                           detail::eta(spent / double(ended) * double(todo.size() - ended)));
    };
    while (next < todo.size() || !running.empty()) {
        while (!g_suite_stop.load() && next < todo.size() && static_cast<int>(running.size()) < jobs) launch(todo[next++]);
        int status = 0;
        const pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0) {
            if (errno == EINTR) {
                if (g_suite_stop.load())
                    for (auto& [p, i] : running) kill(p, SIGINT);  // each run checkpoints and stops
                continue;
            }
            break;
        }
        auto it = running.find(pid);
        if (it == running.end()) continue;
        const std::size_t i = it->second;
        running.erase(it);
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started[i]).count();
        const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        result.runs[i].dir = detail::find_run_dir(suite_dir / plan[i].name, hashes[i]);
        const std::string log = (suite_dir / plan[i].name / "run.log").string();
        ++ended;
        if (code == 0) {
            fmt::print("[{}/{}] {}: {} in {:.0f} s{}\n", i + 1, plan.size(), plan[i].name, result.runs[i].status, secs,
                       suite_eta());
        } else if (code == 130) {
            result.runs[i].status = "interrupted";
            fmt::print("[{}/{}] {}: interrupted (checkpoint written)\n", i + 1, plan.size(), plan[i].name);
        } else {
            result.runs[i].status = "failed";
            result.runs[i].error = last_line(log);
            ++result.failed;
            fmt::print("[{}/{}] {}: FAILED (exit {}): {}{}\n", i + 1, plan.size(), plan[i].name, code,
                       result.runs[i].error, suite_eta());
        }
        std::fflush(stdout);
    }
    sigaction(SIGINT, &old, nullptr);
    result.interrupted = g_suite_stop.load();
    for (std::size_t i = next; i < todo.size(); ++i) result.runs[todo[i]].status = "not started";

    json runs = json::array();
    for (std::size_t i = 0; i < plan.size(); ++i) {
        json j{{"name", plan[i].name}, {"setting", plan[i].setting}, {"spec", plan[i].spec}, {"overrides", plan[i].overrides},
               {"status", result.runs[i].status}, {"dir", result.runs[i].dir}, {"error", result.runs[i].error}};
        if (plan[i].seed >= 0) j["seed"] = plan[i].seed;
        runs.push_back(j);
    }
    data::write_file_atomic((suite_dir / "runs.json").string(), runs.dump(2) + "\n");
    fmt::print("suite {}: {} runs, {} failed{}\n", root["name"].Scalar(), plan.size(), result.failed,
               result.interrupted ? ", interrupted (run the suite again to resume)" : "");
    for (const auto& r : result.runs)
        if (r.status == "failed") fmt::print("  failed: {}: {}\n", r.name, r.error);
    return result;
}

}  // namespace infomax
