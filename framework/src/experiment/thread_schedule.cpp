#include "experiment/thread_schedule.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "infomax/data/files.hpp"
#include "infomax/runtime/error.hpp"
#include "infomax/runtime/profile.hpp"
#include "infomax/runtime/threads.hpp"

namespace fs = std::filesystem;

namespace infomax::detail {

ThreadSchedule read_thread_schedule(const fs::path& run_dir) {
    const fs::path file = detail::RunDir(run_dir).threads_csv();
    ThreadSchedule s;
    if (!fs::exists(file)) return s;
    std::ifstream in(file);
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (number == 1) {
            if (line != "step,threads")
                throw Error(fmt::format("{}:1: expected the header 'step,threads', got '{}'", file.string(), line));
            continue;
        }
        std::istringstream row(line);
        long long step = -1;
        int n = 0;
        char comma = 0;
        if (!(row >> step >> comma >> n) || comma != ',' || step < 0 || n < 1 || (!s.empty() && step < s.back().first))
            throw Error(fmt::format("{}:{}: expected 'step,threads' with steps in order and threads >= 1, got '{}'",
                                    file.string(), number, line));
        s.emplace_back(step, n);
    }
    return s;
}

int threads_at(const ThreadSchedule& schedule, std::int64_t step) {
    int n = schedule.empty() ? 0 : schedule.front().second;
    for (const auto& [from, count] : schedule)
        if (from <= step) n = count;
    return n;
}

ThreadGovernor::ThreadGovernor(Log& log, fs::path dir, ThreadSchedule replay, bool adaptive, int cores,
                               std::int64_t resumed_from)
    : log_(log), file_(detail::RunDir(dir).threads_csv()), replay_(std::move(replay)), adaptive_(adaptive && replay_.empty()),
      cores_(cores), cap_(cores) {
    if (resumed_from < 0 || !adaptive_ || !fs::exists(file_)) return;
    ThreadSchedule kept;
    std::string text = "step,threads\n";
    for (const auto& [step, n] : read_thread_schedule(dir))
        if (step <= resumed_from) {
            kept.emplace_back(step, n);
            text += fmt::format("{},{}\n", step, n);
        }
    data::write_file_atomic(file_.string(), text);
    if (kept.empty()) return;
    set_threads(threads_at(kept, resumed_from));
}

void ThreadGovernor::record(std::int64_t step, int n) {
    if (step == recorded_step_) return;  // one row per step
    // The header and the first row go together; a row is written whole or not at all.
    data::append_whole(file_.string(), fmt::format("{}{},{}\n", fs::exists(file_) ? "" : "step,threads\n", step, n));
    recorded_step_ = step;
}

void ThreadGovernor::before_step(std::int64_t step) {
    if (!replay_.empty()) {
        const int n = threads_at(replay_, step);
        if (n != threads() || recorded_step_ < 0) {
            set_threads(n);
            record(step, n);
        }
        return;
    }
    if (!adaptive_) return;
    const auto now = std::chrono::steady_clock::now();
    if (recorded_step_ < 0) {  // the count this run (or this resumption) starts with
        record(step, threads());
        checked_ = now;
        profile::take();
        profile::set_enabled(true);  // count the first step's FLOPs
        return;
    }
    if (!sized_) {  // after the first step, profiled
        // A small step cannot feed many threads: their barriers cost more than
        // they share. dv_separable (60 MFLOP a step) ran fastest on 4 of 16
        // cores (45 000 img/s; 32 000 on 16): one thread per 15 MFLOP.
        profile::set_enabled(false);
        double flops = 0;
        for (const auto& [family, e] : profile::take()) flops += e.flops;
        sized_ = true;
        cap_ = std::clamp(static_cast<int>(flops / 15e6), 1, cores_);
        if (cap_ < threads()) {
            log_.line(fmt::format("threads: {} -> {} from step {} (a step of {:.0f} MFLOP feeds at most {} threads)",
                                  threads(), cap_, step + 1, flops / 1e6, cap_));
            set_threads(cap_);
            record(step, cap_);
        }
        return;
    }
    if (now - checked_ < std::chrono::seconds(2)) return;
    checked_ = now;
    const auto others = meter_.others();
    if (!others) return;
    const int want = std::min(cap_, threads_beside(*others, cores_));
    if (want == threads()) {
        pending_.reset();
        return;
    }
    if (pending_ != want) {  // seen once: wait for the next check to agree (no flapping on a blip)
        pending_ = want;
        return;
    }
    pending_.reset();
    log_.line(fmt::format("threads: {} -> {} from step {} (other processes keep {:.1f} of {} cores busy)", threads(),
                          want, step + 1, *others, cores_));
    set_threads(want);
    record(step, want);
}

}  // namespace infomax::detail
