// Where a step's time goes, by op family: oneDNN primitives are timed (and
// their FLOPs counted) when profiling is on. Off by default: then it costs one
// branch per primitive. Single model thread, like the ops themselves.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace infomax::profile {

struct Entry {
    double seconds = 0;
    double flops = 0;  // multiply-adds x 2, for conv, inner product and matmul
    std::int64_t calls = 0;
};

void set_enabled(bool on);
bool enabled();
// Adds one primitive call to its family ("conv", "inner product", "matmul",
// "eltwise", "batchnorm/pooling", "reorder"; "communication" for blocking MPI
// calls in data-parallel training).
void record(const char* op, double seconds, double flops);
// What was recorded since the last take(), by family; resets.
std::map<std::string, Entry> take();

}  // namespace infomax::profile
