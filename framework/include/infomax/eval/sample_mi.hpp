// Classical estimators of the mutual information I(x; y) from paired samples
// (not from critic scores), in nats: the Kraskov-Stoegbauer-Grassberger
// k-nearest-neighbour estimator, the Gaussian (canonical correlation)
// estimator, and the plug-in estimator on an equal-width histogram.
//
// Each takes n paired samples, x row-major (n, dx) and y row-major (n, dy),
// and throws infomax::Error (infomax/runtime/error.hpp) naming the bad
// argument: n >= 2, dx >= 1, dy >= 1, non-null x and y, finite values.
// Standard headers only, so any tool can use it.
#pragma once

#include <cstdint>
#include <vector>

namespace infomax::eval {

// n samples of x (n, dx) and y (n, dy), row-major; sample i is
// x[i * dx .. i * dx + dx) with y[i * dy .. i * dy + dy).
struct Samples {
    const float* x = nullptr;
    const float* y = nullptr;
    std::int64_t n = 0, dx = 0, dy = 0;
};

// Kraskov, Stoegbauer & Grassberger (2004), estimator 1, max-norm in the joint
// space z = (x, y) (||z|| = max(||x||_inf, ||y||_inf)) and in each marginal:
//   psi(k) + psi(n) - < psi(n_x(i) + 1) + psi(n_y(i) + 1) >_i
// eps_i = the max-norm distance from z_i to its k-th nearest neighbour among
// j != i (counting distances with multiplicity: k samples at one distance are
// k neighbours); n_x(i) = #{j != i : ||x_j - x_i||_inf < eps_i} (strictly),
// n_y(i) likewise. Ties: a sample at exactly eps_i in a marginal is not
// counted (the strict '<' of the definition), so when duplicated samples make
// eps_i = 0, n_x(i) = n_y(i) = 0. Add tiny noise to discrete data first, as
// KSG advise. Needs k in [1, n - 1]. Distances are computed in float from the
// float samples, each exactly |a - b| rounded once, so the value does not
// depend on the order of the samples (bit for bit), is symmetric in x <-> y
// (bit for bit), and is unchanged by scaling x and y by one power of two.
// Brute force O(n^2 (dx + dy)) on one thread: n = 5000, dx = dy = 25 takes a
// few tenths of a second.
double ksg_mi(const Samples& s, int k);

// The sample canonical correlations of x and y, largest first, min(dx, dy) of
// them, each in [0, 1]: the singular values of Lx^-1 Sxy Ly^-T (Sxx = Lx Lx^T,
// Syy = Ly Ly^T, the covariance blocks of the centred samples, in double).
// Throws when a covariance is singular: a constant column, n <= dx + dy, or
// columns linearly dependent up to float rounding (within x, within y, or a
// combination of y's columns equal to one of x's: a canonical correlation of
// 1), naming the cause and the way out (messages start "canonical_correlations:",
// or "cca_mi:" when called from cca_mi).
std::vector<double> canonical_correlations(const Samples& s);

// The MI of the Gaussian with the samples' covariance:
// -1/2 sum_i log(1 - rho_i^2) over the canonical correlations above. Exact for
// jointly Gaussian (x, y) as n grows; a lower bound on the MI of any (x, y)
// with that covariance. Invariant to invertible linear maps of x and of y.
double cca_mi(const Samples& s);

// The plug-in MI of an equal-width histogram: each of the dx + dy dimensions
// cut into `bins` equal bins over its own sample [min, max] (the max falls in
// the last bin; a constant dimension is one bin), p the cell frequencies of x,
// of y and of (x, y):  sum_{a,b} p(a,b) log(p(a,b) / (p(a) p(b))).
// Only occupied cells are stored (hashed), so bins^(dx + dy) may be
// astronomically large. Biased upwards by about (cells_x - 1)(cells_y - 1) /
// (2n) for independent x and y. Needs bins >= 2.
double binned_mi(const Samples& s, int bins);

// Each of the d columns of `train` (n rows, row-major) to mean 0 and
// standard deviation 1 by its own statistics (in double, rounded once to
// float; a constant column becomes 0), and the `other_rows` rows of `other`
// (d columns) by the same map: the protocol standardises a test split by its
// training split's statistics. An affine map of each column keeps the MI.
void standardize_columns(float* train, std::int64_t n, std::int64_t d, float* other = nullptr, std::int64_t other_rows = 0);

// The digamma function psi(x) = d/dx log Gamma(x) for x > 0, to about 1e-13
// absolute for x >= 1 and 1e-15 relative below; psi(1) = -0.5772...,
// psi(x + 1) = psi(x) + 1/x. Throws for x <= 0 or NaN.
double digamma(double x);

}  // namespace infomax::eval
