// The thread count of a run over its steps. With no --threads, train.threads
// or $INFOMAX_THREADS, the count follows the machine: one thread per core
// that other processes leave free (runtime/load.hpp), checked every 2 s at a
// step boundary. oneDNN's sums depend on the thread count, so every change is
// recorded in the run's threads.csv ("step,threads": the first step run with
// that count) and `infomax reproduce` replays it.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <utility>
#include <vector>

#include "run_dir/run_dir.hpp"
#include "runtime/load.hpp"

namespace infomax::detail {

using ThreadSchedule = std::vector<std::pair<std::int64_t, int>>;

// A run's threads.csv; empty when the run has none (its count was fixed). A
// malformed file is an Error naming it.
ThreadSchedule read_thread_schedule(const std::filesystem::path& run_dir);
// The count a schedule gives `step` (its first entry's before any).
int threads_at(const ThreadSchedule& schedule, std::int64_t step);

class ThreadGovernor {
public:
    // replay non-empty: apply it; else adaptive: follow the load and record;
    // else: leave the count alone. `dir` holds threads.csv.
    // resumed_from >= 0 (a resumed run): the schedule's rows after that step
    // were lost work and are dropped, and an adaptive run continues with the
    // count it had there, as the uninterrupted run did (resume stays bitwise).
    ThreadGovernor(Log& log, std::filesystem::path dir, ThreadSchedule replay, bool adaptive, int cores,
                   std::int64_t resumed_from = -1);
    // At a step boundary, before `step` + 1 is trained.
    void before_step(std::int64_t step);

private:
    void record(std::int64_t step, int n);
    Log& log_;
    std::filesystem::path file_;
    ThreadSchedule replay_;
    bool adaptive_;
    int cores_;
    LoadMeter meter_;
    std::optional<int> pending_;  // a change seen once; made when the next check agrees
    std::int64_t recorded_step_ = -1;
    bool sized_ = false;  // the first step's FLOPs have set cap_
    int cap_;             // the most threads a step of this size can use
    std::chrono::steady_clock::time_point checked_;
};

}  // namespace infomax::detail
