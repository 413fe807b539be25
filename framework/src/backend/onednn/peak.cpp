// The machine's fp32 peak as oneDNN reaches it: a large sgemm, best of a few.
#include <dnnl.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "backend/onednn/peak.hpp"

namespace infomax::detail {

double sgemm_gflops(std::int64_t n, int repeats) {
    std::vector<float> a(static_cast<std::size_t>(n * n), 0.5f), b(a.size(), 0.25f), c(a.size(), 0.0f);
    double best = 1e30;
    for (int r = 0; r < repeats + 1; ++r) {  // the first call warms up
        const auto t0 = std::chrono::steady_clock::now();
        dnnl_sgemm('N', 'N', n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (r > 0) best = std::min(best, s);
    }
    return 2.0 * double(n) * double(n) * double(n) / best / 1e9;
}

}  // namespace infomax::detail
