// The engine every kind's runner shares (internal to the framework): batches,
// optimizer groups, checkpoints and step timing. What a step does is the
// runner's (runner.hpp: one per kind, chosen once from the kind).
//
// Optimizer groups: an objective with its own `lr` gets its own optimizer;
// the prior discriminator and the GAN critic learn their own losses with their
// own; in a gan every objective's critic has its own (its loss is not the
// generator's). Groups are named by the optimizer ("adam", "prior_adam",
// "critic_adam", "objective_adam.<name>"; "sgd", ... for sgd), and the names
// prefix their state in a checkpoint.
// Randomness comes from streams derived from (seed, name, step) and epoch
// permutations from (seed, epoch), so a checkpoint needs no RNG state.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "infomax/data/files.hpp"
#include "infomax/experiment/model.hpp"
#include "infomax/optim/optim.hpp"
#include "experiment/data_parallel.hpp"

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

// Doubles as checkpoint metadata text ("1.5,2,..." at full precision), and back.
std::string encode_doubles(const std::vector<double>& v);
std::vector<double> decode_doubles(const std::string& s, const std::string& what);  // an Error names `what`

// A value a step logs, or an Error naming the step and the term when it is
// not finite.
double finite(double v, std::int64_t step, const std::string& term);

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
    // The first parameter (and, with `optimizer`, optimizer state) holding a
    // NaN or an infinity, or "": one pass over the bits, no copies. A NaN or
    // an infinite gradient reaches the parameters in the same Adam step, so
    // runs check parameters after every step and the optimizer's state before
    // each checkpoint.
    std::string nonfinite_state(bool optimizer) const;
    // The encoder's (or the generator's) weights; empty for mi_estimation.
    data::TensorFile encoder_weights() const;
    void load_encoder_weights(const data::TensorFile& f);  // what encoder_weights() wrote

    // ---- for the runners (runner.hpp) ----
    Model& model() const { return m_; }
    std::uint64_t seed() const { return seed_; }
    // Parameters updated by one optimizer; `name` prefixes its state in a
    // checkpoint ("adam", "prior_adam", "critic_adam", "objective_adam.<name>").
    struct Group {
        std::string name;
        std::vector<std::string> params;
        std::unique_ptr<optim::Optimizer> opt;
    };
    Group& main_group() { return groups_.front(); }  // the encoder's, head's or generator's
    Group* group(const std::string& role);            // "prior", "critic": that part's own optimizer, if any
    // A step's phases: begin_step clears every gradient and starts the clock;
    // forward_done and backward_done close those phases; apply_updates runs
    // every optimizer (the optimizer phase) and counts the step.
    void begin_step();
    void forward_done();
    void backward_done();
    void apply_updates();
    // The end of a step whose losses sum to `total`: its "loss" metric, backward,
    // the prior discriminator's own loss (if defined) into its optimizer alone,
    // gradient clipping, every update.
    void finish_step(StepMetrics& out, Var total, Var prior_d_loss);
    // The encoder's features of a batch. In data-parallel training
    // (data_parallel.hpp) the batch is this rank's rows, encoded with the
    // global batch's statistics: gather_features gives every rank's rows.
    Features encode(const Var& x);
    // Data-parallel training: this rank's gradient sums (null alone).
    const GradientSum* gradient_sum() const { return grad_sum_.get(); }
    bool data_parallel() const { return grad_sum_ != nullptr; }

private:
    Batch batch_at(std::int64_t step) const;
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
    std::vector<Group> groups_;
    std::string opt_name_;  // "adam" or "sgd"
    Phases phases_;
    std::chrono::steady_clock::time_point mark_;
    std::unique_ptr<GradientSum> grad_sum_;
};

}  // namespace infomax::detail
