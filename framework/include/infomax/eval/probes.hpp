// Probes: how good frozen features are for classification. Each trains a
// classifier on train features and reports accuracy on test features.
#pragma once

#include <cstdint>
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
    int epochs = 20;
    int batch_size = 256;
    float lr = 1e-3f;
    float weight_decay = 0.0f;
    std::uint64_t seed = 0;
    int hidden = 200;       // mlp
    float dropout = 0.1f;   // mlp
    int k = 20;             // knn
};

struct ProbeResult {
    std::string name;  // "linear", "mlp", "knn"
    double train_accuracy = 0, test_accuracy = 0;
    double seconds = 0;
};

// Multinomial logistic regression on features standardised with the train
// split's per-feature mean and standard deviation (Adam, seeded minibatches).
ProbeResult linear_probe(const Split& train, const Split& test, int classes, const ProbeOptions& opt = {});
// The DIM paper's MLP probe: one hidden layer of `hidden` units with batchnorm,
// ReLU and dropout, on standardised features.
ProbeResult mlp_probe(const Split& train, const Split& test, int classes, const ProbeOptions& opt = {});
// k nearest neighbours by cosine similarity of standardised features; majority
// vote, ties broken by the nearest neighbour among the tied classes.
ProbeResult knn_probe(const Split& train, const Split& test, int classes, const ProbeOptions& opt = {});

}  // namespace infomax::eval
