// The infomax commands. cli.cpp declares each one's arguments and options
// (CLI11: one declaration gives parsing, --help and completion); the
// functions here do the work. Results go to stdout; progress and notices to
// stderr (runtime/console.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace infomax::cli {

// What the command line gave; each command reads the fields it declared.
struct Args {
    std::vector<std::string> positional;  // SPEC, RUN_DIR, NAME ... (the command's own)
    std::vector<std::string> overrides;   // key.path=value, +k=v, ++k=v, ~k
    std::vector<std::string> plugin_paths;
    int threads = 0;                  // --threads N (0: not given)
    std::string resume;               // run --resume RUN_DIR
    std::vector<std::string> extend;  // run --resume DIR --extend train.steps=N
    bool export_features = false;     // eval --export-features
    bool progress = true;             // --no-progress
    std::string out;                  // suite --out DIR
    int steps = 20, warmup = 5;       // bench --steps N --warmup N
    bool json = false;                // bench --json, schema --json
    std::int64_t only = 0;            // suite --only N
    bool emit_slurm = false;          // suite --emit-slurm
    std::string partition, time, account, mem;  // suite --emit-slurm --partition --time --account --mem
    std::string estimator = "ksg";         // estimate --estimator NAME
    std::int64_t seed = 0;                 // estimate --seed N
    std::int64_t max_steps = 10000, batch = 256;  // estimate --max-steps N --batch N (a bound's protocol)
    std::string critic;                    // estimate --critic YAML
    std::string compare;                   // suite --compare REF.csv
    double tolerance = 0.1;                // suite --tolerance T
};

int cmd_version(const Args&);
int cmd_run(const Args&);
int cmd_eval(const Args&);
int cmd_suite(const Args&);
int cmd_report(const Args&);
int cmd_bench(const Args&);
int cmd_reproduce(const Args&);
int cmd_validate(const Args&);
int cmd_show(const Args&);
int cmd_plugins(const Args&);
int cmd_reference(const Args&);
int cmd_schema(const Args&);
int cmd_estimate(const Args&);

}  // namespace infomax::cli
