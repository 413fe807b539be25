// The training loop of a run (internal): take a step through the kind's
// runner, average the metrics over windows of log_every steps, print progress,
// checkpoint at its cadence, and stop at the end or on request. run.cpp sets a
// run up (new, resumed, extended) and evaluates it; this is what happens in
// between. Each concern is a small piece below, so each can change alone.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "experiment/held_out.hpp"
#include "experiment/trainer.hpp"
#include "run_dir/run_dir.hpp"

namespace infomax::detail {

class Runner;
class ThreadGovernor;

// The sums of the steps since the last metrics row: a row is their mean. A
// checkpoint inside a window carries the sums so a resumed run completes the
// same window (the rows are those of a run never interrupted).
class MetricsWindow {
public:
    // A window a checkpoint cut: its sums and the steps they cover ({} and 0 when none).
    MetricsWindow(std::vector<double> restored_sums, std::int64_t restored_steps, std::string restored_from);
    void add(const StepMetrics& m);
    std::int64_t steps() const { return steps_; }
    const StepMetrics& sums() const { return sums_; }
    // The mean of each value over the window.
    StepMetrics means() const;
    // After a row: a new, empty window.
    void clear();
    // Written into a checkpoint taken inside the window.
    void save_into(data::TensorFile& checkpoint) const;
    // A checkpoint's window, if it carries one ({} and 0 otherwise).
    static std::pair<std::vector<double>, std::int64_t> read_from(const data::TensorFile& checkpoint, const std::string& path);

private:
    StepMetrics sums_;
    std::vector<double> restored_;
    std::string restored_from_;
    std::int64_t steps_ = 0;
};

// The progress line: a live line on a terminal at most every 0.2 s, else a
// log line at most every 2 s (every row under --verbose or in a short run),
// and always the last one and the one at a stop.
class ProgressLine {
public:
    ProgressLine(Log& log, bool tty, bool every_row);
    void show(const std::string& line, bool last, bool stopping);

private:
    Log& log_;
    bool tty_, every_row_;
    std::chrono::steady_clock::time_point last_print_;
};

struct LoopOptions {
    RunDir dir;                   // empty on ranks other than 0
    Log* log = nullptr;
    Metrics* metrics = nullptr;   // null on ranks other than 0
    ThreadGovernor* governor = nullptr;
    bool lead = true, parallel = false, tty = false;
    std::int64_t log_every = 1, checkpoint_every = 1;
    MetricsWindow window{{}, 0, ""};  // a window a checkpoint cut (resume)
    std::atomic<bool>* stop = nullptr;  // set by Ctrl-C or SIGTERM
    std::function<void(std::int64_t)> after_step;  // tests: called after each step
    // The protocol (eval.held_out_every > 0): the held-out estimate every
    // `held_out_every` steps and at the last; training ends early once
    // `patience` evaluations in a row found no better one. `held_out` is the
    // state so far (a checkpoint's, on resume), carried in every checkpoint.
    std::int64_t held_out_every = 0, patience = 0;
    std::function<std::vector<double>()> held_out_estimate;  // one value per held-out batch
    HeldOutState held_out;
};

struct LoopResult {
    bool interrupted = false;
    bool stopped_early = false;  // the protocol ended training before its last step
    std::chrono::steady_clock::time_point started;
};

// Trains from the trainer's step to its last, or until *stop: each step's
// rows, progress and checkpoints as above. Failures propagate (run.cpp names
// the last good checkpoint in them).
LoopResult train_loop(Trainer& trainer, const Runner& runner, LoopOptions& o);

}  // namespace infomax::detail
