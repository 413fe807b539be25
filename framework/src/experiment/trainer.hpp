// The training step of every kind and its state (internal to the framework).
//
// Kind supervised replaces the objectives by cross-entropy of a head on y,
// updating the encoder and the head. Kind mi_estimation has no encoder: the
// objectives score the data's pairs (x, z) and only their critics learn.
// Kind gan (seed 004's MI-regularised GAN):
//  - the critic learns to tell data from G(z) (its own Adam, G(z) detached);
//  - the generator minimises softplus(-critic(G(z))) - weight * scale * I,
//    with I the objective's bound on (G(z), z) and adaptive clipping
//    scale = min(|g_gan|, |g_I|) / |g_I| over the generator's gradients, so
//    the MI gradient is never larger than the GAN loss's;
//  - the objective's critic maximises the bound (its own Adam).
// An objective with its own `lr` gets its own Adam. Which parameters each loss updates (dim):
//  - the objectives' losses (minus each bound, weighted) update the encoder and
//    every objective's discriminator: both maximise the bounds;
//  - prior matching: the prior discriminator learns to tell prior samples from
//    transform(y) (its own Adam, its own loss, y detached); the encoder learns
//    to fool it through weight * softplus(-D(transform(y))).
// Randomness comes from streams derived from (seed, name, step) and epoch
// permutations from (seed, epoch), so a checkpoint needs no RNG state.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "infomax/data/files.hpp"
#include "infomax/experiment/model.hpp"
#include "infomax/optim/optim.hpp"

namespace infomax::detail {

struct Augment {
    std::int64_t crop_padding = 0;
    bool flip = false;
};

// One step's numbers, named as in metrics.csv.
using StepMetrics = std::vector<std::pair<std::string, double>>;

// Copies tensor `name` of `f` into `into`; errors name a missing tensor or a
// shape that differs from the model's.
void copy_tensor(const data::TensorFile& f, const std::string& name, Tensor& into);

class Trainer {
public:
    Trainer(Model& model, const Experiment& experiment);

    std::int64_t steps_per_epoch() const { return steps_per_epoch_; }
    std::int64_t total_steps() const { return total_steps_; }
    std::int64_t step() const { return step_; }  // steps done
    std::int64_t batch_size() const { return batch_; }

    struct Batch {
        Tensor x;
        Tensor z;                          // paired data (mi_estimation) only
        std::vector<std::int64_t> labels;  // kind supervised only
        double true_mi = 0;                // mean true I(x; z) of the batch; NaN if unknown
    };
    // The batch of the next step, or of any step (deterministic in seed and
    // step). batch_for may run on another thread while a step trains (the
    // run loop prefetches), but not on two threads at once.
    Batch next_batch() const;
    Batch batch_for(std::int64_t step) const { return batch_at(step); }
    // One training step; returns its metrics. Throws on a non-finite value.
    StepMetrics train_step(const Batch& batch);

    // Seconds of the last step's phases: forward (up to the first backward
    // pass), backward (gradients; in a gan also the critic's passes), optimizer.
    struct Phases {
        double forward = 0, backward = 0, optimizer = 0;
    };
    const Phases& last_phases() const { return phases_; }
    // The network a forward pass times for inference: the encoder or generator (null for mi_estimation).
    nn::Module* inference_module() const { return m_.encoder ? static_cast<nn::Module*>(m_.encoder.get()) : m_.generator.get(); }

    // Every parameter and buffer, by qualified name ("encoder.stack.0.weight").
    std::vector<std::pair<std::string, Var>> parameters() const;
    std::vector<std::pair<std::string, Tensor*>> buffers() const;

    data::TensorFile checkpoint() const;
    void restore(const data::TensorFile& f);
    // The encoder's (or the generator's) weights; empty for mi_estimation.
    data::TensorFile encoder_weights() const;
    void load_encoder_weights(const data::TensorFile& f);  // what encoder_weights() wrote

private:
    Batch batch_at(std::int64_t step) const;
    StepMetrics gan_step(const Batch& batch);
    // Every optimizer's step (timed as the optimizer phase), then the step count.
    void apply_updates();
    nn::Module* product(std::string* what) const;
    // Every trained part with the prefix of its names ("encoder.", "head.", ...).
    std::vector<std::pair<std::string, nn::Module*>> modules() const;
    // Every optimizer's state, named as in a checkpoint ("adam/m/<parameter>").
    std::vector<std::pair<std::string, Tensor*>> optimizer_state() const;

    Model& m_;
    mutable std::int64_t order_epoch_ = -1;  // the epoch whose permutation is cached
    mutable std::vector<std::int64_t> order_;
    std::uint64_t seed_;
    std::int64_t batch_, steps_per_epoch_, total_steps_, step_ = 0;
    float clip_ = 0;
    Augment augment_;
    // Parameters updated by one Adam; `name` prefixes its moments in a
    // checkpoint ("adam", "prior_adam", "critic_adam", "objective_adam.<name>").
    struct Group {
        std::string name;
        std::vector<std::string> params;
        std::unique_ptr<optim::Optimizer> opt;
    };
    Group* group(const std::string& name);
    std::vector<Group> groups_;
    Phases phases_;
};

}  // namespace infomax::detail
