// "What is the MI of my data?": one estimator on one sample, with the
// Beyond-Normal benchmark's protocol (Czyz et al. 2023, the bmi package).
//
// A sample estimator (kind sample_estimator: ksg, cca, binned) reads the whole
// sample. A variational bound (kind estimator: infonce, nwj, dv, smile, ...)
// trains a critic by the protocol: the sample standardised (each column to
// mean 0, standard deviation 1), split into train and test halves, batches
// drawn from the train half, the bound on the test half every eval_every
// steps, early stopping after `patience` evaluations without a better one; the
// number reported is the best held-out estimate, with bmi's three convergence
// flags. infomax estimate (the CLI) prints that number and nothing else.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "infomax/tensor/tensor.hpp"

namespace infomax {

// x (n, dim_x) and y (n, dim_y) from bmi's sample CSV (utils.save_sample: a
// header X0..X{dx-1},Y0..Y{dy-1}, one row per sample, comma-separated) or an
// NPY array (n, dim_x + dim_y). Errors name the file and, in a CSV, the line
// and column, and say what was expected.
std::pair<Tensor, Tensor> read_samples(const std::string& path, std::int64_t dim_x, std::int64_t dim_y);

struct EstimateOptions {
    std::string samples;                 // the CSV or NPY file
    std::int64_t dim_x = 0, dim_y = 0;
    std::string estimator = "ksg";       // a sample estimator or a bound
    std::vector<std::string> params;     // the estimator's own, PARAM=VALUE (e.g. k=5)
    std::vector<std::string> plugin_paths;
    int threads = 0;
    std::uint64_t seed = 0;              // the split, the critic's init, the batches
    // The protocol (bounds only), bmi's neural defaults.
    std::string critic = "{type: joint, critic_layers: [16, 8]}";
    std::int64_t batch = 256, max_steps = 10000, eval_every = 250, patience = 2;
    double test_fraction = 0.5;
    float lr = 0.1f;
    bool standardize = true;
};

// bmi's convergence flags (a bound's training only).
struct ConvergenceFlags {
    bool early_stopping_not_triggered = false;  // ran to max_steps
    bool max_training_mi_decreased = false;     // the smoothed training estimate fell 5% below its maximum
    bool training_mi_still_increasing = false;  // ... or rose 5% over its last tenth
};

struct EstimateResult {
    double mi = 0;                // nats: the estimate (a bound: its best held-out value)
    std::string kind;             // "sample_estimator" or "estimator"
    std::string quantity;         // mi_ksg, mi_infonce, ...
    std::int64_t n_train = 0, n_test = 0, steps = 0, best_step = 0;  // a bound's protocol
    ConvergenceFlags flags;
    // The verdict on a bound's number: a 95% bootstrap interval of the best
    // evaluation's mean over its held-out batches (noise, not bias), the
    // bound's ceiling on these batches (infinite: none) and whether the
    // estimate sits within a tenth of it (the cap, not the data, set it).
    double interval_lo = 0, interval_hi = 0, ceiling = 0;
    bool saturated = false;
    bool flagged() const {
        return flags.early_stopping_not_triggered || flags.max_training_mi_decreased ||
               flags.training_mi_still_increasing || saturated;
    }
    std::string verdict() const;  // one line: what, if anything, says not to trust the number
    double seconds = 0;
};

EstimateResult estimate_mi(const EstimateOptions& options);

}  // namespace infomax
