#include "infomax/runtime/threads.hpp"

#include <fmt/format.h>
#include <omp.h>
#include <sched.h>
#include <tbb/global_control.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "infomax/runtime/error.hpp"
#include "infomax/runtime/world.hpp"

namespace infomax {

namespace {
int current = 0;
std::unique_ptr<tbb::global_control> tbb_limit;
}  // namespace

int env_threads() {
    const char* env = std::getenv("INFOMAX_THREADS");
    if (!env || !*env) return 0;
    char* end = nullptr;
    long n = std::strtol(env, &end, 10);
    if (*end != '\0' || n < 1 || n > kMaxThreads)
        throw Error(fmt::format("INFOMAX_THREADS='{}': expected a whole number from 1 to {}", env, kMaxThreads));
    return static_cast<int>(n);
}

int available_cores() {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
    return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

int default_threads() {
    const int env = env_threads();
    if (env > 0) return env;
    // Ranks of one job on this node share its cores, unless the launcher has
    // already bound each to its own (then the affinity mask is its share).
    const int cores = available_cores(), local = world().local_size;
    const bool unbound = cores >= static_cast<int>(std::thread::hardware_concurrency());
    return local > 1 && unbound ? std::max(1, cores / local) : cores;
}

void set_threads(int n) {
    if (n <= 0) n = default_threads();
    omp_set_num_threads(n);  // oneDNN's runtime; applies to this (the model) thread
    tbb_limit = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                      static_cast<std::size_t>(n));
    current = n;
}

int threads() {
    if (current == 0) set_threads(0);
    return current;
}

}  // namespace infomax
