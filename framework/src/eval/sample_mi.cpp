#include "infomax/eval/sample_mi.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <tuple>
#include <unordered_map>

#include "infomax/runtime/error.hpp"

namespace infomax::eval {

namespace {

// n >= 2, dims >= 1, non-null and finite samples.
void check_samples(const char* who, const Samples& s) {
    if (s.n < 2) throw Error(fmt::format("{}: n = {} samples, need at least 2", who, s.n));
    if (s.dx < 1) throw Error(fmt::format("{}: dx = {} must be at least 1 (x's dimensions)", who, s.dx));
    if (s.dy < 1) throw Error(fmt::format("{}: dy = {} must be at least 1 (y's dimensions)", who, s.dy));
    if (!s.x) throw Error(fmt::format("{}: x is null (expected n * dx = {} * {} floats)", who, s.n, s.dx));
    if (!s.y) throw Error(fmt::format("{}: y is null (expected n * dy = {} * {} floats)", who, s.n, s.dy));
    for (const auto& [name, data, dims] : {std::tuple{"x", s.x, s.dx}, std::tuple{"y", s.y, s.dy}})
        for (std::int64_t i = 0; i < s.n; ++i)
            for (std::int64_t d = 0; d < dims; ++d)
                if (!std::isfinite(data[i * dims + d]))
                    throw Error(fmt::format("{}: {} holds {} at row {}, column {}; the estimators need finite samples",
                                            who, name, data[i * dims + d], i, d));
}

// The KSG inner loops: GCC's -O2 cost model ("very cheap") vectorises a loop
// only when its trip count is known to be a multiple of the vector width, so
// arrays over samples are padded to a multiple of kLanes, and each loop either
// runs to `np & ~(kLanes - 1)` (known low bits) or over fixed blocks of kLanes.
// Whichever form gives straight SSE2 code (subps, andps, maxps, cmpltps,
// psubd) at both -O2 and -O3 is used; at -O3 the blocked distance loop was
// vectorised across blocks with shuffles instead, 1.6x slower.
constexpr std::int64_t kLanes = 8;

std::int64_t padded(std::int64_t n) { return (n + kLanes - 1) / kLanes * kLanes; }

// Dimension-major copy, each dimension padded to np samples with +inf:
// t[d * np + i] = a[i * dims + d]. A padding sample is at distance +inf from
// every real one, so it is never a neighbour nor counted.
std::vector<float> transpose(const float* a, std::int64_t n, std::int64_t dims, std::int64_t np) {
    std::vector<float> t(static_cast<std::size_t>(np * dims), std::numeric_limits<float>::infinity());
    for (std::int64_t i = 0; i < n; ++i)
        for (std::int64_t d = 0; d < dims; ++d) t[static_cast<std::size_t>(d * np + i)] = a[i * dims + d];
    return t;
}

// out[j] = max_d |t[d][j] - t[d][i]| for j < np, the max-norm distance from
// sample i to each sample j, t dimension-major with row stride np. Dimensions
// outer, samples inner: each inner loop is branch-free float sub/and/max over
// contiguous memory. Each |a - b| is rounded once and max is exact, so the
// distance of i to j equals that of j to i bit for bit.
void max_norm_distances(const float* __restrict t, std::int64_t dims, std::int64_t np, std::int64_t i,
                        float* __restrict out) {
    const std::int64_t m = np & ~(kLanes - 1);  // == np, with its low bits known to the compiler
    {
        const float ci = t[i];
        for (std::int64_t j = 0; j < m; ++j) out[j] = std::fabs(t[j] - ci);
    }
    for (std::int64_t d = 1; d < dims; ++d) {
        const float* __restrict col = t + d * np;
        const float ci = col[i];
        for (std::int64_t j = 0; j < m; ++j) out[j] = std::max(out[j], std::fabs(col[j] - ci));
    }
}

// z[j] = max(a[j], b[j]) for j < np.
void elementwise_max(const float* __restrict a, const float* __restrict b, float* __restrict z, std::int64_t np) {
    for (std::int64_t j = 0; j < np; j += kLanes)
        for (std::int64_t u = 0; u < kLanes; ++u) z[j + u] = std::max(a[j + u], b[j + u]);
}

// #{j < np : a[j] < eps}, in kLanes 32-bit counters (n < 2^32 * kLanes).
std::int64_t count_below(const float* __restrict a, std::int64_t np, float eps) {
    std::uint32_t c[kLanes] = {};
    for (std::int64_t j = 0; j < np; j += kLanes)
        for (std::int64_t u = 0; u < kLanes; ++u) c[u] += a[j + u] < eps ? 1u : 0u;
    std::int64_t total = 0;
    for (const std::uint32_t v : c) total += v;
    return total;
}

// The k-th smallest of z[0, n) (k in [1, n)), exactly std::nth_element's,
// with scratch[n] to work in. A full nth_element over n was half of the KSG
// time; instead the k-th smallest of a subsample of m entries, tau, bounds it
// from above (the k-th smallest of a part is at least that of the whole), so
// the entries <= tau, about k n / m of them, hold the k smallest: select among
// those. The filter is branch-free (an unconditional store, a counted step).
float kth_smallest(const float* z, std::int64_t n, int k, float* scratch) {
    const std::int64_t m = std::max<std::int64_t>(256, 8 * std::int64_t{k});
    if (m >= n / 2) {
        std::copy(z, z + n, scratch);
        std::nth_element(scratch, scratch + (k - 1), scratch + n);
        return scratch[k - 1];
    }
    std::copy(z, z + m, scratch);  // m - 1 >= k finite entries: tau is finite
    std::nth_element(scratch, scratch + (k - 1), scratch + m);
    const float tau = scratch[k - 1];
    std::int64_t c = 0;
    for (std::int64_t j = 0; j < n; ++j) {
        scratch[c] = z[j];
        c += z[j] <= tau ? 1 : 0;
    }
    std::nth_element(scratch, scratch + (k - 1), scratch + c);
    return scratch[k - 1];
}

// In-place Cholesky of the symmetric positive definite m x m matrix a
// (row-major, lower triangle used and overwritten with L, a = L L^T). Returns
// -1, or the first column whose pivot d_j = a_jj - sum_k L_jk^2 is below
// `tol`: for a unit-diagonal (correlation) matrix d_j = 1 - R_j^2, R_j the
// multiple correlation of column j with the columns before it.
std::int64_t cholesky(std::vector<double>& a, std::int64_t m, double tol) {
    for (std::int64_t j = 0; j < m; ++j) {
        double d = a[j * m + j];
        for (std::int64_t k = 0; k < j; ++k) d -= a[j * m + k] * a[j * m + k];
        if (!(d >= tol)) return j;
        const double l = std::sqrt(d);
        a[j * m + j] = l;
        for (std::int64_t i = j + 1; i < m; ++i) {
            double v = a[i * m + j];
            for (std::int64_t k = 0; k < j; ++k) v -= a[i * m + k] * a[j * m + k];
            a[i * m + j] = v / l;
        }
    }
    return -1;
}

// Eigenvalues of the symmetric p x p matrix a (row-major, destroyed) by
// cyclic Jacobi rotations (Golub & Van Loan 8.5), until the off-diagonal mass
// is below 1e-30 of the total (machine precision squared) or 100 sweeps.
std::vector<double> jacobi_eigenvalues(std::vector<double> a, std::int64_t p) {
    auto at = [&](std::int64_t r, std::int64_t c) -> double& { return a[static_cast<std::size_t>(r * p + c)]; };
    double total = 0;
    for (double v : a) total += v * v;
    for (int sweep = 0; sweep < 100; ++sweep) {
        double off = 0;
        for (std::int64_t r = 0; r < p; ++r)
            for (std::int64_t c = r + 1; c < p; ++c) off += 2 * at(r, c) * at(r, c);
        if (off <= 1e-30 * total) break;
        for (std::int64_t r = 0; r < p; ++r)
            for (std::int64_t c = r + 1; c < p; ++c) {
                const double arc = at(r, c);
                if (arc == 0) continue;
                // The rotation that zeroes a_rc: t = tan(theta), the smaller root.
                const double theta = (at(c, c) - at(r, r)) / (2 * arc);
                const double t = (theta >= 0 ? 1.0 : -1.0) / (std::fabs(theta) + std::sqrt(theta * theta + 1));
                const double cs = 1 / std::sqrt(t * t + 1), sn = t * cs;
                for (std::int64_t k = 0; k < p; ++k) {  // columns r, c
                    const double akr = at(k, r), akc = at(k, c);
                    at(k, r) = cs * akr - sn * akc;
                    at(k, c) = sn * akr + cs * akc;
                }
                for (std::int64_t k = 0; k < p; ++k) {  // rows r, c
                    const double ark = at(r, k), ack = at(c, k);
                    at(r, k) = cs * ark - sn * ack;
                    at(c, k) = sn * ark + cs * ack;
                }
                at(r, c) = at(c, r) = 0;
            }
    }
    std::vector<double> eig(static_cast<std::size_t>(p));
    for (std::int64_t r = 0; r < p; ++r) eig[static_cast<std::size_t>(r)] = at(r, r);
    return eig;
}

// The bin of each sample in column d of the row-major (n, dims) array a:
// `bins` equal-width bins over the column's [min, max], the max in the last.
void column_bins(const float* a, std::int64_t n, std::int64_t dims, std::int64_t d, int bins,
                 std::vector<std::int64_t>& out) {
    float lo = a[d], hi = a[d];
    for (std::int64_t i = 1; i < n; ++i) {
        lo = std::min(lo, a[i * dims + d]);
        hi = std::max(hi, a[i * dims + d]);
    }
    const double width = static_cast<double>(hi) - static_cast<double>(lo);
    for (std::int64_t i = 0; i < n; ++i) {
        std::int64_t b = 0;
        if (width > 0) {
            b = static_cast<std::int64_t>((static_cast<double>(a[i * dims + d]) - lo) / width * bins);
            b = std::min<std::int64_t>(b, bins - 1);
        }
        out[static_cast<std::size_t>(i)] = b;
    }
}

// Refines the dense cell ids `ids` (each in [0, cells)) by the bins of each
// column of a: the cell of sample i becomes (old cell, bin) renumbered densely
// in order of first appearance through a hash map. Ids stay below n, so
// old * bins + bin never overflows, however large bins^dims is. Returns the
// number of distinct cells.
std::int64_t refine_cells(const float* a, std::int64_t n, std::int64_t dims, int bins, std::vector<std::int64_t>& ids,
                          std::int64_t cells) {
    std::vector<std::int64_t> b(static_cast<std::size_t>(n));
    std::unordered_map<std::int64_t, std::int64_t> dense;
    for (std::int64_t d = 0; d < dims; ++d) {
        column_bins(a, n, dims, d, bins, b);
        dense.clear();
        dense.reserve(static_cast<std::size_t>(std::min<std::int64_t>(n, cells * bins)));
        for (std::int64_t i = 0; i < n; ++i) {
            const std::int64_t key = ids[static_cast<std::size_t>(i)] * bins + b[static_cast<std::size_t>(i)];
            ids[static_cast<std::size_t>(i)] = dense.try_emplace(key, static_cast<std::int64_t>(dense.size())).first->second;
        }
        cells = static_cast<std::int64_t>(dense.size());
    }
    return cells;
}

}  // namespace

double digamma(double x) {
    if (!(x > 0)) throw Error(fmt::format("digamma: x = {} must be positive", x));
    // psi(x) = psi(x + 1) - 1/x up to x >= 6, then the asymptotic series
    // psi(x) ~ log x - 1/(2x) - sum_k B_2k / (2k x^2k) through B_16; its terms
    // still fall at x = 6, and the first one left out, B_18 / (18 x^18) =
    // 3.05 x^-18 <= 3e-14, bounds the error.
    double shift = 0;
    while (x < 6) {
        shift -= 1 / x;
        x += 1;
    }
    const double r = 1 / (x * x);
    const double series =
        r * (1.0 / 12 -
             r * (1.0 / 120 -
                  r * (1.0 / 252 -
                       r * (1.0 / 240 - r * (1.0 / 132 - r * (691.0 / 32760 - r * (1.0 / 12 - r * (3617.0 / 8160))))))));
    return shift + std::log(x) - 0.5 / x - series;
}

double ksg_mi(const Samples& s, int k) {
    check_samples("ksg_mi", s);
    const std::int64_t n = s.n;
    if (k < 1 || k > n - 1)
        throw Error(fmt::format("ksg_mi: k = {} must be in [1, n - 1] = [1, {}] (the neighbour whose distance sets "
                                "the scale; KSG suggest 2 to 10)",
                                k, n - 1));
    const std::int64_t np = padded(n);
    const std::vector<float> xt = transpose(s.x, n, s.dx, np), yt = transpose(s.y, n, s.dy, np);
    std::vector<float> ax(static_cast<std::size_t>(np)), ay(ax.size()), z(ax.size()), scratch(ax.size());
    // hist[c]: how many of the 2n marginal counts n_x(i), n_y(i) equal c. The
    // sum of psi(c + 1) is then taken in the order of c, not of the samples:
    // the result is the same bit for bit for any order of the rows, and for
    // x and y swapped.
    std::vector<std::int64_t> hist(static_cast<std::size_t>(n), 0);
    constexpr float inf = std::numeric_limits<float>::infinity();
    for (std::int64_t i = 0; i < n; ++i) {
        max_norm_distances(xt.data(), s.dx, np, i, ax.data());
        max_norm_distances(yt.data(), s.dy, np, i, ay.data());
        elementwise_max(ax.data(), ay.data(), z.data(), np);
        // Sample i is no neighbour of itself: at infinity it is never among
        // the k <= n - 1 nearest, nor closer than eps in a marginal.
        z[i] = ax[i] = ay[i] = inf;
        const float eps = kth_smallest(z.data(), n, k, scratch.data());
        ++hist[static_cast<std::size_t>(count_below(ax.data(), np, eps))];
        ++hist[static_cast<std::size_t>(count_below(ay.data(), np, eps))];
    }
    double sum = 0;
    for (std::int64_t c = 0; c < n; ++c)
        if (hist[static_cast<std::size_t>(c)] != 0)
            sum += static_cast<double>(hist[static_cast<std::size_t>(c)]) * digamma(static_cast<double>(c + 1));
    return digamma(k) + digamma(static_cast<double>(n)) - sum / static_cast<double>(n);
}

namespace {

// canonical_correlations, its errors named after `who`.
std::vector<double> canonical(const Samples& s, const char* who) {
    check_samples(who, s);
    const std::int64_t n = s.n, dx = s.dx, dy = s.dy, m = dx + dy;
    if (n <= m)
        throw Error(fmt::format("{}: n = {} samples for dx + dy = {} + {} = {} dimensions: the sample covariance "
                                "is singular unless n > dx + dy; use more samples or fewer dimensions",
                                who, n, dx, dy, m));
    auto value = [&](std::int64_t i, std::int64_t c) -> float {
        return c < dx ? s.x[i * dx + c] : s.y[i * dy + (c - dx)];
    };
    // Means in double, and constant columns (exactly: their variance is 0).
    std::vector<double> mean(static_cast<std::size_t>(m), 0.0);
    for (std::int64_t c = 0; c < m; ++c) {
        const float first = value(0, c);
        bool constant = true;
        double sum = 0;
        for (std::int64_t i = 0; i < n; ++i) {
            const float v = value(i, c);
            constant = constant && v == first;
            sum += v;
        }
        if (constant)
            throw Error(fmt::format("{}: column {} of {} is constant (every sample is {}): its variance is 0, so "
                                    "the covariance is singular; drop the column",
                                    who, c < dx ? c : c - dx, c < dx ? "x" : "y", first));
        mean[static_cast<std::size_t>(c)] = sum / static_cast<double>(n);
    }
    // The joint covariance S of the centred samples (x's columns first), upper
    // triangle by rank-1 updates, then mirrored.
    std::vector<double> cov(static_cast<std::size_t>(m * m), 0.0), row(static_cast<std::size_t>(m));
    for (std::int64_t i = 0; i < n; ++i) {
        for (std::int64_t c = 0; c < m; ++c) row[c] = value(i, c) - mean[c];
        for (std::int64_t a = 0; a < m; ++a) {
            const double ra = row[a];
            double* __restrict out = cov.data() + a * m;
            const double* __restrict r = row.data();
            for (std::int64_t b = a; b < m; ++b) out[b] += ra * r[b];
        }
    }
    // To correlations (unit diagonal): the canonical correlations do not
    // change, and the Cholesky pivots become 1 - R^2 (multiple correlation).
    std::vector<double> scale(static_cast<std::size_t>(m));
    for (std::int64_t c = 0; c < m; ++c) scale[c] = 1 / std::sqrt(cov[c * m + c]);
    for (std::int64_t a = 0; a < m; ++a)
        for (std::int64_t b = a; b < m; ++b) cov[a * m + b] = cov[b * m + a] = cov[a * m + b] * scale[a] * scale[b];
    for (std::int64_t c = 0; c < m; ++c) cov[c * m + c] = 1;
    // A column whose 1 - R^2 on the columns before it is below 1e-12 is
    // collinear with them up to the rounding of float data: rounding a float
    // (24 bits) perturbs it by ~1e-8 relative, which alone leaves 1 - R^2 near
    // 1e-15, while the double covariance is good to ~1e-16 * sqrt(n).
    constexpr double tol = 1e-12;
    auto block = [&](std::int64_t first, std::int64_t size) {
        std::vector<double> b(static_cast<std::size_t>(size * size));
        for (std::int64_t r = 0; r < size; ++r)
            for (std::int64_t c = 0; c < size; ++c) b[r * size + c] = cov[(first + r) * m + first + c];
        return b;
    };
    std::vector<double> lx = block(0, dx), ly = block(dx, dy), joint = cov;
    for (const auto& [name, l, size] : {std::tuple{"x", &lx, dx}, std::tuple{"y", &ly, dy}})
        if (const std::int64_t bad = cholesky(*l, size, tol); bad >= 0)
            throw Error(fmt::format("{}: the columns of {} are linearly dependent: column {} is a linear "
                                    "combination of {} (up to float rounding), so {}'s covariance is singular; drop "
                                    "the redundant column",
                                    who, name, bad, bad == 1 ? "column 0" : fmt::format("columns 0 to {}", bad - 1),
                                    name));
    if (const std::int64_t bad = cholesky(joint, m, tol); bad >= 0)
        throw Error(fmt::format("{}: column {} of y is a linear combination of x's columns and y's columns "
                                "before it (up to float rounding): a canonical correlation of 1, where the "
                                "Gaussian MI is infinite; drop the column or add noise",
                                who, bad - dx));
    // M = Lx^-1 Rxy Ly^-T: W = Lx^-1 Rxy (dx, dy) by forward substitution down
    // each column, then M^T = Ly^-1 W^T likewise, stored as M (dx, dy).
    std::vector<double> w(static_cast<std::size_t>(dx * dy));
    for (std::int64_t c = 0; c < dy; ++c)
        for (std::int64_t r = 0; r < dx; ++r) {
            double v = cov[r * m + dx + c];
            for (std::int64_t k = 0; k < r; ++k) v -= lx[r * dx + k] * w[k * dy + c];
            w[r * dy + c] = v / lx[r * dx + r];
        }
    for (std::int64_t r = 0; r < dx; ++r)
        for (std::int64_t c = 0; c < dy; ++c) {
            double v = w[r * dy + c];
            for (std::int64_t k = 0; k < c; ++k) v -= ly[c * dy + k] * w[r * dy + k];
            w[r * dy + c] = v / ly[c * dy + c];
        }
    // rho^2 are the eigenvalues of M M^T (dx <= dy) or M^T M: the smaller.
    const std::int64_t p = std::min(dx, dy);
    std::vector<double> g(static_cast<std::size_t>(p * p), 0.0);
    for (std::int64_t a = 0; a < p; ++a)
        for (std::int64_t b = a; b < p; ++b) {
            double v = 0;
            if (dx <= dy)
                for (std::int64_t k = 0; k < dy; ++k) v += w[a * dy + k] * w[b * dy + k];
            else
                for (std::int64_t k = 0; k < dx; ++k) v += w[k * dy + a] * w[k * dy + b];
            g[a * p + b] = g[b * p + a] = v;
        }
    std::vector<double> rho = jacobi_eigenvalues(std::move(g), p);
    for (double& r : rho) r = std::sqrt(std::clamp(r, 0.0, 1.0));
    std::sort(rho.begin(), rho.end(), std::greater<>());
    return rho;
}

}  // namespace

std::vector<double> canonical_correlations(const Samples& s) { return canonical(s, "canonical_correlations"); }

double cca_mi(const Samples& s) {
    double mi = 0;
    for (const double r : canonical(s, "cca_mi")) mi -= 0.5 * std::log1p(-r * r);
    return mi;
}

double binned_mi(const Samples& s, int bins) {
    check_samples("binned_mi", s);
    if (bins < 2) throw Error(fmt::format("binned_mi: bins = {} must be at least 2 (bins per dimension)", bins));
    const std::int64_t n = s.n;
    std::vector<std::int64_t> ix(static_cast<std::size_t>(n), 0), iy(ix.size(), 0);
    refine_cells(s.x, n, s.dx, bins, ix, 1);
    refine_cells(s.y, n, s.dy, bins, iy, 1);
    std::vector<std::int64_t> ixy = ix;  // x's cells refined by y's bins: the joint cells
    const std::int64_t cells = refine_cells(s.y, n, s.dy, bins, ixy, n);
    std::vector<std::int64_t> cx(static_cast<std::size_t>(n), 0), cy(cx.size(), 0), cxy(cx.size(), 0),
        xof(cx.size(), 0), yof(cx.size(), 0);
    for (std::int64_t i = 0; i < n; ++i) {
        ++cx[ix[i]];
        ++cy[iy[i]];
        if (cxy[ixy[i]]++ == 0) {
            xof[ixy[i]] = ix[i];
            yof[ixy[i]] = iy[i];
        }
    }
    // sum p(a,b) log(p(a,b) / (p(a) p(b))) = (1/n) sum c_ab log(n c_ab / (c_a c_b)).
    const double nn = static_cast<double>(n);
    double mi = 0;
    for (std::int64_t j = 0; j < cells; ++j) {
        const double c = static_cast<double>(cxy[j]);
        mi += c * std::log(nn * c / (static_cast<double>(cx[xof[j]]) * static_cast<double>(cy[yof[j]])));
    }
    return mi / nn;
}

void standardize_columns(float* train, std::int64_t n, std::int64_t d, float* other, std::int64_t other_rows) {
    for (std::int64_t j = 0; j < d; ++j) {
        double mean = 0, sq = 0;
        for (std::int64_t i = 0; i < n; ++i) mean += train[i * d + j];
        mean /= double(n);
        for (std::int64_t i = 0; i < n; ++i) sq += (train[i * d + j] - mean) * (train[i * d + j] - mean);
        const double sd = std::sqrt(sq / double(n));
        auto map = [&](float& v) { v = sd > 0 ? float((v - mean) / sd) : 0.0f; };
        for (std::int64_t i = 0; i < n; ++i) map(train[i * d + j]);
        for (std::int64_t i = 0; i < other_rows; ++i) map(other[i * d + j]);
    }
}

}  // namespace infomax::eval
