#pragma once
#include <cstdint>
namespace infomax::detail {
// GFLOP/s of oneDNN's sgemm on n x n x n (best of `repeats` after a warm-up),
// on the current thread setting.
double sgemm_gflops(std::int64_t n = 4096, int repeats = 3);
// The same for a bf16 x bf16 -> f32 matmul (AVX512_BF16 or AMX).
double bf16_gemm_gflops(std::int64_t n = 4096, int repeats = 3);
}  // namespace infomax::detail
