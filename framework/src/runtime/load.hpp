// How busy the machine is with other work: the CPU time the whole machine
// spent minus this process's own, per second of wall time, from /proc. The
// default thread count follows it (see docs/performance.md, shared machines):
// an OpenMP team on more threads than it has free cores stalls at every
// barrier, so beside other work one thread per free core is fastest.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace infomax::detail {

// Busy jiffies of all CPUs (user, nice, system, irq, softirq, steal) from the
// text of /proc/stat; nullopt if its first line is not the "cpu" total.
std::optional<std::uint64_t> machine_busy_ticks(const std::string& proc_stat);
// utime + stime (clock ticks) from the text of /proc/<pid>/stat.
std::optional<std::uint64_t> process_ticks(const std::string& proc_pid_stat);

// The thread count for `cores` cores when other processes keep `others`
// cores busy: one per core left free, at least 1 (a core counts as taken from
// 0.3 busy on: beside our own spinning threads another process shows less than it would take alone).
int threads_beside(double others, int cores);

class LoadMeter {
public:
    LoadMeter();
    // Cores kept busy by other processes since the previous call (or since
    // construction); nullopt without /proc or over less than 0.1 s.
    std::optional<double> others();

private:
    bool sample(std::uint64_t& machine, std::uint64_t& self) const;
    std::uint64_t machine_ = 0, self_ = 0;
    std::chrono::steady_clock::time_point at_;
    bool ok_ = false;
};

}  // namespace infomax::detail
