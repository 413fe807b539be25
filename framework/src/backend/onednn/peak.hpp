#pragma once
#include <cstdint>
namespace infomax::detail {
// GFLOP/s of oneDNN's sgemm on n x n x n (best of `repeats` after a warm-up),
// on the current thread setting.
double sgemm_gflops(std::int64_t n = 4096, int repeats = 3);
}  // namespace infomax::detail
