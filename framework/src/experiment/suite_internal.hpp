// Suite planning, shared by the runner and the report (internal).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <filesystem>

#include "infomax/config/spec.hpp"
#include "infomax/experiment/suite.hpp"

namespace YAML {
class Node;
}

namespace infomax::detail {

struct PlannedRun {
    std::string name;     // the directory: settings and seed, e.g. "objectives.global.weight=0.5,seed=1"
    std::string setting;  // the same without the seed: runs of one setting are aggregated
    std::string spec;     // the spec file
    std::vector<std::string> overrides;
    // Where each override was written in the suite file (a key path of its
    // document, e.g. "sweep[0].grid.seed"); "" for the command line's.
    std::vector<std::string> sources;
    std::int64_t seed = -1;  // -1: no seed axis
};

// A key the suite sweeps and where it is written ("seeds", "sweep[1].zip.lr").
struct SweptKey {
    std::string key, source;
};

// Loads and validates a suite file (defaults filled in).
config::Document load_suite(const std::string& file);
// --emit-slurm: an Error naming the flag and the fix for a value that cannot
// go into a job script (a newline, a time Slurm does not read).
void check_slurm_options(const SuiteOptions& opt, const std::filesystem::path& suite_dir);
// --emit-slurm: writes <suite dir>/slurm/{runs.sbatch, tables.sbatch, submit.sh}
// for the runs without results; returns submit.sh's path, or "" when every run
// is finished and the tables are written (nothing to submit).
std::string write_slurm_jobs(const SuiteOptions& opt, const YAML::Node& root, const std::vector<PlannedRun>& plan,
                             const std::vector<std::string>& hashes, const std::filesystem::path& suite_dir);
// The run directory of a planned run whose resolved spec hashes to `hash`
// under `key_dir` (the run's SuiteDir::run_root), or "": of several, the
// furthest along.
std::string find_run_dir(const std::filesystem::path& key_dir, const std::string& hash);
std::vector<PlannedRun> plan_suite(const config::Document& doc, const std::string& file,
                                   std::vector<SweptKey>* swept = nullptr);

}  // namespace infomax::detail
