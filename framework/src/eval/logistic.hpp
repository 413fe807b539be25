// Multinomial logistic regression on wide features, fitted full-batch (internal
// to the linear probe). The probe's cost is passes over the features (60k x
// 6400 f32 is 1.5 GB), so the objective reads them once per evaluation: rows go
// in blocks small enough to stay in the core's cache between the logits and
// the gradient, through kernels compiled for AVX2+FMA where the CPU has it
// (target clones) and plain code otherwise.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace infomax::eval::detail {

// mean over rows of cross-entropy(softmax(x W^T + b), y) + l2/2 ||W||^2 and its
// gradient, at theta = [W (classes, d) row-major, b (classes)]. x is (n, d)
// row-major f32. Partial sums run over a fixed partition of the rows and are
// added in order, so the result does not depend on the thread count.
class Logistic {
public:
    Logistic(const float* x, std::int64_t n, std::int64_t d, const std::int64_t* y, int classes, double l2);
    std::int64_t parameters() const { return (d_ + 1) * classes_; }
    double operator()(const std::vector<double>& theta, std::vector<double>& grad);
    // Rows of `x` (rows, d) whose arg-max logit (first on ties) at theta is the label.
    std::int64_t correct(const std::vector<double>& theta, const float* x, std::int64_t rows,
                         const std::int64_t* labels) const;
    // A preconditioner for the weights: with G = x^T x / n and its top `rank`
    // eigenpairs (U, lambda) found by one step of randomized subspace iteration
    // from a seeded Gaussian start (two passes over x), applies
    // U diag(1 / lambda) U^T + (I - U U^T) / lambda_rank to each class's
    // weights (and leaves the biases). G's spread of eigenvalues (correlated
    // features) is what makes plain L-BFGS crawl; this undoes its top.
    std::function<void(std::vector<double>&)> preconditioner(int rank, std::uint64_t seed);

private:
    const float* x_;
    std::int64_t n_, d_;
    const std::int64_t* y_;
    int classes_;
    double l2_;
    std::vector<float> w_, b_;                  // theta in f32, as the kernels read it
    std::vector<std::vector<float>> partial_;   // each partition's gradient of W
};

// How an L-BFGS fit ended.
struct LbfgsResult {
    int iterations = 0;
    int evaluations = 0;       // passes over the data
    double loss = 0;
    double gradient_max = 0;   // largest |gradient entry| at the end
    std::string stopped;       // "gradient", "no decrease", "line search", "max_iter"
};
// Called after each iteration: (iteration, loss, largest |gradient entry|).
using LbfgsProgress = std::function<void(int, double, double)>;

// L-BFGS (memory 10, backtracking Armijo line search from the full step) from
// theta, with `h0` (if given) as the initial inverse Hessian (scaled each
// iteration by s'y / y'h0(y)), until every gradient entry is below `tolerance`, the loss decreases by
// less than 1e-10 relative, no step decreases it, or max_iter iterations.
LbfgsResult lbfgs(const std::function<double(const std::vector<double>&, std::vector<double>&)>& f,
                  std::vector<double>& theta, int max_iter, double tolerance, const LbfgsProgress& progress = {},
                  const std::function<void(std::vector<double>&)>& h0 = {});

}  // namespace infomax::eval::detail
