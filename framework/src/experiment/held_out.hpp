// The Beyond-Normal benchmark's protocol during training (internal; kind
// mi_estimation, eval.held_out_every): every N steps the held-out estimate,
// the best kept, training stopped after `patience` evaluations without a
// better one. The state goes into each checkpoint, so a resumed run evaluates
// and stops exactly as an uninterrupted one.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "infomax/data/files.hpp"
#include "infomax/experiment/model.hpp"

namespace infomax::detail {

struct HeldOutState {
    double best = 0;
    std::int64_t best_step = 0, worse = 0;
    bool stopped_early = false;
    std::vector<std::pair<std::int64_t, double>> evaluations;  // (step, held-out estimate)
    std::vector<double> best_batches;  // the best evaluation's value on each held-out batch (its interval)

    // Records the estimate at `step` from its per-batch values (their mean,
    // summed in order); true when training should stop.
    bool record(std::int64_t step, const std::vector<double>& batches, std::int64_t patience);
    void save_into(data::TensorFile& checkpoint) const;
    // The state a checkpoint carries (a fresh one when it has none).
    static HeldOutState read_from(const data::TensorFile& checkpoint, const std::string& path);
};

// bmi's convergence flags on the training estimates (one per logged row),
// smoothed over a window of a tenth of them (at least 1):
//   max_training_mi_decreased     the smoothed maximum is over 1.05 times the last
//   training_mi_still_increasing  the last is over 1.05 times the value w - 1 entries earlier
// Fewer than 10 estimates: both false (too short to say).
struct ConvergenceCheck {
    bool max_training_mi_decreased = false, training_mi_still_increasing = false;
};
ConvergenceCheck convergence_of(const std::vector<double>& training_estimates);

// The most objective `o`'s bound can read with its negatives on batches of
// `batch` (InfoNCE: log(1 + K)), infinity when it has no cap.
double ceiling_of(const Objective& o, std::int64_t batch);
// The verdict's saturation: an estimate within a tenth of its bound's ceiling,
// where the cap, not the data, sets it.
bool saturated(double estimate, double ceiling);

// A percentile bootstrap interval of the mean of `values` (resampled with
// replacement `resamples` times from a seeded stream): {lo, hi} at `level`
// (0.95: the 2.5th and 97.5th percentiles). Fewer than 2 values: {NaN, NaN}.
std::pair<double, double> bootstrap_interval(const std::vector<double>& values, double level, int resamples,
                                             std::uint64_t seed);

}  // namespace infomax::detail
