// infomax reproduce RUN_DIR: the same spec, seed and threads again, compared
// bit for bit with what the run wrote.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>

#include "run_dir/run_dir.hpp"
#include "experiment/thread_schedule.hpp"
#include "infomax/data/files.hpp"
#include "infomax/experiment/run.hpp"
#include "infomax/experiment/suite.hpp"
#include "infomax/plugin/registry.hpp"
#include "infomax/runtime/console.hpp"
#include "infomax/runtime/error.hpp"
#include "infomax/runtime/threads.hpp"
#include "infomax/version.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace infomax {

namespace {

std::vector<std::vector<std::string>> read_csv_cells(const fs::path& p) {
    std::vector<std::vector<std::string>> rows;
    std::ifstream in(p);
    std::string line;
    while (std::getline(in, line)) rows.push_back(data::split_csv_line(line));
    return rows;
}

// Metrics, not timings: every column but images_per_s.
std::string compare_metrics(const fs::path& a, const fs::path& b) {
    const auto x = read_csv_cells(a), y = read_csv_cells(b);
    const std::string name = a.filename().string();
    if (x.empty() || y.empty()) return name + " is missing or empty";
    if (x[0] != y[0]) return fmt::format("{} columns differ: {} vs {}", name, fmt::join(x[0], ","), fmt::join(y[0], ","));
    for (std::size_t r = 1; r < std::min(x.size(), y.size()); ++r)
        for (std::size_t c = 0; c < x[0].size() && c < x[r].size() && c < y[r].size(); ++c) {
            if (x[0][c] == "images_per_s") continue;
            if (x[r][c] != y[r][c])
                return fmt::format("{} step {}, {}: {} in the run, {} in the reproduction", name, x[r][0], x[0][c],
                                   x[r][c], y[r][c]);
        }
    if (x.size() != y.size()) return fmt::format("{} has {} rows in the run, {} in the reproduction", name, x.size(), y.size());
    return "";
}


std::string compare_results(const fs::path& a, const fs::path& b) {
    const std::string name = a.filename().string();
    if (!fs::exists(a)) return "the run has no " + name;
    std::vector<std::pair<std::string, json>> x, y;
    detail::flatten_json(detail::read_json(a), "", x);
    detail::flatten_json(detail::read_json(b), "", y);
    std::map<std::string, json> ym(y.begin(), y.end());
    for (const auto& [k, v] : x) {
        // What the run computed, not how it was scheduled: timings, and the
        // step a cut run was resumed from.
        if (k.find("seconds") != std::string::npos || k == "train.resumed_from_step") continue;
        auto it = ym.find(k);
        if (it == ym.end()) return fmt::format("{}: {} is missing in the reproduction", name, k);
        if (it->second != v) return fmt::format("{} {}: {} in the run, {} in the reproduction", name, k, v.dump(), it->second.dump());
    }
    return "";
}


std::string compare_checkpoints(const fs::path& a, const fs::path& b) {
    const std::string ca = detail::latest_checkpoint(a), cb = detail::latest_checkpoint(b);
    if (ca.empty() || cb.empty()) return "a checkpoint is missing";
    if (fs::path(ca).filename() != fs::path(cb).filename())
        return fmt::format("final checkpoints differ in step: {} vs {}", fs::path(ca).filename().string(), fs::path(cb).filename().string());
    const auto x = data::read_safetensors(ca), y = data::read_safetensors(cb);
    for (const auto& [name, t] : x.tensors) {
        auto it = y.tensors.find(name);
        if (it == y.tensors.end()) return fmt::format("checkpoint tensor {} is missing in the reproduction", name);
        const auto u = t.to_vector(), v = it->second.to_vector();
        if (u.size() != v.size()) return fmt::format("checkpoint tensor {} has another size", name);
        for (std::size_t i = 0; i < u.size(); ++i)
            if (std::memcmp(&u[i], &v[i], sizeof(float)) != 0)
                return fmt::format("checkpoint tensor {} element {}: {:.9g} in the run, {:.9g} in the reproduction", name, i, u[i], v[i]);
    }
    if (x.metadata != y.metadata) return "checkpoint metadata (step, optimizer counts, estimator state) differs";
    return "";
}

}  // namespace

namespace {
ReproduceResult reproduce_checked(const ReproduceOptions& opt);
}  // namespace

ReproduceResult reproduce_run(const ReproduceOptions& opt) {
    try {
        return reproduce_checked(opt);
    } catch (const nlohmann::json::exception& e) {
        const detail::RunDir run(opt.run_dir);
        throw Error(fmt::format("{}: {} or {} holds a value of an unexpected type ({}): the file was edited or damaged",
                                opt.run_dir, run.manifest().filename().string(), run.results().filename().string(), e.what()));
    }
}

namespace {
ReproduceResult reproduce_checked(const ReproduceOptions& opt) {
    const fs::path dir = opt.run_dir;
    const detail::RunDir run(dir);
    if (!run.is_run() || !fs::exists(run.manifest()))
        throw Error(fmt::format("{}: not a run directory ({} and {} expected)", opt.run_dir,
                                run.resolved().filename().string(), run.manifest().filename().string()));
    if (!run.finished())
        throw Error(fmt::format("{}: the run has not finished (no {}): finish it with infomax run --resume {}", opt.run_dir,
                                run.results().filename().string(), opt.run_dir));
    run.check_resolved();  // as eval and --resume: an edited spec is not the run's
    // Where the reproduction goes must take it: found now, not after the run.
    const std::string destination = opt.out.empty() ? run.reproductions().string() : opt.out;
    if (const std::string why = data::cannot_write(destination); !why.empty())
        throw Error(fmt::format("{}: cannot write the reproduction there ({}): give another place with --out DIR",
                                destination, why));
    const json manifest = detail::read_json(run.manifest());
    // A manifest is ours: fields of the wrong type mean a damaged or foreign file.
    auto field_error = [&](const char* what) {
        return Error(fmt::format("{}: {} is missing or not as infomax writes it: the file is damaged",
                                 run.manifest().string(), what));
    };
    if (!manifest.is_object() || !manifest.contains("threads") || !manifest["threads"].is_number_integer())
        throw field_error("\"threads\"");
    if (!manifest.contains("plugins") || !manifest["plugins"].is_array()) throw field_error("\"plugins\"");
    if (!manifest.contains("libraries") || !manifest["libraries"].is_string()) throw field_error("\"libraries\"");
    ReproduceResult r;
    // What may make the bits differ, said before the run.
    Registry registry;
    registry.load_defaults(opt.plugin_paths);
    for (const auto& p : manifest["plugins"]) {
        for (const char* f : {"kind", "name", "version", "file_hash"})
            if (!p.is_object() || !p.contains(f) || !p[f].is_string()) throw field_error("a plugin's entry");
        const auto* now = [&]() -> const PartEntry* {
            for (const auto* e : registry.entries())
                if (p["kind"] == e->kind && p["name"] == e->name) return e;
            return nullptr;
        }();
        if (!now) {
            r.warnings.push_back(fmt::format("plugin {} '{}' of the run is not loaded now", p["kind"].get<std::string>(),
                                             p["name"].get<std::string>()));
            continue;
        }
        if (now->version != p["version"])
            r.warnings.push_back(fmt::format("{} '{}' is version {} now, {} in the run", now->kind, now->name, now->version,
                                             p["version"].get<std::string>()));
        if (detail::file_hash(now->file) != p["file_hash"])
            r.warnings.push_back(fmt::format("{} '{}' comes from a different file now ({}; its hash differs from the run's)",
                                             now->kind, now->name, now->file));
    }
    // The libraries without build_info's last line, the thread count of the
    // moment (it follows the machine's load; the run's count is replayed below).
    const auto libraries = [](std::string s) {
        const auto cut = s.rfind("\nthreads ");
        return cut == std::string::npos ? s : s.substr(0, cut);
    };
    if (libraries(manifest["libraries"].get<std::string>()) != libraries(build_info()))
        r.warnings.push_back(fmt::format("libraries differ: run: {}; now: {}", libraries(manifest["libraries"].get<std::string>()),
                                         libraries(build_info())));
    if (manifest.contains("cpu") && manifest["cpu"].is_string() && manifest["cpu"] != cpu_model())
        r.warnings.push_back(fmt::format("CPU differs: run: {}; now: {}", manifest["cpu"].get<std::string>(), cpu_model()));
    const int run_threads = manifest["threads"].get<int>();
    if (opt.threads > 0 && opt.threads != run_threads)
        r.warnings.push_back(fmt::format("--threads {} ignored: the run used {} thread(s), and reproducing it needs the same",
                                         opt.threads, run_threads));

    // Said now, before the minutes of the run, not after it.
    for (const auto& w : r.warnings) console::warn("warning: " + w);

    RunOptions o;
    o.threads = run_threads;  // as the command line would: over the spec's train.threads
    // A count that followed the machine's load is replayed step by step.
    auto schedule = detail::read_thread_schedule(dir);
    if (!schedule.empty() && schedule.front().first > 0) schedule.insert(schedule.begin(), {0, run_threads});
    o.thread_schedule = schedule;
    o.spec = run.resolved().string();
    const std::string out = opt.out.empty() ? run.reproductions().string() : opt.out;
    o.overrides = {"output.dir=" + out};
    o.plugin_paths = opt.plugin_paths;
    o.progress = false;
    const RunResult again = run_experiment(o);
    r.new_dir = again.dir;
    const detail::RunDir copy(again.dir);
    for (auto diff : {compare_metrics(run.metrics_csv(), copy.metrics_csv()), compare_checkpoints(dir, again.dir),
                      compare_results(run.results(), copy.results())})
        if (!diff.empty()) {
            r.first_difference = diff;
            break;
        }
    r.match = r.first_difference.empty();
    return r;
}

}  // namespace

}  // namespace infomax
