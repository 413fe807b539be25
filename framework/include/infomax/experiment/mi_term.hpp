// An MI estimator and its critic as a term of one's own training loop (the
// MINE/NWJ library's second mode: an MI regulariser in a model infomax does
// not train). Any registered estimator with any critic whose scores fit:
//
//   infomax::MiTermOptions o;
//   o.estimator = "infonce";
//   o.discriminator = "{type: separable, critic_layers: [64], embed_dim: 16}";
//   infomax::MiTerm mi(o, {x_dim}, {z_dim});
//   for (...) {
//       mi.train_critic(x, z);                  // the critic ascends its bound, on its own Adam
//       infomax::Bound b = mi(x, z);            // rows of x and z are pairs
//       Var loss = task_loss + 0.1f * b.value;  // b.value is differentiable in x and z: here I(x; z) is penalised
//       loss.backward();
//       my_optimizer.step();                    // the critic's parameters are not the caller's to step
//   }
//
// The estimator and discriminator are written as in a spec's objective (a
// name or a YAML map with `type`), checked against their params schemas with
// located errors (config::SpecError, file "mi_term"). docs/estimators.md;
// a whole program: docs/examples/mi_penalty.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "infomax/autograd/var.hpp"
#include "infomax/plugin/parts.hpp"
#include "infomax/tensor/tensor.hpp"

namespace infomax {

struct MiTermOptions {
    std::string estimator = "infonce";  // a name, or "{type: dv, ema_decay: 0.9}"
    std::string discriminator = "{type: separable, critic_layers: [256], embed_dim: 32}";
    std::string negatives;               // roll, permutation, all; empty: the estimator's default
    std::int64_t negative_samples = 1;   // with roll or permutation
    float lr = 1e-3f;                    // the critic's Adam
    std::uint64_t seed = 0;              // its initialisation and the negatives
    std::vector<std::string> plugin_paths;  // besides the built-in and $INFOMAX_PLUGIN_PATH parts
};

class MiTerm {
public:
    // x_shape, z_shape: one sample of each ({D} for vectors, {C, H, W} for images).
    MiTerm(MiTermOptions options, Shape x_shape, Shape z_shape);
    ~MiTerm();
    MiTerm(const MiTerm&) = delete;
    MiTerm& operator=(const MiTerm&) = delete;

    // The bound on a batch of pairs (row i of x with row i of z); negatives
    // come from the batch. value (nats) carries gradients to x and z.
    Bound operator()(const Var& x, const Var& z);
    // One Adam step of the critic on the batch, x and z held fixed (no
    // gradient reaches them or the caller's model); returns the bound before
    // the step. Clears what the caller's backward left in the critic first.
    Bound train_critic(const Var& x, const Var& z);
    // What value() estimates ("mi_infonce", or a divergence such as "jsd").
    std::string quantity() const;
    // The most the bound can read on batches of `batch` pairs (InfoNCE:
    // log batch), infinity when it has no cap.
    double ceiling(std::int64_t batch) const;
    std::vector<Var> critic_parameters() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace infomax
