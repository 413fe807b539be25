// The linear probe's objective and solver: fused logistic-regression passes
// and L-BFGS.
#include "eval/logistic.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>

#include "infomax/tensor/random.hpp"

// The v8 helpers are always inlined into the kernels' clones; their ABI never shows.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace infomax::eval::detail {
namespace {

// Eight floats; GCC's vector extension compiles to one AVX register in the
// x86-64-v3 clone and to two SSE registers otherwise, with the same lanes and
// so the same order of additions.
typedef float v8 __attribute__((vector_size(32)));
inline v8 load8(const float* p) {
    v8 v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
inline void store8(float* p, v8 v) { std::memcpy(p, &v, sizeof v); }
// Keeps a value in a register: without it GCC folds the load into each FMA
// that uses it, and the kernels become bound by loads rather than FMAs.
// (AVX2 only: a 32-byte vector fits no SSE register.)
#define INFOMAX_IN_REGISTER(v) \
    if constexpr (Avx2) asm("" : "+x"(v))
inline float hsum(v8 v) { return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7])); }

#define INFOMAX_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#define INFOMAX_AVX2 __attribute__((target("arch=x86-64-v3")))

// z[i][k0 + c] = x_i . w_{k0 + c} for rows i, i + 1 and KN classes: two rows
// share each load of W, KN classes each load of x (2 * KN accumulators).
template <int KN, bool Avx2>
inline __attribute__((always_inline)) void dots_2xk(const float* x0, std::int64_t d, const float* w, int k0, int classes,
                                                    float* z0) {
    const float* x1 = x0 + d;
    const std::int64_t d8 = d / 8 * 8;
    v8 a0[KN] = {}, a1[KN] = {};
    for (std::int64_t j = 0; j < d8; j += 8) {
        const v8 u0 = load8(x0 + j), u1 = load8(x1 + j);
        for (int c = 0; c < KN; ++c) {
            v8 wv = load8(w + (k0 + c) * d + j);
            INFOMAX_IN_REGISTER(wv);
            a0[c] += u0 * wv;
            a1[c] += u1 * wv;
        }
    }
    for (int c = 0; c < KN; ++c) {
        float s0 = hsum(a0[c]), s1 = hsum(a1[c]);
        const float* wk = w + (k0 + c) * d;
        for (std::int64_t j = d8; j < d; ++j) s0 += x0[j] * wk[j], s1 += x1[j] * wk[j];
        z0[k0 + c] = s0;
        z0[classes + k0 + c] = s1;
    }
}

// z (rows, classes) = x (rows, d) W^T for W (classes, d).
template <bool Avx2>
inline __attribute__((always_inline)) void dots_body(const float* x, std::int64_t rows, std::int64_t d, const float* w,
                                                     int classes, float* z) {
    std::int64_t i = 0;
    for (; i + 2 <= rows; i += 2)
        for (int k0 = 0; k0 < classes; k0 += 5) {
            float* zi = z + i * classes;
            switch (std::min(5, classes - k0)) {
            case 5: dots_2xk<5, Avx2>(x + i * d, d, w, k0, classes, zi); break;
            case 4: dots_2xk<4, Avx2>(x + i * d, d, w, k0, classes, zi); break;
            case 3: dots_2xk<3, Avx2>(x + i * d, d, w, k0, classes, zi); break;
            case 2: dots_2xk<2, Avx2>(x + i * d, d, w, k0, classes, zi); break;
            default: dots_2xk<1, Avx2>(x + i * d, d, w, k0, classes, zi); break;
            }
        }
    for (; i < rows; ++i)  // an odd last row
        for (int k = 0; k < classes; ++k) {
            const float* xi = x + i * d;
            const float* wk = w + k * d;
            const std::int64_t d8 = d / 8 * 8;
            v8 a = {};
            for (std::int64_t j = 0; j < d8; j += 8) a += load8(xi + j) * load8(wk + j);
            float s = hsum(a);
            for (std::int64_t j = d8; j < d; ++j) s += xi[j] * wk[j];
            z[i * classes + k] = s;
        }
}
INFOMAX_AVX2 void dots_avx2(const float* x, std::int64_t rows, std::int64_t d, const float* w, int classes, float* z) {
    dots_body<true>(x, rows, d, w, classes, z);
}
void dots_plain(const float* x, std::int64_t rows, std::int64_t d, const float* w, int classes, float* z) {
    dots_body<false>(x, rows, d, w, classes, z);
}

// g[k0 + c] += sum_i r[i][k0 + c] x_i for KN classes: KN accumulators per
// eight columns, every row of the block (the broadcasts of r stay memory
// operands: holding them in registers measured slower).
template <int KN, bool Avx2>
inline __attribute__((always_inline)) void accumulate_k(const float* x, std::int64_t rows, std::int64_t d,
                                                        const float* r, int k0, int classes, float* g) {
    const std::int64_t d8 = d / 8 * 8;
    for (std::int64_t j = 0; j < d8; j += 8) {
        v8 a[KN];
        for (int c = 0; c < KN; ++c) a[c] = load8(g + (k0 + c) * d + j);
        for (std::int64_t i = 0; i < rows; ++i) {
            const v8 u = load8(x + i * d + j);
            const float* ri = r + i * classes + k0;
            for (int c = 0; c < KN; ++c) a[c] += ri[c] * u;
        }
        for (int c = 0; c < KN; ++c) store8(g + (k0 + c) * d + j, a[c]);
    }
    for (std::int64_t j = d8; j < d; ++j)
        for (int c = 0; c < KN; ++c) {
            float s = g[(k0 + c) * d + j];
            for (std::int64_t i = 0; i < rows; ++i) s += r[i * classes + k0 + c] * x[i * d + j];
            g[(k0 + c) * d + j] = s;
        }
}

// g (classes, d) += r^T (classes, rows) x (rows, d).
template <bool Avx2>
inline __attribute__((always_inline)) void accumulate_body(const float* x, std::int64_t rows, std::int64_t d,
                                                           const float* r, int classes, float* g) {
    for (int k0 = 0; k0 < classes; k0 += 10) {
        switch (std::min(10, classes - k0)) {
        case 10: accumulate_k<10, Avx2>(x, rows, d, r, k0, classes, g); break;
        case 9: accumulate_k<9, Avx2>(x, rows, d, r, k0, classes, g); break;
        case 8: accumulate_k<8, Avx2>(x, rows, d, r, k0, classes, g); break;
        case 7: accumulate_k<7, Avx2>(x, rows, d, r, k0, classes, g); break;
        case 6: accumulate_k<6, Avx2>(x, rows, d, r, k0, classes, g); break;
        case 5: accumulate_k<5, Avx2>(x, rows, d, r, k0, classes, g); break;
        case 4: accumulate_k<4, Avx2>(x, rows, d, r, k0, classes, g); break;
        case 3: accumulate_k<3, Avx2>(x, rows, d, r, k0, classes, g); break;
        case 2: accumulate_k<2, Avx2>(x, rows, d, r, k0, classes, g); break;
        default: accumulate_k<1, Avx2>(x, rows, d, r, k0, classes, g); break;
        }
    }
}
INFOMAX_AVX2 void accumulate_avx2(const float* x, std::int64_t rows, std::int64_t d, const float* r, int classes,
                                  float* g) {
    accumulate_body<true>(x, rows, d, r, classes, g);
}
void accumulate_plain(const float* x, std::int64_t rows, std::int64_t d, const float* r, int classes, float* g) {
    accumulate_body<false>(x, rows, d, r, classes, g);
}

// The kernels this CPU runs: AVX2 + FMA where it has them.
const bool has_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
void dots(const float* x, std::int64_t rows, std::int64_t d, const float* w, int classes, float* z) {
    has_avx2 ? dots_avx2(x, rows, d, w, classes, z) : dots_plain(x, rows, d, w, classes, z);
}
void accumulate(const float* x, std::int64_t rows, std::int64_t d, const float* r, int classes, float* g) {
    has_avx2 ? accumulate_avx2(x, rows, d, r, classes, g) : accumulate_plain(x, rows, d, r, classes, g);
}

// Rows per block: the block (16 x 6400 floats = 400 KiB) is read from memory
// by the logits and again, from cache, by the gradient.
constexpr std::int64_t block_rows = 16;
// Partitions of the rows, each summed on its own and then added in order: the
// sums do not depend on how many threads share the partitions.
constexpr std::int64_t max_partitions = 16;

std::int64_t partitions(std::int64_t n) {
    return std::clamp<std::int64_t>((n + block_rows - 1) / block_rows, 1, max_partitions);
}

// f(p, z, first, rows) for every block of rows [first, first + rows) of
// partition p of n rows: partitions run as parallel tasks, the blocks of one
// partition in order, and each task lends f a scratch z of block_rows * width
// floats. The one traversal of every pass over the features.
template <class F>
void over_blocks(std::int64_t n, std::int64_t parts, std::int64_t width, F&& f) {
    tbb::parallel_for(tbb::blocked_range<std::int64_t>(0, parts, 1), [&](const tbb::blocked_range<std::int64_t>& pr) {
        std::vector<float> z(static_cast<std::size_t>(block_rows * width));
        for (std::int64_t p = pr.begin(); p < pr.end(); ++p)
            for (std::int64_t s = p * n / parts, e = (p + 1) * n / parts; s < e; s += block_rows)
                f(p, z.data(), s, std::min(block_rows, e - s));
    });
}

// Double-precision dot product and axpy for the preconditioner, in four
// lanes summed at the end (the same order in every clone).
INFOMAX_CLONES double dot_n(const double* a, const double* b, std::int64_t n) {
    double s[4] = {0, 0, 0, 0};
    std::int64_t j = 0;
    for (; j + 4 <= n; j += 4)
        for (int l = 0; l < 4; ++l) s[l] += a[j + l] * b[j + l];
    for (; j < n; ++j) s[0] += a[j] * b[j];
    return (s[0] + s[1]) + (s[2] + s[3]);
}
INFOMAX_CLONES void axpy_n(double alpha, const double* x, double* y, std::int64_t n) {
    for (std::int64_t j = 0; j < n; ++j) y[j] += alpha * x[j];
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
}

// Eigen-decomposition of the symmetric n x n matrix a (destroyed) by cyclic
// Jacobi rotations: values[i] and the row vectors[i * n ..] are its pairs.
void jacobi(std::vector<double>& a, int n, std::vector<double>& values, std::vector<double>& vectors) {
    vectors.assign(static_cast<std::size_t>(n) * n, 0.0);
    for (int i = 0; i < n; ++i) vectors[i * n + i] = 1.0;
    for (int sweep = 0; sweep < 60; ++sweep) {
        double off = 0, all = 0;
        for (int p = 0; p < n; ++p)
            for (int q = 0; q < n; ++q) (p == q ? all : off) += a[p * n + q] * a[p * n + q];
        if (off <= 1e-24 * (all + off)) break;
        for (int p = 0; p < n; ++p)
            for (int q = p + 1; q < n; ++q) {
                const double apq = a[p * n + q];
                if (std::abs(apq) < 1e-300) continue;
                const double theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
                const double t = (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1));
                const double c = 1 / std::sqrt(t * t + 1), s = t * c;
                for (int k = 0; k < n; ++k) {  // columns p, q
                    const double akp = a[k * n + p], akq = a[k * n + q];
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for (int k = 0; k < n; ++k) {  // rows p, q
                    const double apk = a[p * n + k], aqk = a[q * n + k];
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for (int k = 0; k < n; ++k) {  // the eigenvectors, as rows
                    const double vp = vectors[p * n + k], vq = vectors[q * n + k];
                    vectors[p * n + k] = c * vp - s * vq;
                    vectors[q * n + k] = s * vp + c * vq;
                }
            }
    }
    values.resize(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) values[i] = a[i * n + i];
}

}  // namespace

Logistic::Logistic(const float* x, std::int64_t n, std::int64_t d, const std::int64_t* y, int classes, double l2)
    : x_(x), n_(n), d_(d), y_(y), classes_(classes), l2_(l2),
      w_(static_cast<std::size_t>(d * classes)), b_(static_cast<std::size_t>(classes)),
      partial_(static_cast<std::size_t>(partitions(n)), std::vector<float>(static_cast<std::size_t>(d * classes))) {}

double Logistic::operator()(const std::vector<double>& theta, std::vector<double>& grad) {
    const std::int64_t nw = d_ * classes_, parts = static_cast<std::int64_t>(partial_.size());
    for (std::int64_t i = 0; i < nw; ++i) w_[i] = static_cast<float>(theta[i]);
    for (int k = 0; k < classes_; ++k) b_[k] = static_cast<float>(theta[nw + k]);
    std::vector<double> loss(static_cast<std::size_t>(parts), 0.0);
    std::vector<std::vector<double>> bias(static_cast<std::size_t>(parts), std::vector<double>(classes_, 0.0));
    const double inv_n = 1.0 / static_cast<double>(n_);
    for (auto& g : partial_) std::fill(g.begin(), g.end(), 0.0f);
    over_blocks(n_, parts, classes_, [&](std::int64_t p, float* z, std::int64_t s, std::int64_t rows) {
        const float* x = x_ + s * d_;
        dots(x, rows, d_, w_.data(), classes_, z);
        // Softmax minus the one-hot label, over n: the gradient of the mean at the logits.
        for (std::int64_t i = 0; i < rows; ++i) {
            float* zi = z + i * classes_;
            double m = -INFINITY;
            for (int k = 0; k < classes_; ++k) m = std::max(m, double(zi[k]) + b_[k]);
            double sum = 0;
            for (int k = 0; k < classes_; ++k) sum += std::exp(double(zi[k]) + b_[k] - m);
            const double lse = m + std::log(sum);
            const std::int64_t label = y_[s + i];
            loss[p] += lse - (double(zi[label]) + b_[label]);
            for (int k = 0; k < classes_; ++k) {
                const double r = (std::exp(double(zi[k]) + b_[k] - lse) - (k == label)) * inv_n;
                bias[p][k] += r;
                zi[k] = static_cast<float>(r);
            }
        }
        accumulate(x, rows, d_, z, classes_, partial_[p].data());
    });
    grad.assign(theta.size(), 0.0);
    double total = 0, penalty = 0;
    for (std::int64_t p = 0; p < parts; ++p) {
        total += loss[p];
        const float* g = partial_[p].data();
        for (std::int64_t i = 0; i < nw; ++i) grad[i] += g[i];
        for (int k = 0; k < classes_; ++k) grad[nw + k] += bias[p][k];
    }
    for (std::int64_t i = 0; i < nw; ++i) {
        grad[i] += l2_ * theta[i];
        penalty += theta[i] * theta[i];
    }
    return total * inv_n + 0.5 * l2_ * penalty;
}

std::int64_t Logistic::correct(const std::vector<double>& theta, const float* x, std::int64_t rows,
                               const std::int64_t* labels) const {
    const std::int64_t nw = d_ * classes_;
    std::vector<float> w(theta.begin(), theta.begin() + nw), b(theta.begin() + nw, theta.end());
    const std::int64_t blocks = (rows + 255) / 256;
    std::vector<std::int64_t> hits(static_cast<std::size_t>(blocks), 0);
    tbb::parallel_for(tbb::blocked_range<std::int64_t>(0, blocks, 1), [&](const tbb::blocked_range<std::int64_t>& br) {
        std::vector<float> z(static_cast<std::size_t>(256 * classes_));
        for (std::int64_t blk = br.begin(); blk < br.end(); ++blk) {
            const std::int64_t s = blk * 256, len = std::min<std::int64_t>(256, rows - s);
            dots(x + s * d_, len, d_, w.data(), classes_, z.data());
            for (std::int64_t i = 0; i < len; ++i) {
                int best = 0;
                for (int k = 1; k < classes_; ++k)
                    if (z[i * classes_ + k] + b[k] > z[i * classes_ + best] + b[best]) best = k;
                hits[blk] += best == labels[s + i];
            }
        }
    });
    std::int64_t total = 0;
    for (auto h : hits) total += h;
    return total;
}

std::function<void(std::vector<double>&)> Logistic::preconditioner(int rank, std::uint64_t seed) {
    const int r = static_cast<int>(std::min<std::int64_t>(rank, d_));
    const std::int64_t parts = static_cast<std::int64_t>(partial_.size());
    // Sketch: Y = (G Omega^T)^T for a Gaussian Omega (r, d), summed per partition.
    std::vector<float> omega(static_cast<std::size_t>(r * d_));
    Rng rng(seed, "linear probe sketch");
    for (float& v : omega) v = rng.normal();
    std::vector<std::vector<float>> ys(static_cast<std::size_t>(parts), std::vector<float>(static_cast<std::size_t>(r * d_)));
    over_blocks(n_, parts, r, [&](std::int64_t p, float* z, std::int64_t s, std::int64_t rows) {
        dots(x_ + s * d_, rows, d_, omega.data(), r, z);
        accumulate(x_ + s * d_, rows, d_, z, r, ys[p].data());
    });
    // Orthonormal rows Q spanning Y (modified Gram-Schmidt, twice), in double.
    std::vector<std::vector<double>> q;
    for (int i = 0; i < r; ++i) {
        std::vector<double> v(static_cast<std::size_t>(d_), 0.0);
        for (std::int64_t p = 0; p < parts; ++p)
            for (std::int64_t j = 0; j < d_; ++j) v[j] += ys[p][i * d_ + j];
        const double norm0 = std::sqrt(dot(v, v));
        for (int pass = 0; pass < 2; ++pass)
            for (const auto& u : q) {
                const double c = dot(u, v);
                for (std::int64_t j = 0; j < d_; ++j) v[j] -= c * u[j];
            }
        const double norm = std::sqrt(dot(v, v));
        if (!(norm > 1e-8 * norm0)) continue;  // dependent: G has rank below r
        for (double& e : v) e /= norm;
        q.push_back(std::move(v));
    }
    ys.clear();
    const int k = static_cast<int>(q.size());
    if (k == 0) return {};
    // Rayleigh-Ritz: T = Q G Q^T (k, k), its eigenpairs give G's in span(Q).
    std::vector<float> qf(static_cast<std::size_t>(k * d_));
    for (int i = 0; i < k; ++i)
        for (std::int64_t j = 0; j < d_; ++j) qf[i * d_ + j] = static_cast<float>(q[i][j]);
    std::vector<std::vector<double>> ts(static_cast<std::size_t>(parts), std::vector<double>(static_cast<std::size_t>(k * k)));
    over_blocks(n_, parts, k, [&](std::int64_t p, float* z, std::int64_t s, std::int64_t rows) {
        dots(x_ + s * d_, rows, d_, qf.data(), k, z);
        for (std::int64_t i = 0; i < rows; ++i)
            for (int a = 0; a < k; ++a)
                for (int b = a; b < k; ++b) ts[p][a * k + b] += double(z[i * k + a]) * z[i * k + b];
    });
    std::vector<double> t(static_cast<std::size_t>(k * k), 0.0);
    for (std::int64_t p = 0; p < parts; ++p)
        for (int a = 0; a < k; ++a)
            for (int b = a; b < k; ++b) t[a * k + b] += ts[p][a * k + b] / static_cast<double>(n_);
    for (int a = 0; a < k; ++a)
        for (int b = 0; b < a; ++b) t[a * k + b] = t[b * k + a];
    std::vector<double> values, vectors;
    jacobi(t, k, values, vectors);
    // U = V^T Q: G's approximate eigenvectors as rows; the floor is the smallest kept value.
    auto u = std::make_shared<std::vector<double>>(static_cast<std::size_t>(k * d_), 0.0);
    for (int i = 0; i < k; ++i)
        for (int a = 0; a < k; ++a) {
            const double c = vectors[i * k + a];
            for (std::int64_t j = 0; j < d_; ++j) (*u)[i * d_ + j] += c * q[a][j];
        }
    double floor = std::numeric_limits<double>::infinity();
    for (double v : values) floor = std::min(floor, std::max(v, 0.0));
    floor = std::max(floor, 1e-12);
    auto damp = std::make_shared<std::vector<double>>(static_cast<std::size_t>(k));
    for (int i = 0; i < k; ++i) (*damp)[i] = floor / std::max(values[i], floor) - 1.0;
    // Scaled so the complement of U is the identity; a bias sees the constant
    // feature, of eigenvalue 1, so it is scaled by floor / 1.
    const std::int64_t d = d_;
    const int classes = classes_;
    return [u, damp, d, k, classes, floor](std::vector<double>& v) {
        // Classes are independent: one task each, the same sums for any thread count.
        tbb::parallel_for(tbb::blocked_range<int>(0, classes, 1), [&](const tbb::blocked_range<int>& cr) {
            std::vector<double> c(static_cast<std::size_t>(k));
            for (int cls = cr.begin(); cls < cr.end(); ++cls) {
                double* w = v.data() + cls * d;
                for (int i = 0; i < k; ++i) c[i] = dot_n(u->data() + i * d, w, d) * (*damp)[i];
                for (int i = 0; i < k; ++i) axpy_n(c[i], u->data() + i * d, w, d);
            }
        });
        for (int cls = 0; cls < classes; ++cls) v[classes * d + cls] *= std::min(floor, 1.0);
    };
}

LbfgsResult lbfgs(const std::function<double(const std::vector<double>&, std::vector<double>&)>& f,
                  std::vector<double>& theta, int max_iter, double tolerance, const LbfgsProgress& progress,
                  const std::function<void(std::vector<double>&)>& h0) {
    const int m = 10;
    LbfgsResult out;
    std::vector<std::vector<double>> s_hist, y_hist;
    std::vector<double> rho_hist;
    std::vector<double> g, g_new, d(theta.size()), theta_new(theta.size());
    double fx = f(theta, g);
    out.evaluations = 1;
    auto gmax_of = [](const std::vector<double>& v) {
        double r = 0;
        for (double e : v) r = std::max(r, std::abs(e));
        return r;
    };
    out.stopped = "max_iter";
    int it = 0;
    for (; it < max_iter; ++it) {
        if (gmax_of(g) < tolerance) {
            out.stopped = "gradient";
            break;
        }
        // Two-loop recursion: d = -H g.
        d = g;
        std::vector<double> alpha(s_hist.size());
        for (int i = static_cast<int>(s_hist.size()) - 1; i >= 0; --i) {
            alpha[i] = rho_hist[i] * dot(s_hist[i], d);
            for (std::size_t k = 0; k < d.size(); ++k) d[k] -= alpha[i] * y_hist[i][k];
        }
        double gamma = 1;
        if (s_hist.empty()) {
            if (h0) h0(d);
            gamma = 1.0 / std::max(1.0, std::sqrt(dot(d, d)));
        } else if (h0) {
            std::vector<double> hy = y_hist.back();
            h0(hy);
            h0(d);
            gamma = dot(s_hist.back(), y_hist.back()) / dot(y_hist.back(), hy);
        } else {
            gamma = dot(s_hist.back(), y_hist.back()) / dot(y_hist.back(), y_hist.back());
        }
        for (double& v : d) v *= gamma;
        for (std::size_t i = 0; i < s_hist.size(); ++i) {
            const double beta = rho_hist[i] * dot(y_hist[i], d);
            for (std::size_t k = 0; k < d.size(); ++k) d[k] += s_hist[i][k] * (alpha[i] - beta);
        }
        for (double& v : d) v = -v;
        double slope = dot(g, d);
        if (slope >= 0) {  // not a descent direction: restart from the gradient
            s_hist.clear(), y_hist.clear(), rho_hist.clear();
            for (std::size_t k = 0; k < d.size(); ++k) d[k] = -g[k];
            slope = dot(g, d);
        }
        // Backtracking (Armijo) line search from the full step. The loss is
        // computed in f32: when no step decreases it, it is converged to that
        // precision, and searching further only burns passes over the data.
        double step = 1.0, f_new = 0;
        bool found = false;
        for (int ls = 0; ls < 10; ++ls, step *= 0.5) {
            for (std::size_t k = 0; k < theta.size(); ++k) theta_new[k] = theta[k] + step * d[k];
            f_new = f(theta_new, g_new);
            ++out.evaluations;
            if (f_new <= fx + 1e-4 * step * slope) {
                found = true;
                break;
            }
        }
        if (!found) {
            out.stopped = "line search";
            break;
        }
        std::vector<double> sv(theta.size()), yv(theta.size());
        for (std::size_t k = 0; k < theta.size(); ++k) {
            sv[k] = theta_new[k] - theta[k];
            yv[k] = g_new[k] - g[k];
        }
        const double sy = dot(sv, yv);
        const double decrease = fx - f_new;
        theta = theta_new;
        g = g_new;
        fx = f_new;
        if (sy > 1e-12) {
            if (static_cast<int>(s_hist.size()) == m) {
                s_hist.erase(s_hist.begin()), y_hist.erase(y_hist.begin()), rho_hist.erase(rho_hist.begin());
            }
            s_hist.push_back(std::move(sv));
            y_hist.push_back(std::move(yv));
            rho_hist.push_back(1.0 / sy);
        }
        if (progress) progress(it + 1, fx, gmax_of(g));
        if (decrease >= 0 && decrease < 1e-10 * std::max(1.0, std::abs(fx))) {
            ++it;
            out.stopped = "no decrease";
            break;
        }
    }
    out.iterations = it;
    out.loss = fx;
    out.gradient_max = gmax_of(g);
    return out;
}

}  // namespace infomax::eval::detail
