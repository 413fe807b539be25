// The 40 tasks of the Beyond-Normal MI benchmark (Czyz et al., NeurIPS 2023; the
// Python package `bmi`, BENCHMARK_TASKS_LIST), drawn natively: the same ids, the
// same distributions and the same closed-form true MI, written anew from the
// paper's definitions (no code of bmi is used).
//
// What matches bmi and what does not:
//   - ids, names, dimensions and true MI values are bmi's (MI in nats);
//   - samples follow the same distributions but not the same numbers: bmi draws
//     with JAX's threefry generator (and SciPy for Student-t) and computes in
//     float32; here every sample is drawn and transformed in double from the
//     framework's Rng and rounded to float once, at the end;
//   - nothing is standardised here (bmi's tasks do not standardise either; its
//     estimators and benchmark workflow do, on the sample).
//
// A task is a base sampler (bivariate normal, additive uniform noise, split
// multinormal, split Student-t) followed by transforms applied in order; every
// transform is injective and smooth on the support, so the task keeps its base's MI.
#pragma once

#include <string>
#include <vector>

#include "infomax/tensor/random.hpp"

namespace infomax::bmi {

enum class Sampler {
    multinormal,  // Z ~ N(0, Sigma), x = Z[0:dim_x], y = Z[dim_x:] (the bivariate normal too)
    additive,     // x ~ U(0, 1), y = x + U(-eps, eps)
    student,      // Z = G / sqrt(chi2_dof / dof), G ~ N(0, Omega), split like the multinormal
};

enum class Transform {
    normal_cdf,   // Phi, every coordinate of x and y
    half_cube,    // t -> t sqrt|t|, every coordinate
    asinh,        // asinh, every coordinate
    wiggly,       // 1-d: x -> wiggly_x(x), y -> wiggly_y(y)
    bimodal,      // 1-d, on uniform margins: x -> F_x^-1(x), y -> F_y^-1(y) (Gaussian mixtures)
    swissroll_x,  // 1-d x in (0, 1) -> the 2-d swiss roll; y unchanged
    spiral,       // x rotated in plane (0, 1) by |x|^2 / dim_x, y in plane (1, 2) by |y|^2 / dim_y
};

struct BmiTask {
    std::string id;           // bmi's task_id, e.g. "spiral-multinormal-sparse-3-3-2-2.0"
    std::string name;         // bmi's task_name, e.g. "Spiral @ Multinormal 3 × 3 (2-pair)"
    int dim_x = 0, dim_y = 0; // of the samples (after the transforms)
    double true_mi = 0;       // nats
    Sampler sampler = Sampler::multinormal;
    int base_dim_x = 0, base_dim_y = 0;  // of the base sampler (the swiss roll adds one to x)
    double param = 0;         // additive: epsilon; student: degrees of freedom; else unused
    // multinormal: the covariance; student: the dispersion (shape) matrix. Row-major,
    // (base_dim_x + base_dim_y)^2, and its lower Cholesky factor.
    std::vector<double> covariance, cholesky;
    std::vector<Transform> transforms;  // applied in this order
};

// The 40 tasks in bmi's order (BENCHMARK_TASKS_LIST).
const std::vector<BmiTask>& bmi_tasks();
// The task with this id, or nullptr.
const BmiTask* find_bmi_task(const std::string& id);
std::vector<std::string> bmi_task_ids();

// --- Closed-form true MI (nats) --------------------------------------------------

// Bivariate normal with correlation rho: -1/2 log(1 - rho^2).
double mi_bivariate_normal(double rho);
// x ~ U(0, 1), y = x + U(-eps, eps): eps - log(2 eps) for eps <= 1/2, else 1/(4 eps).
double mi_additive_uniform(double eps);
// Z ~ N(0, cov) split after dim_x coordinates: 1/2 log(det S_xx det S_yy / det S),
// from Cholesky log-determinants, clamped at 0 like bmi.
double mi_split_normal(const std::vector<double>& cov, int dim_x, int dim_y);
// Differential entropy of the standard k-dimensional Student-t with dof degrees of
// freedom (Arellano-Valle et al. 2013): with s = (dof + k)/2,
//   -lgamma(s) + lgamma(dof/2) + k/2 log(dof pi) + s (digamma(s) - digamma(dof/2)).
double student_t_entropy(int k, double dof);
// Split multivariate Student-t with dispersion `dispersion`: the Gaussian MI of the
// dispersion plus h(dim_x) + h(dim_y) - h(dim_x + dim_y) (the entropies above).
double mi_split_student(const std::vector<double>& dispersion, int dim_x, int dim_y, double dof);
// The digamma function for x > 0: the library's (infomax/eval/sample_mi.hpp).
double digamma(double x);

// --- Covariances -----------------------------------------------------------------

// bmi's "dense": 1 on the diagonal, off_diag everywhere else (within and between x and y).
std::vector<double> dense_covariance(int dim_x, int dim_y, double off_diag);
// bmi's "sparse" (2-pair): the correlation matrix of the Gaussian latent-variable model
// with n_interacting shared latents of weight `strength` between x_i and y_i (i <
// n_interacting), private latents of weight `strength` on the other coordinates and unit
// noise everywhere: the identity but corr(x_i, y_i) = s^2 / (1 + s^2) for i < n_interacting.
std::vector<double> sparse_covariance(int dim_x, int dim_y, int n_interacting, double strength);
// In place: the lower Cholesky factor of the n x n row-major matrix `a` (upper part
// zeroed); false when `a` is not positive definite.
bool cholesky(std::vector<double>& a, int n);

// --- Transforms (double in, double out) ------------------------------------------

double normal_cdf(double t);  // Phi(t) = erfc(-t / sqrt 2) / 2
double half_cube(double t);   // t sqrt|t|
double wiggly_x(double t);    // t + 0.4 sin(t) + 0.2 sin(1.7 t + 1) + 0.03 sin(3.3 t - 2.5)
double wiggly_y(double t);    // t - 0.4 sin(0.4 t) + 0.17 sin(1.3 t + 3.5) + 0.02 sin(4.3 t - 2.5)
double bimodal_cdf_x(double t);  // 0.3 Phi(t) + 0.7 Phi(t - 5)
double bimodal_cdf_y(double t);  // 0.5 Phi(t + 1) + 0.5 Phi(t - 3)
// bmi's inverse CDF by bisection on [-10, 10]: halve while b - a > 1e-12 and the
// midpoint lies strictly inside; F(m) < u moves a up, else b down; returns the midpoint.
double invert_cdf(double (*cdf)(double), double u);
// u in (0, 1) -> (t cos t, t sin t) / 21 with t = 1.5 pi (1 + 2 u).
void swissroll(double u, double out[2]);
// v (n values) -> exp(speed |v|^2 A) v, A the generator of the rotations of plane (i, j):
// v_i' = cos(a) v_i - sin(a) v_j, v_j' = sin(a) v_i + cos(a) v_j, a = speed |v|^2.
void spiral(double* v, int n, int i, int j, double speed);

// --- Sampling --------------------------------------------------------------------

// One draw of the base sampler: x gets base_dim_x values, y base_dim_y (resized).
// Tasks with the same base consume `rng` identically, so a transformed task and its
// base draw the same base sample from the same generator state.
void draw_bmi_base(const BmiTask& task, Rng& rng, std::vector<double>& x, std::vector<double>& y);
// The task's transforms, in order, in place (x grows to dim_x for the swiss roll).
void apply_bmi_transforms(const BmiTask& task, std::vector<double>& x, std::vector<double>& y);
// One sample of the task: dim_x values into x, dim_y into y, rounded to float.
void draw_bmi_sample(const BmiTask& task, Rng& rng, float* x, float* y);

}  // namespace infomax::bmi
