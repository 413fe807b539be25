// Probes: how good frozen features are for classification. Each trains a
// classifier on train features and reports accuracy on test features.
//
// Common rules:
//  - inputs are checked first and an infomax::Error names the probe and the
//    problem ("linear probe: 100 train features but 99 labels"): x must be a
//    2-D f32 (N, D) tensor of finite values with one label per row, labels in
//    [0, classes), classes >= 2, both splits non-empty and of the same D;
//  - features are standardised with the train split's per-feature mean and
//    (population) standard deviation, floored at 1e-6 so constant features
//    stay finite; the test split gets the train statistics;
//  - results depend only on the inputs, the options and the thread count
//    (oneDNN's sums depend on it); `seconds` is the probe's wall time.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "infomax/tensor/tensor.hpp"

namespace infomax::eval {

// Features (N, D), plain f32, and their integer labels in [0, classes).
struct Split {
    Tensor x;
    std::vector<std::int64_t> y;
};

struct ProbeOptions {
    // linear: L-BFGS to convergence, with scikit-learn's default penalty (C = 1)
    int max_iter = 1000;
    double c = 1.0;           // inverse strength of the L2 penalty on the weights
    double tolerance = 1e-4;  // stop when every gradient entry is below this (scikit-learn's tol)
    // Rank of the preconditioner (the features' top eigen-directions, from a
    // randomized sketch seeded by `seed`); 0: plain L-BFGS. It changes the path
    // to the optimum, not the objective or the stopping rule.
    int preconditioner_rank = 128;
    // mlp: minibatch Adam
    int epochs = 20;
    int batch_size = 256;
    float lr = 1e-3f;
    float weight_decay = 0.0f;  // Adam's L2 term (added to the gradient), on every parameter
    bool cosine = true;         // anneal the learning rate to 0 over the epochs (half a cosine)
    std::uint64_t seed = 0;
    int hidden = 200;       // mlp
    float dropout = 0.1f;   // mlp, in [0, 1)
    int k = 20;             // knn; at most the number of train rows are used
    // Called as the probe goes: the fraction done (non-decreasing, in [0, 1])
    // and a line saying where it is (iteration and loss, epoch, queries).
    std::function<void(double, const std::string&)> progress = {};
};

struct ProbeResult {
    std::string name;  // "linear", "mlp", "knn"
    double train_accuracy = 0, test_accuracy = 0;
    double seconds = 0;
    // linear: L-BFGS iterations, the final objective, and whether it stopped
    // by its tolerance (or at f32 precision) rather than at max_iter.
    int iterations = 0;
    double loss = 0;
    bool converged = true;
};

// How many rows of `logits` (N, K) have their arg-max (the first on ties) at
// the label: labels[0..N).
std::int64_t count_correct(const Tensor& logits, const std::int64_t* labels);

// Multinomial logistic regression on features standardised with the train
// split's per-feature mean and standard deviation, with scikit-learn's
// objective: mean cross-entropy + ||W||^2 / (2 C N). Full-batch L-BFGS from
// zero weights, preconditioned by the features' top `preconditioner_rank`
// eigen-directions, until every gradient entry is below `tolerance`
// (scikit-learn's stopping rule), the loss stops decreasing at f32 precision,
// or max_iter iterations. Each evaluation reads the features once.
// Deterministic for any thread count; f32 whatever the session's precision.
ProbeResult linear_probe(const Split& train, const Split& test, int classes, const ProbeOptions& opt = {});
// The DIM paper's MLP probe: one hidden layer of `hidden` units with batchnorm,
// ReLU and dropout, on standardised features:
// Linear(D->hidden, no bias) -> BatchNorm -> ReLU -> Dropout -> Linear(hidden->classes).
// Trained with minibatch Adam: `epochs` passes over permutations drawn from
// Rng(seed, "probe"), init from Rng(seed, "probe init"), dropout masks from
// Rng(seed, "probe dropout"),
// except that batchnorm cannot train on one row: batch_size must be >= 2, the
// train split must have >= 2 rows, and a last minibatch of a single row is
// merged into the one before it.
ProbeResult mlp_probe(const Split& train, const Split& test, int classes, const ProbeOptions& opt = {});
// k nearest neighbours by cosine similarity of standardised features; majority
// vote, ties broken by the nearest neighbour among the tied classes (equal
// similarities: the lower train index counts as nearer). k is capped at the
// number of train rows. train_accuracy is leave-one-out (a row is not its own
// neighbour) on at most 2000 evenly spaced train rows, rows i * N / m for
// i < m = min(N, 2000); it is 0 when N < 2. Needs no training: epochs,
// batch_size, lr, weight_decay and seed are ignored.
ProbeResult knn_probe(const Split& train, const Split& test, int classes, const ProbeOptions& opt = {});

// Every probe by the name a spec gives it (eval.probes), in the schema's
// order (a test keeps the two equal): the one dispatch, no fall-through.
struct NamedProbe {
    const char* name;
    ProbeResult (*run)(const Split& train, const Split& test, int classes, const ProbeOptions& opt);
};
const std::vector<NamedProbe>& probes();
// The probe called `name`; an Error listing the known ones for another name.
ProbeResult run_probe(const std::string& name, const Split& train, const Split& test, int classes,
                      const ProbeOptions& opt = {});

}  // namespace infomax::eval
