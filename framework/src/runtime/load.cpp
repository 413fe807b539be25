#include "runtime/load.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <vector>

namespace infomax::detail {

std::optional<std::uint64_t> machine_busy_ticks(const std::string& proc_stat) {
    std::istringstream in(proc_stat);
    std::string label;
    if (!(in >> label) || label != "cpu") return std::nullopt;
    // user nice system idle iowait irq softirq steal (guest time is already in user)
    std::uint64_t v[8] = {};
    for (auto& x : v)
        if (!(in >> x)) return std::nullopt;
    return v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
}

std::optional<std::uint64_t> process_ticks(const std::string& proc_pid_stat) {
    // "pid (comm) state ..." and comm may hold spaces or ')': fields start after the last ')'.
    const auto close = proc_pid_stat.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream in(proc_pid_stat.substr(close + 1));
    std::vector<std::string> f;
    for (std::string s; in >> s;) f.push_back(s);
    // After ')': state is field 3 of stat(5), utime 14 and stime 15, so indices 11 and 12 here.
    if (f.size() < 13) return std::nullopt;
    try {
        return std::stoull(f[11]) + std::stoull(f[12]);
    } catch (...) {
        return std::nullopt;
    }
}

int threads_beside(double others, int cores) {
    const int taken = static_cast<int>(std::floor(std::max(0.0, others) + 0.7));
    return std::clamp(cores - taken, 1, std::max(1, cores));
}

namespace {
std::string slurp(const char* path) {
    std::ifstream in(path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}
}  // namespace

LoadMeter::LoadMeter() : at_(std::chrono::steady_clock::now()) { ok_ = sample(machine_, self_); }

bool LoadMeter::sample(std::uint64_t& machine, std::uint64_t& self) const {
    const auto m = machine_busy_ticks(slurp("/proc/stat"));
    const auto s = process_ticks(slurp("/proc/self/stat"));
    if (!m || !s) return false;
    machine = *m, self = *s;
    return true;
}

std::optional<double> LoadMeter::others() {
    const auto now = std::chrono::steady_clock::now();
    const double wall = std::chrono::duration<double>(now - at_).count();
    if (wall < 0.1) return std::nullopt;
    std::uint64_t machine = 0, self = 0;
    const bool ok = sample(machine, self);
    std::optional<double> r;
    if (ok && ok_) {
        // /proc/stat counts USER_HZ; /proc/self/stat counts sysconf(_SC_CLK_TCK): both 100 on Linux.
        const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
        const double busy = static_cast<double>(machine - machine_) - static_cast<double>(self - self_);
        r = std::max(0.0, busy / hz / wall);
    }
    machine_ = machine, self_ = self, at_ = now, ok_ = ok;
    return r;
}

}  // namespace infomax::detail
