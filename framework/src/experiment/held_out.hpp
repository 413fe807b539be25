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

namespace infomax::detail {

struct HeldOutState {
    double best = 0;
    std::int64_t best_step = 0, worse = 0;
    bool stopped_early = false;
    std::vector<std::pair<std::int64_t, double>> evaluations;  // (step, held-out estimate)

    // Records the estimate at `step`; true when training should stop.
    bool record(std::int64_t step, double value, std::int64_t patience);
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

}  // namespace infomax::detail
