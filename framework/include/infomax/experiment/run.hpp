// `infomax run` and `infomax eval`: train a spec in a new run directory, resume
// one, and evaluate a trained encoder.
//
// A run lives in runs/<name>/<YYYYmmdd-HHMMSS>-<spec hash>/; its layout is
// described once, by the type that owns it (src/run_dir/run_dir.hpp, RunDir),
// and for users in docs/running.md.
// Nothing is written before the spec validates and its model builds; an
// existing directory is never reused; files are written to a temporary name
// and renamed.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace infomax {

struct RunOptions {
    std::string spec;                     // a spec file (new run)
    std::vector<std::string> overrides;
    std::string resume;                   // or a run directory to continue
    std::vector<std::string> extend;      // with resume: train.steps=N / train.epochs=N (--extend)
    std::vector<std::string> plugin_paths;
    int threads = 0;                      // --threads: wins over the spec's train.threads (0: not given)
    bool progress = true;                 // a live line on a terminal, plain lines otherwise
    // Called after every step with the step count; tests use it to interrupt.
    std::function<void(std::int64_t)> after_step;
    // Thread counts to replay, (from step, threads) in step order, as a run's
    // threads.csv holds them (reproduce); empty: the session's rule.
    std::vector<std::pair<std::int64_t, int>> thread_schedule;
};

struct RunResult {
    std::string dir;
    std::int64_t steps = 0;
    bool interrupted = false;
};

RunResult run_experiment(const RunOptions& options);

// The 8 hex digits that end a run directory's name: a hash of the resolved
// spec (config::dump), so equal specs give equal suffixes.
std::string resolved_hash(const std::string& resolved_yaml);

// Ask a running experiment to checkpoint and stop after its current step
// (what SIGINT does). Safe to call from a signal handler.
void request_stop();
// True once a stop was asked for (request_stop or SIGINT) during the current
// training loop; the run clears it when its training loop starts.
bool stop_requested();

struct EvalOptions {
    std::string run_dir;
    std::vector<std::string> overrides;  // eval.* only, e.g. eval.probes=[linear,mlp]
    std::vector<std::string> plugin_paths;
    int threads = 0;
    bool export_features = false;  // features/<split>-<tap>.npy and labels
    bool progress = true;          // a live line on a terminal, plain lines otherwise
};
// Evaluates a finished run's final encoder again, as its spec's `eval:` says
// with `overrides` applied (only eval.* keys; others are refused at their
// argument), into a new results-eval-<time>.json beside results.json, which is
// never overwritten. A run without results.json has not finished: it is
// refused with the `infomax run --resume` command that finishes it.
std::string evaluate_run(const EvalOptions& options);

}  // namespace infomax
