// Scoring MI estimates against the truth, and generators against a mixture.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "infomax/tensor/random.hpp"
#include "infomax/tensor/tensor.hpp"

namespace infomax::eval {

// A metrics.csv: its header and rows (numbers; empty cells are NaN).
struct MetricsTable {
    std::vector<std::string> columns;
    std::vector<std::vector<double>> rows;
    // The column's index; throws naming the known columns when absent.
    std::size_t column(const std::string& name) const;
};
MetricsTable read_metrics_csv(const std::string& path);

// One estimator at one MI level of a run: the logged estimates of the last
// `window` steps of the level (a level is a run of rows with one true MI).
struct LevelStats {
    std::string estimate;      // the column, e.g. "mi.mi_dv"
    double true_mi = 0;
    std::int64_t first_step = 0, last_step = 0;  // the level's steps
    std::int64_t rows = 0;     // estimates in the window
    double mean = 0, bias = 0, variance = 0, mse = 0, std = 0;
    // Robust to the outliers a high-variance bound has (one wild batch moves
    // the mean, not these): the median and the quartiles (linear
    // interpolation, numpy's default); iqr = q75 - q25.
    double median = 0, q25 = 0, q75 = 0, iqr = 0;
};
// Needs a "true_mi" column and the "step" column; one entry per estimate
// column and level, levels in order.
std::vector<LevelStats> mi_level_stats(const MetricsTable& t, const std::vector<std::string>& estimates,
                                       std::int64_t window);
std::string mi_level_table_markdown(const std::vector<LevelStats>& stats);

// The neural dependency measure of a representation y (the DIM paper): an
// MLP critic trained to tell y from y with each dimension shuffled across the
// batch on its own (the product of y's marginals), read in its DV form on
// held-out batches, in nats: about 0 when y's dimensions are independent.
struct NdmOptions {
    std::int64_t steps = 2000;
    float lr = 1e-3f;                           // the critic's Adam
    std::vector<std::int64_t> hidden{256, 256};  // the critic's ReLU layers
    std::uint64_t seed = 0;
};
// `train_batch` gives a fresh (N, D) batch of y per call; the value is the
// mean over `test`. `progress` (optional) hears the fraction done.
double neural_dependency(const std::function<Tensor()>& train_batch, const std::vector<Tensor>& test,
                         const NdmOptions& options, const std::function<void(double)>& progress = {});

// A known-MI proxy for calibrating a measure: standard normals whose
// coordinates pair up with correlation rho, `pairs` of them, the rest
// independent. Paired (x, y): x's first `pairs` coordinates with y's first
// (MI); y alone: y's 2i with 2i + 1 (total correlation, what NDM reads). The
// truth is pairs * -log(1 - rho^2) / 2 nats; gaussian_proxy() chooses rho to
// make it `truth` (at least 0).
struct GaussianProxy {
    std::int64_t pairs = 0;
    double rho = 0, truth = 0;
};
GaussianProxy gaussian_proxy(double truth, std::int64_t pairs);
// n rows: x (n, dx) and y (n, dy) when dx > 0 (needs pairs <= min(dx, dy)),
// else y alone (x undefined; needs 2 pairs <= dy). Drawn from `rng`.
struct ProxySample {
    Tensor x, y;
};
ProxySample sample_gaussian_proxy(const GaussianProxy& p, std::int64_t n, std::int64_t dx, std::int64_t dy, Rng& rng);

// Generated 2-D samples against the modes of a mixture: a sample is high
// quality within 3 std of its nearest mode; a mode is covered when it holds at
// least a quarter of its fair share (samples / modes / 4) of high-quality
// samples.
struct ModeCoverage {
    std::int64_t modes = 0, covered = 0, samples = 0, high_quality = 0, threshold = 0;
    double high_quality_share = 0;
    std::vector<std::int64_t> per_mode;  // high-quality samples by mode
};
ModeCoverage mode_coverage(const Tensor& samples, const Tensor& centers, double std);

}  // namespace infomax::eval
