// Forward+backward throughput of conv2d and linear at the shapes of the TensorFlow reference
// (28x28, batch 128) and the PyTorch reference (32x32x3, batch 64) encoders, next to this
// machine's fp32 peak measured in the same process with a large oneDNN sgemm.
// Prints figures; it is not a test.
//
//   bench_ops [--threads N] [--reps N]
#include <fmt/format.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "infomax/ops/ops.hpp"
#include "infomax/runtime/threads.hpp"
#include "infomax/tensor/random.hpp"
#include "infomax/version.hpp"

using namespace infomax;
using Clock = std::chrono::steady_clock;

namespace {

template <class F>
double median_seconds(int reps, F&& f) {
    f();  // warm-up: primitive creation, pool fill
    f();
    std::vector<double> t;
    for (int i = 0; i < reps; ++i) {
        const auto t0 = Clock::now();
        f();
        t.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

Tensor random(const Shape& s, Rng& rng, float scale = 1.0f) {
    Tensor t = Tensor::empty(s);
    for (std::int64_t i = 0; i < t.numel(); ++i) t.data()[i] = scale * rng.uniform(-1.0f, 1.0f);
    return t;
}

// Best of oneDNN's sgemm and matmul on 4096^3: the fp32 peak we compare against.
double peak_gflops() {
    const dnnl_dim_t n = 4096;
    std::vector<float> a(n * n, 0.5f), b(n * n, 0.25f), c(n * n);
    const double flop = 2.0 * n * n * n;
    const double t_sgemm = median_seconds(3, [&] {
        dnnl_sgemm('N', 'N', n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
    });
    dnnl::engine eng(dnnl::engine::kind::cpu, 0);
    dnnl::stream s(eng);
    dnnl::memory::desc md({n, n}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::ab);
    dnnl::matmul mm(dnnl::matmul::primitive_desc({md, md, md}, eng));
    dnnl::memory ma(md, eng, a.data()), mb(md, eng, b.data()), mc(md, eng, c.data());
    const double t_mm = median_seconds(3, [&] {
        mm.execute(s, {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}});
        s.wait();
    });
    fmt::print("peak: sgemm 4096^3 {:.1f} GFLOP/s, matmul 4096^3 {:.1f} GFLOP/s\n", flop / t_sgemm / 1e9,
               flop / t_mm / 1e9);
    return flop / std::min(t_sgemm, t_mm) / 1e9;
}

struct Row {
    std::string name;
    double flop, seconds;
};

// One layer's forward + backward (weights, bias, and the input gradient unless
// it is the first layer, whose input gradient training never needs).
Row bench_conv(const std::string& name, Shape x, Shape w, std::int64_t stride, bool first, int reps, Rng& rng) {
    Var xv(random(x, rng), !first), wv(random(w, rng, 0.1f), true), bv(random({w[0]}, rng), true);
    const std::int64_t oh = (x[2] - w[2]) / stride + 1, ow = (x[3] - w[3]) / stride + 1;
    const double one = 2.0 * x[0] * w[0] * oh * ow * w[1] * w[2] * w[3];
    Tensor g = random({x[0], w[0], oh, ow}, rng);
    const double s = median_seconds(reps, [&] {
        xv.zero_grad();
        wv.zero_grad();
        bv.zero_grad();
        Var y = ops::conv2d(xv, wv, bv, stride, 0);
        y.backward(g);
    });
    return {name, one * (first ? 2 : 3), s};
}

Row bench_linear(const std::string& name, std::int64_t n, std::int64_t in, std::int64_t out, int reps, Rng& rng) {
    Var xv(random({n, in}, rng), true), wv(random({out, in}, rng, 0.01f), true), bv(random({out}, rng), true);
    Tensor g = random({n, out}, rng);
    const double s = median_seconds(reps, [&] {
        xv.zero_grad();
        wv.zero_grad();
        bv.zero_grad();
        ops::linear(xv, wv, bv).backward(g);
    });
    return {name, 3.0 * 2.0 * n * in * out, s};
}

}  // namespace

int main(int argc, char** argv) {
    int threads = 0, reps = 10;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
        else if (a == "--reps" && i + 1 < argc) reps = std::max(1, std::atoi(argv[++i]));
        else {
            fmt::print(stderr, "usage: bench_ops [--threads N] [--reps N]\n");
            return 1;
        }
    }
    set_threads(threads);
    fmt::print("{}\n\n", build_info());
    const double peak = peak_gflops();
    Rng rng(1);
    std::vector<Row> rows;
    // The TensorFlow reference encoder, batch 128 (conv 6x6/5 -> 1x1 convs -> linear).
    rows.push_back(bench_conv("s000 conv1  1->32   k6 s5 28x28", {128, 1, 28, 28}, {32, 1, 6, 6}, 5, true, reps, rng));
    rows.push_back(bench_conv("s000 conv2  32->64  k1 5x5", {128, 32, 5, 5}, {64, 32, 1, 1}, 1, false, reps, rng));
    rows.push_back(bench_conv("s000 conv3  64->128 k1 5x5", {128, 64, 5, 5}, {128, 64, 1, 1}, 1, false, reps, rng));
    rows.push_back(bench_conv("s000 conv4  128->256 k1 5x5", {128, 128, 5, 5}, {256, 128, 1, 1}, 1, false, reps, rng));
    rows.push_back(bench_linear("s000 fc1    6400->256", 128, 6400, 256, reps, rng));
    rows.push_back(bench_linear("s000 fc2    256->32", 128, 256, 32, reps, rng));
    // The PyTorch reference encoder, batch 64 (four 4x4 convs, then a 204800->64 linear).
    const int r2 = std::max(1, reps / 3);
    rows.push_back(bench_conv("s002 c0     3->64    k4 32x32", {64, 3, 32, 32}, {64, 3, 4, 4}, 1, true, r2, rng));
    rows.push_back(bench_conv("s002 c1     64->128  k4 29x29", {64, 64, 29, 29}, {128, 64, 4, 4}, 1, false, r2, rng));
    rows.push_back(bench_conv("s002 c2     128->256 k4 26x26", {64, 128, 26, 26}, {256, 128, 4, 4}, 1, false, r2, rng));
    rows.push_back(bench_conv("s002 c3     256->512 k4 23x23", {64, 256, 23, 23}, {512, 256, 4, 4}, 1, false, r2, rng));
    rows.push_back(bench_linear("s002 l1     204800->64", 64, 204800, 64, r2, rng));

    fmt::print("\nforward + backward (median of {} reps; the PyTorch reference rows {}), threads {}\n", reps, r2, threads);
    fmt::print("{:<32} {:>10} {:>10} {:>10} {:>8}\n", "layer", "GFLOP", "ms", "GFLOP/s", "of peak");
    double s000_f = 0, s000_t = 0, s002_f = 0, s002_t = 0;
    for (const auto& r : rows) {
        const double gf = r.flop / r.seconds / 1e9;
        fmt::print("{:<32} {:>10.3f} {:>10.3f} {:>10.1f} {:>7.0f}%\n", r.name, r.flop / 1e9, r.seconds * 1e3, gf,
                   100 * gf / peak);
        (r.name.starts_with("s000") ? s000_f : s002_f) += r.flop;
        (r.name.starts_with("s000") ? s000_t : s002_t) += r.seconds;
    }
    fmt::print("{:<32} {:>10.3f} {:>10.3f} {:>10.1f} {:>7.0f}%\n", "s000 encoder total", s000_f / 1e9, s000_t * 1e3,
               s000_f / s000_t / 1e9, 100 * s000_f / s000_t / 1e9 / peak);
    fmt::print("{:<32} {:>10.3f} {:>10.3f} {:>10.1f} {:>7.0f}%\n", "s002 encoder total", s002_f / 1e9, s002_t * 1e3,
               s002_f / s002_t / 1e9, 100 * s002_f / s002_t / 1e9 / peak);
    fmt::print("peak (fp32, best of sgemm/matmul): {:.1f} GFLOP/s\n", peak);
    return 0;
}
