// One runner per kind (dim, supervised, mi_estimation, gan) behind one
// interface, chosen once from the kind by make_runner, the only place that
// looks at the kind. A runner knows what its kind is made of (build), what its
// batches carry, its training step, and its evaluation; the Trainer
// (trainer.hpp) is the engine they share: batches, optimizers, checkpoints,
// timing. Internal to the framework.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "experiment/held_out.hpp"
#include "experiment/trainer.hpp"
#include "run_dir/run_dir.hpp"

namespace infomax {
class Registry;
}

namespace infomax::detail {

struct EvalContext {
    Model& model;
    const Experiment& experiment;
    Log& log;
    RunDir dir;
    bool export_features = false;
    bool live = false;  // progress as a live line (a terminal) rather than log lines
    bool critics = true;  // the objectives' critics are the trained ones (not only the encoder was restored)
    const HeldOutState* held_out = nullptr;  // the protocol's evaluations during training (eval.held_out_every)
};

class Runner {
public:
    virtual ~Runner() = default;
    // Builds the kind's networks (the data is built: m.data, m.input_shape)
    // and returns the two sides the objectives score, for the dry run. Keys
    // of other kinds are refused at their place in the spec.
    virtual std::pair<Var, Var> build(Model& m, const Experiment& e, const Registry& registry, BuildContext& ctx,
                                      Rng& dry_rng) const = 0;
    // What a batch carries besides x (labels, the paired z), for samples `index`.
    virtual void complete_batch(Trainer::Batch&, const Model&, const std::vector<std::int64_t>& index) const {}
    // Whether each objective's critic has an optimizer of its own (gan: its
    // loss is not the generator's).
    virtual bool objectives_own_optimizer() const { return false; }
    // Whether a run of this kind can train data-parallel (mpirun): its step
    // encodes through Trainer::encode and ends in Trainer::finish_step.
    virtual bool data_parallel() const { return false; }
    virtual StepMetrics step(Trainer& t, const Trainer::Batch& batch) const = 0;
    // The evaluation after training: what results.json holds besides "train".
    virtual nlohmann::json evaluate(EvalContext& c) const = 0;
    // The number the protocol (eval.held_out_every) tracks during training, one
    // value per held-out batch (their mean is the estimate), computed without
    // moving any state; none (nullptr) where the kind has no protocol.
    virtual std::function<std::vector<double>()> held_out_estimate(Model&, const Experiment&) const { return nullptr; }
};

std::shared_ptr<const Runner> make_runner(Kind kind);

}  // namespace infomax::detail
