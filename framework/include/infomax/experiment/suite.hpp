// Suites, reports and reproduction.
//
// `infomax suite FILE` expands a suite (schemas/suite.schema.yaml) into runs,
// each named by its settings ("objectives.global.weight=0.5,seed=1"), and
// runs them as `infomax run` processes, several at once within the thread
// budget. Finished runs are skipped, interrupted ones resumed, failed ones
// reported at the end while the others go on. Under `mpirun -np N` the ranks
// share the runs: rank 0 hands the next run (longest first, where the specs
// give train.steps) to whichever rank has a free slot, and alone writes
// runs.json. Each run is claimed by a lock on <run name>/.claim while it runs:
// two suites started on one directory by mistake skip each other's runs.
//
// <output.dir>/<suite name>/
//   suite.yaml        the suite as run (defaults filled in)
//   runs.json         every run: settings, seed, status, directory, error
//   <run name>/run.log, <run name>/<spec name>/<stamp>-<hash>/   each run
//   table.md, table.csv, report.html   the aggregate: written by the report
//                     layer (infomax/report/report.hpp; `infomax suite` does it
//                     when the suite ends, `infomax report DIR` any time)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace infomax {

namespace config {
class Schema;
}

struct SuiteOptions {
    std::string file;
    std::vector<std::string> overrides;   // after the suite's own, for every run (e.g. train.steps=10)
    std::string out;                      // the suite directory's parent (default: the suite's output.dir)
    std::string cli;                      // the infomax executable that runs each run
    std::vector<std::string> plugin_paths;
    int threads = 0;                      // --threads: the suite's budget (0: the default)
    // --only N: run the suite's N-th run alone (1-based; a job array's task),
    // without writing runs.json (the aggregation does).
    std::int64_t only = 0;
    // --emit-slurm: write <suite dir>/slurm/ (a job array of the unfinished
    // runs, one task each, and an aggregation job that depends on it) and run nothing.
    bool emit_slurm = false;
    std::string partition, time, account, mem;  // --partition, --time, --account, --mem for the job scripts
};

struct SuiteRunStatus {
    // status: finished (skipped), done, resumed, failed, interrupted, not started,
    // busy (another suite process held its claim)
    std::string name, status, dir, error;
};

struct SuiteResult {
    std::string dir;
    std::vector<SuiteRunStatus> runs;
    int failed = 0;
    bool interrupted = false;
    bool lead = true;  // rank 0 (or alone): it has every run's status and writes the tables
    std::string slurm_submit;  // --emit-slurm: the script that submits the jobs ("" when nothing is left to do)
    std::string table;         // the aggregated table (table.md) that infomax report writes for the suite
};

SuiteResult run_suite(const SuiteOptions& options);

// The suite schema (beside experiment_schema_path()'s file).
std::string suite_schema_path();
const config::Schema& suite_schema();

struct ReproduceOptions {
    std::string run_dir;
    std::vector<std::string> plugin_paths;
    int threads = 0;  // --threads: the manifest's count is used; a different one is warned about
    std::string out;  // --out: where the reproduction goes (default: <run>/reproductions)
};

struct ReproduceResult {
    bool match = false;
    std::string new_dir;
    std::string first_difference;       // empty when everything matches
    std::vector<std::string> warnings;  // plugins, libraries, CPU or threads that differ from the manifest (also printed to stderr before the run)
};

// Runs the run's resolved spec again (same seed, the manifest's threads) into
// <run dir>/reproductions/ and compares every logged metric (not timings),
// every result (not timings) and the final checkpoint, bit for bit.
ReproduceResult reproduce_run(const ReproduceOptions& options);

}  // namespace infomax
