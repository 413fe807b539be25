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
#include <functional>
#include <deque>
#include <map>
#include <optional>
#include <cstring>
#include <algorithm>
#include <set>
#include <thread>
#include <tuple>

#include "config/document.hpp"
#include "config/internal.hpp"
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
#include "experiment/run_pool.hpp"

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

// Where a value of the suite file was written: its key, else its value.
config::Origin written_at(const config::Document& doc, const std::string& source) {
    return doc.key_origins.count(source) ? doc.key_origins.at(source) : doc.origin_of(source);
}

namespace {

// key, value as flow text, and where the value was written in the suite file
struct Setting {
    std::string key, value, source;
};
using Settings = std::vector<Setting>;
using SweepNote = std::function<void(const std::string& key, const std::string& source)>;

// The settings one sweep block gives: a grid's every combination, a zip's
// lists in lockstep, a list's entries.
std::vector<Settings> block_options(const config::Document& doc, std::size_t b, const SweepNote& sweeps) {
    const YAML::Node block = doc.root["sweep"][b];
    const std::string where = fmt::format("sweep[{}]", b);
    if (block.size() != 1) throw config::SpecError({{doc.origin_of(where), where, "a sweep block has one of grid, zip or list"}});
    std::vector<Settings> options;
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
    return options;
}

// The sweep blocks multiplied: every combination of one option of each.
std::vector<Settings> combinations(const config::Document& doc, const SweepNote& sweeps) {
    std::vector<Settings> combos{{}};
    for (std::size_t b = 0; b < doc.root["sweep"].size(); ++b) {
        const std::vector<Settings> options = block_options(doc, b, sweeps);
        std::vector<Settings> next;
        for (const auto& c : combos)
            for (const auto& o : options) {
                Settings s = c;
                s.insert(s.end(), o.begin(), o.end());
                next.push_back(s);
            }
        combos = next;
    }
    return combos;
}

// A directory name of the settings: characters a name cannot hold become '_'.
std::string run_name(const std::vector<std::string>& parts) {
    std::string name = parts.empty() ? "default" : fmt::format("{}", fmt::join(parts, ","));
    for (auto& ch : name)
        if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '=' || ch == ',' ||
              ch == '-' || ch == '+'))
            ch = '_';
    return name;
}

// Two settings that name one run would share its directory and count twice
// in the tables (a zip repeating a pair, two blocks giving the same setting,
// values that differ only in characters a name cannot hold).
void refuse_shared_names(const config::Document& doc, const std::vector<PlannedRun>& runs) {
    std::map<std::string, std::size_t> first;
    for (std::size_t i = 0; i < runs.size(); ++i)
        if (auto [at, fresh] = first.emplace(runs[i].name, i); !fresh)
            throw config::SpecError({{doc.origin_of("sweep"), "sweep",
                                      fmt::format("runs {} and {} are one run ({}): make each setting differ",
                                                  at->second + 1, i + 1, config::detail::shown(runs[i].name))}});
}

}  // namespace

std::vector<PlannedRun> plan_suite(const config::Document& doc, const std::string& file, std::vector<SweptKey>* swept) {
    const fs::path here = fs::path(file).parent_path();
    const YAML::Node& root = doc.root;
    const SweepNote sweeps = [&](const std::string& key, const std::string& source) {
        if (!swept) return;
        for (const auto& k : *swept)
            if (k.key == key) return;
        swept->push_back({key, source});
    };
    const std::vector<Settings> combos = combinations(doc, sweeps);
    std::vector<std::int64_t> seeds;
    for (const auto& s : root["seeds"]) seeds.push_back(s.as<std::int64_t>());
    std::vector<std::string> common, common_sources;
    for (std::size_t i = 0; i < root["overrides"].size(); ++i) {
        common.push_back(root["overrides"][i].Scalar());
        common_sources.push_back(fmt::format("overrides[{}]", i));
    }
    if (!seeds.empty()) sweeps("seed", "seeds");

    // A spec file that is not there is said at the line that names it, once.
    std::vector<config::Diagnostic> missing;
    std::set<std::string> checked;
    auto check_spec = [&](const fs::path& spec, const std::string& source) {
        if (!checked.insert(source).second || fs::is_regular_file(spec)) return;
        missing.push_back({written_at(doc, source), source,
                           fmt::format("no spec file {} (a path relative to the suite file's folder, {})",
                                       config::detail::shown(spec.string()),
                                       here.empty() ? std::string(".") : here.string())});
    };
    std::vector<PlannedRun> out;
    for (const auto& c : combos)
        for (std::size_t k = 0; k < std::max<std::size_t>(1, seeds.size()); ++k) {
            PlannedRun r;
            r.spec = root["base"] ? (here / root["base"].Scalar()).string() : "";
            if (root["base"]) check_spec(r.spec, "base");
            r.overrides = common;
            r.sources = common_sources;
            std::vector<std::string> parts;
            for (const auto& [key, value, source] : c) {
                if (key == "spec") {
                    r.spec = (here / value).string();
                    check_spec(r.spec, source);
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
            r.name = run_name(parts);
            if (r.spec.empty())
                throw config::SpecError({{doc.origin_of(""), "", "no spec: give `base:` or a `spec:` in every list entry"}});
            out.push_back(r);
        }
    if (!missing.empty()) throw config::SpecError(missing);
    refuse_shared_names(doc, out);
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

// A value as the user gave it, control characters written out (\n, \x1b):
// the message shows where the stray line or escape is.
std::string visible(const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
        if (c == '\n') out += "\\n";
        else if (c == '\t') out += "\\t";
        else if (c < 0x20 || c == 0x7f) out += fmt::format("\\x{:02x}", c);
        else out += static_cast<char>(c);
    }
    return config::detail::shown(out);
}

bool all_digits(const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool only_of(const std::string& s, const char* extra) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [&](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || std::strchr(extra, c) != nullptr;
    });
}

// Slurm's time formats (sbatch --time): M, M:S, H:M:S, D-H, D-H:M, D-H:M:S,
// or UNLIMITED / INFINITE; the seconds it means, -1 for no limit, nullopt if
// it is none of them.
std::optional<std::int64_t> slurm_seconds(const std::string& t) {
    if (t == "UNLIMITED" || t == "INFINITE" || t == "unlimited" || t == "infinite") return -1;
    auto number = [](const std::string& s, std::int64_t& out) {
        if (s.size() > 9 || !all_digits(s)) return false;
        out = std::stoll(s);
        return true;
    };
    std::int64_t days = 0;
    std::string rest = t;
    const bool has_days = t.find('-') != std::string::npos;
    if (has_days) {
        const auto dash = t.find('-');
        if (!number(t.substr(0, dash), days)) return std::nullopt;
        rest = t.substr(dash + 1);
    }
    std::vector<std::int64_t> parts;
    for (std::size_t start = 0;;) {
        const auto colon = rest.find(':', start);
        std::int64_t v = 0;
        if (!number(rest.substr(start, colon == std::string::npos ? std::string::npos : colon - start), v))
            return std::nullopt;
        parts.push_back(v);
        if (colon == std::string::npos) break;
        start = colon + 1;
    }
    if (parts.size() > 3) return std::nullopt;
    std::int64_t h = 0, m = 0, sec = 0;
    if (has_days) {  // D-H, D-H:M, D-H:M:S
        h = parts[0];
        if (parts.size() > 1) m = parts[1];
        if (parts.size() > 2) sec = parts[2];
    } else if (parts.size() == 1) {  // M
        m = parts[0];
    } else if (parts.size() == 2) {  // M:S
        m = parts[0];
        sec = parts[1];
    } else {  // H:M:S
        h = parts[0];
        m = parts[1];
        sec = parts[2];
    }
    return ((days * 24 + h) * 60 + m) * 60 + sec;
}

std::string slurm_time(std::int64_t seconds) {
    return fmt::format("{}-{:02}:{:02}:{:02}", seconds / 86400, seconds / 3600 % 24, seconds / 60 % 60, seconds % 60);
}

}  // namespace

// Every value written into a job script is checked before anything is
// written: #SBATCH lines are not shell-quoted, and a value with a newline
// would put a line of its own into the script, which Slurm runs.
void check_slurm_options(const SuiteOptions& opt, const fs::path& suite_dir) {
    auto refuse = [](const std::string& flag, const std::string& value, const std::string& fix) {
        throw Error(fmt::format("{} '{}': {}", flag, visible(value), fix));
    };
    auto no_control = [&](const std::string& flag, const std::string& value) {
        if (std::any_of(value.begin(), value.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; }))
            refuse(flag, value, "a newline or control character cannot go into a job script; give one value on one line");
    };
    for (const auto& [flag, value] : {std::pair<std::string, const std::string*>{"--partition", &opt.partition},
                                      {"--account", &opt.account}, {"--time", &opt.time}, {"--mem", &opt.mem}})
        no_control(flag, *value);
    if (!opt.partition.empty() && !only_of(opt.partition, "_-.,"))
        refuse("--partition", opt.partition,
               opt.partition.find('*') != std::string::npos
                   ? "sinfo marks the default partition with '*'; give the name without it"
                   : "expected a partition name (letters, digits, '_', '-', '.'), or several joined by ','");
    if (!opt.account.empty() && !only_of(opt.account, "_-."))
        refuse("--account", opt.account, "expected an account name (letters, digits, '_', '-', '.')");
    if (!opt.time.empty() && !slurm_seconds(opt.time))
        refuse("--time", opt.time,
               "expected one of Slurm's time formats: minutes, minutes:seconds, hours:minutes:seconds, days-hours, "
               "days-hours:minutes, days-hours:minutes:seconds (e.g. 240 or 4:00:00 for four hours), or UNLIMITED");
    if (!opt.mem.empty()) {
        const bool has_unit = std::isalpha(static_cast<unsigned char>(opt.mem.back()));
        const std::string digits = has_unit ? opt.mem.substr(0, opt.mem.size() - 1) : opt.mem;
        if (!all_digits(digits) || (has_unit && std::string("KMGTkmgt").find(opt.mem.back()) == std::string::npos))
            refuse("--mem", opt.mem, "expected a size in megabytes, or with a unit K, M, G or T (e.g. 4G)");
    }
    // The logs' path goes into #SBATCH --output, which Slurm splits at blanks
    // and reads '%' in as a pattern.
    const std::string logs = fs::absolute(suite_dir).string();
    if (std::any_of(logs.begin(), logs.end(),
                    [](unsigned char c) { return c <= 0x20 || c == 0x7f || c == '%' || c == '"' || c == '\'' || c == '\\'; }))
        refuse("the suite directory", logs,
               "a blank, quote, '\\', '%' or control character cannot go into #SBATCH --output; put the suite "
               "elsewhere with --out");
}

std::string write_slurm_jobs(const SuiteOptions& opt, const YAML::Node& root, const std::vector<PlannedRun>& plan,
                             const std::vector<std::string>& hashes, const fs::path& suite_dir) {
    std::vector<std::string> todo;
    for (std::size_t i = 0; i < plan.size(); ++i) {
        const std::string dir = find_run_dir(SuiteDir(suite_dir).run_root(plan[i].name), hashes[i]);
        if (dir.empty() || !RunDir(dir).finished()) todo.push_back(std::to_string(i + 1));
    }
    const SuiteDir suite(suite_dir);
    // Nothing to train: an empty --array would make sbatch run the script as
    // one plain job (`--only ""`), which fails.
    if (todo.empty() && fs::exists(suite.table_md())) return "";
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
    // --open-mode=append: a task resubmitted after a cut keeps the log of the try that was cut.
    auto header = [&](const std::string& job, const std::string& log, const std::string& time) {
        std::string h = "#!/bin/bash\n";
        h += fmt::format("#SBATCH --job-name={}\n#SBATCH --output={}\n#SBATCH --open-mode=append\n", job,
                         (fs::absolute(out) / log).string());
        if (!opt.partition.empty()) h += fmt::format("#SBATCH --partition={}\n", opt.partition);
        if (!time.empty()) h += fmt::format("#SBATCH --time={}\n", time);
        if (!opt.account.empty()) h += fmt::format("#SBATCH --account={}\n", opt.account);
        if (!opt.mem.empty()) h += fmt::format("#SBATCH --mem={}\n", opt.mem);
        return h;
    };
    // The aggregation resumes, one after another, the runs the array's tasks
    // left cut off: its time limit is one run's times the runs of the array.
    std::string tables_time = opt.time;
    if (const auto per = slurm_seconds(opt.time); per && *per > 0)
        tables_time = slurm_time(*per * static_cast<std::int64_t>(std::max<std::size_t>(1, todo.size())));
    std::string array = header(name + "-runs", "run-%a.out", opt.time);
    array += fmt::format("#SBATCH --array={}\n#SBATCH --ntasks=1\n#SBATCH --cpus-per-task={}\n", fmt::join(todo, ","), per_run);
    array += "# Written by infomax suite --emit-slurm: task N runs the suite's N-th run alone.\n";
    array += fmt::format("exec {} --threads {} --only \"$SLURM_ARRAY_TASK_ID\"\n", cmd, per_run);
    std::string aggregate = header(name + "-tables", "tables.out", tables_time);
    aggregate += "#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=1\n";
    aggregate += "# After every task: the suite again, which finds them finished and writes runs.json, the tables and the report\n"
                 "# (a run that failed or was cut off is run here, one after another: its time limit allows for every run\n"
                 "# of the array; check the tasks' logs first if that is not wanted).\n";
    aggregate += fmt::format("exec {} --threads 1\n", cmd);
    std::string submit = "#!/bin/bash\n";
    if (todo.empty()) {
        submit += "# Every run is finished: only the aggregation job (the tables) is left to submit.\nset -euo pipefail\n";
        submit += fmt::format("cd {}\n", shell_word(out.string()));
        submit += "job=$(sbatch --parsable tables.sbatch)\necho \"submitted the aggregation job $job\"\n";
    } else {
        submit += "# Submits the job array, then the aggregation job to run after it (whatever its tasks' outcome).\nset -euo pipefail\n";
        submit += fmt::format("cd {}\n", shell_word(out.string()));
        submit += "runs=$(sbatch --parsable runs.sbatch)\n"
                  "sbatch --dependency=afterany:\"${runs%%;*}\" tables.sbatch\n"
                  "echo \"submitted job array $runs and its aggregation\"\n";
        data::write_file_atomic(suite.slurm_runs().string(), array);
    }
    data::write_file_atomic(suite.slurm_tables().string(), aggregate);
    data::write_file_atomic(suite.slurm_submit().string(), submit);
    fs::permissions(suite.slurm_submit(), fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                    fs::perm_options::add);
    return suite.slurm_submit().string();
}

}  // namespace detail

namespace {

// <output.dir or --out>/<suite name>
fs::path suite_directory(const SuiteOptions& opt, const YAML::Node& root) {
    const std::string out = !opt.out.empty() ? opt.out : root["output"] ? root["output"]["dir"].Scalar() : "runs/suites";
    return fs::path(out) / root["name"].Scalar();
}

// A command-line value for a swept key would replace every run's value: runs
// filed under seed=1 and seed=2 would be one run twice.
void refuse_swept_overrides(const config::Document& doc, const SuiteOptions& opt, const std::vector<detail::SweptKey>& swept) {
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
                                           k.key, detail::written_at(doc, k.source).to_string())});
            break;
        }
    }
    if (!clashes.empty()) throw config::SpecError(clashes);
}

// A heat map's axes are keys the suite sweeps: any other key has one value,
// and the map would be one row or one column of nothing to compare.
void check_heatmap(const config::Document& doc, const std::vector<detail::SweptKey>& swept) {
    const YAML::Node& map = doc.root["heatmap"];
    if (!map) return;
    std::vector<std::string> keys;
    for (const auto& k : swept) keys.push_back(config::dotted_key(k.key));
    std::vector<config::Diagnostic> wrong;
    for (const char* axis : {"x", "y"}) {
        const std::string key = config::dotted_key(map[axis].Scalar());
        if (std::find(keys.begin(), keys.end(), key) != keys.end()) continue;
        const std::string at = std::string("heatmap.") + axis;
        wrong.push_back({doc.origin_of(at), at,
                         fmt::format("'{}' is not swept by this suite, so it has one value; an axis is one of: {}",
                                     config::detail::shown(key), keys.empty() ? "(the suite sweeps nothing)" : fmt::format("{}", fmt::join(keys, ", ")))});
    }
    if (!wrong.empty()) throw config::SpecError(wrong);
}

// A run's spec problems, each located where the suite file (or its command
// line) wrote the value, as one text.
std::string located_problems(const config::SpecError& e, const config::Document& doc, const detail::PlannedRun& r,
                             const SuiteOptions& opt) {
    std::vector<config::Diagnostic> ds = e.diagnostics();
    for (auto& d : ds) {
        const int arg = d.origin.argument;
        if (arg >= 1 && static_cast<std::size_t>(arg) <= r.sources.size() && !r.sources[arg - 1].empty()) {
            d.origin = detail::written_at(doc, r.sources[arg - 1]);
        } else if (arg > static_cast<int>(r.sources.size()) &&
                   static_cast<std::size_t>(arg) <= r.sources.size() + opt.overrides.size()) {
            d.origin.argument = arg - static_cast<int>(r.sources.size());  // the suite's own command line
        }
    }
    config::sort_diagnostics(ds);
    std::string text;
    for (const auto& d : ds) text += (text.empty() ? "" : "\n  ") + d.to_string();
    return text;
}

// Every run's resolved hash and cost (samples it trains on, -1 where its spec
// does not say). Every spec must load before anything starts: a typo should
// not surface hours into a suite; one problem is often every run's, so each
// text is said once, with the runs it concerns.
struct LoadedRuns {
    std::vector<std::string> hashes;
    std::vector<double> cost;
};
LoadedRuns load_runs(std::vector<detail::PlannedRun>& plan, const config::Document& doc, const SuiteOptions& opt,
                     const detail::SuiteDir& suite) {
    Session session({opt.threads, opt.plugin_paths});
    std::vector<std::pair<std::string, std::vector<std::string>>> problems;  // text, runs
    auto problem = [&](const std::string& text, const std::string& run) {
        for (auto& [t, runs] : problems)
            if (t == text) return runs.push_back(run);
        problems.push_back({text, {run}});
    };
    LoadedRuns out;
    for (auto& r : plan) {
        r.overrides.insert(r.overrides.end(), opt.overrides.begin(), opt.overrides.end());
        r.overrides.push_back("output.dir=" + suite.run_root(r.name).string());
        try {
            const Experiment e = session.load(r.spec, r.overrides);
            out.hashes.push_back(resolved_hash(e.resolved_yaml));
            out.cost.push_back(e.train.steps ? double(*e.train.steps) * double(e.data.batch_size) : -1.0);
            continue;
        } catch (const config::SpecError& e) {
            problem(located_problems(e, doc, r, opt), r.name);
        } catch (const Error& e) {
            problem(e.what(), r.name);
        }
        out.hashes.emplace_back();
        out.cost.push_back(-1);
    }
    if (problems.empty()) return out;
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

// The runs to start (rank 0): not finished before, and the one --only names;
// longest first where every spec says its steps, so the last to start are short.
std::deque<std::size_t> queue_runs(const std::vector<detail::PlannedRun>& plan, const LoadedRuns& loaded,
                                   const SuiteOptions& opt, const detail::SuiteDir& suite, SuiteResult& result) {
    std::deque<std::size_t> queue;
    for (std::size_t i = 0; i < plan.size(); ++i) {
        result.runs[i].name = plan[i].name;
        if (!result.lead) continue;
        const std::string dir = detail::find_run_dir(suite.run_root(plan[i].name), loaded.hashes[i]);
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
    if (std::all_of(queue.begin(), queue.end(), [&](std::size_t i) { return loaded.cost[i] > 0; }))
        std::stable_sort(queue.begin(), queue.end(), [&](std::size_t a, std::size_t b) { return loaded.cost[a] > loaded.cost[b]; });
    return queue;
}

// runs.json: every planned run with its status. A run another suite process
// held may have finished since: what is on disk counts, so the last suite to
// end writes the whole picture.
void record_runs(const std::vector<detail::PlannedRun>& plan, const LoadedRuns& loaded, const detail::SuiteDir& suite,
                 SuiteResult& result) {
    for (std::size_t i = 0; i < plan.size(); ++i) {
        auto& r = result.runs[i];
        if (r.status != "busy" && r.status != "not started") continue;
        const std::string dir = detail::find_run_dir(suite.run_root(plan[i].name), loaded.hashes[i]);
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
    data::write_file_atomic(suite.runs().string(), runs.dump(2) + "\n");
}

void say_summary(const YAML::Node& root, std::size_t runs, const SuiteResult& result) {
    const std::string summary = fmt::format("suite {}: {} runs, {} failed{}", root["name"].Scalar(), runs, result.failed,
                                            result.interrupted ? ", interrupted (run the suite again to resume)" : "");
    if (result.failed > 0 || result.interrupted) console::warn(summary);
    else console::info(summary);
    for (const auto& r : result.runs)
        if (r.status == "failed") console::warn(fmt::format("  failed: {}: {}", r.name, r.error));
}

}  // namespace

// Plan, load every run, then (unless --emit-slurm) the pool runs them and
// rank 0 records them.
SuiteResult run_suite(const SuiteOptions& opt) {
    config::Document doc = detail::load_suite(opt.file);
    const YAML::Node& root = doc.root;
    std::vector<detail::SweptKey> swept;
    auto plan = detail::plan_suite(doc, opt.file, &swept);
    const fs::path suite_dir = suite_directory(opt, root);
    const detail::SuiteDir suite(suite_dir);
    refuse_swept_overrides(doc, opt, swept);
    check_heatmap(doc, swept);
    if (opt.emit_slurm) detail::check_slurm_options(opt, suite_dir);
    const LoadedRuns loaded = load_runs(plan, doc, opt, suite);
    if (opt.only < 0 || opt.only > static_cast<std::int64_t>(plan.size()))
        throw Error(fmt::format("--only {}: the suite has runs 1 to {}", opt.only, plan.size()));
    SuiteResult result;
    result.dir = suite_dir.string();
    result.table = suite.table_md().string();
    if (opt.emit_slurm) {
        result.slurm_submit = detail::write_slurm_jobs(opt, root, plan, loaded.hashes, suite_dir);
        return result;
    }

    const WorldInfo& w = world();
    result.lead = w.rank == 0;
    // srun without --mpi=pmix starts independent processes: each would be a
    // whole suite budgeting every core.
    if (const char* tasks = std::getenv("SLURM_NTASKS"); tasks && w.size == 1 && std::atoi(tasks) > 1)
        console::warn(fmt::format("SLURM_NTASKS={} but this suite is not part of an MPI job: each task runs as a suite "
                                  "of its own; start it with `srun --mpi=pmix` for the tasks to share the runs "
                                  "(docs/scale.md)",
                                  tasks));
    if (result.lead) {
        fs::create_directories(suite_dir);
        data::write_file_atomic(suite.suite().string(), config::dump(doc));
    }
    detail::barrier();
    const int per_run = static_cast<int>(root["threads_per_run"].as<std::int64_t>());
    const int budget = opt.threads > 0 ? opt.threads : default_threads();
    const int jobs = root["jobs"].as<std::int64_t>() > 0 ? static_cast<int>(root["jobs"].as<std::int64_t>())
                                                          : std::max(1, budget / per_run);
    if (result.lead)
        console::info(fmt::format("suite {}: {} runs, {} at once{}, {} thread(s) each; {}", root["name"].Scalar(),
                                  plan.size(), jobs, w.size > 1 ? fmt::format(" on each of {} ranks", w.size) : "",
                                  per_run, suite_dir.string()));
    result.runs.resize(plan.size());
    std::deque<std::size_t> queue = queue_runs(plan, loaded, opt, suite, result);
    {
        detail::RunPool pool(opt, suite, plan, loaded.hashes, per_run, jobs, result);
        result.interrupted = pool.run(queue);
    }
    if (!result.lead) return result;
    for (std::size_t i : queue) result.runs[i].status = "not started";
    // --only (a job array's task): the other tasks run the other runs at the
    // same time; runs.json and the tables are the aggregation's.
    if (opt.only > 0) {
        result.failed = result.runs[opt.only - 1].status == "failed";
        return result;
    }
    record_runs(plan, loaded, suite, result);
    say_summary(root, plan.size(), result);
    return result;
}

}  // namespace infomax
