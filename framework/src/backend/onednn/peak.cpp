// The machine's peak as oneDNN reaches it: a large GEMM, best of a few.
// f32: oneDNN's sgemm. bf16: a matmul primitive with bf16 inputs and an f32
// result, the same data types conv2d/linear/matmul use under Precision::bf16.
#include <dnnl.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "backend/onednn/context.hpp"
#include "backend/onednn/peak.hpp"

namespace infomax::detail {

namespace {
template <class F>
double best_seconds(int repeats, F&& f) {
    double best = 1e30;
    for (int r = 0; r < repeats + 1; ++r) {  // the first call warms up
        const auto t0 = std::chrono::steady_clock::now();
        f();
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (r > 0) best = std::min(best, s);
    }
    return best;
}
}  // namespace

double sgemm_gflops(std::int64_t n, int repeats) {
    std::vector<float> a(static_cast<std::size_t>(n * n), 0.5f), b(a.size(), 0.25f), c(a.size(), 0.0f);
    const double s = best_seconds(repeats, [&] {
        dnnl_sgemm('N', 'N', n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
    });
    return 2.0 * double(n) * double(n) * double(n) / s / 1e9;
}

double bf16_gemm_gflops(std::int64_t n, int repeats) {
    using dnnl::memory;
    const memory::desc in({n, n}, memory::data_type::bf16, memory::format_tag::ab),
        out({n, n}, memory::data_type::f32, memory::format_tag::ab);
    dnnl::matmul mm(dnnl::matmul::primitive_desc({in, in, out}, engine()));
    memory a(in, engine()), b(in, engine()), c(out, engine());
    // bf16 0.5 and 0.25 (the upper halves of the f32 bit patterns).
    std::fill_n(static_cast<std::uint16_t*>(a.get_data_handle()), n * n, std::uint16_t(0x3f00));
    std::fill_n(static_cast<std::uint16_t*>(b.get_data_handle()), n * n, std::uint16_t(0x3e80));
    const double s = best_seconds(repeats, [&] {
        mm.execute(stream(), {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}});
        stream().wait();
    });
    return 2.0 * double(n) * double(n) * double(n) / s / 1e9;
}

}  // namespace infomax::detail
