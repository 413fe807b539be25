// From a spec to parts: load and validate a spec, build every part it names
// through the registry, and check that their shapes fit before any training.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "infomax/config/spec.hpp"
#include "infomax/experiment/experiment.hpp"
#include "infomax/plugin/parts.hpp"
#include "infomax/plugin/registry.hpp"
#include "infomax/runtime/precision.hpp"

namespace infomax {

namespace detail {
class Runner;
}

struct Objective {
    std::string name;
    float weight = 1.0f;
    std::string estimator_type, discriminator_type, negatives;
    std::int64_t negative_samples = 1;
    float lr = 0.0f;  // the critic's own learning rate; 0: the optimizer's
    std::shared_ptr<Estimator> estimator;
    std::shared_ptr<Discriminator> discriminator;

    // The one scoring path: training, held-out evaluation and the dry run all
    // score (a, b) through this. A training step moves the estimator's state
    // (DV's moving average); with `keep_state` the state is restored after,
    // so evaluation and dry runs never disturb it.
    // `scores`, when given, receives the scores the bound was read from.
    Bound score(const Var& a, const Var& b, Rng& negatives_rng, bool keep_state = false, Scores* scores = nullptr) const;
    // "<name>.<quantity>", the metrics column of the bound.
    std::string column() const;
};

struct PriorTerm {
    float weight = 1.0f;
    std::string distribution_type, discriminator_type;
    std::shared_ptr<Prior> prior;
    std::shared_ptr<Discriminator> discriminator;
};

struct Model {
    Kind kind = Kind::dim;
    std::shared_ptr<const detail::Runner> runner;  // the kind's: chosen once, when the model is built
    std::string data_type;
    std::shared_ptr<Dataset> data;
    std::string encoder_type;
    std::shared_ptr<Encoder> encoder;  // none for mi_estimation
    std::vector<Objective> objectives;
    std::optional<PriorTerm> prior;
    std::shared_ptr<nn::Sequential> head;  // kind supervised: y -> class scores
    // kind gan: generator z -> x (its global output), the noise z, the critic.
    std::string generator_type, noise_type, critic_type;
    std::shared_ptr<Encoder> generator;
    std::shared_ptr<Prior> noise;
    std::int64_t noise_dim = 0;
    std::shared_ptr<Discriminator> critic;
    Shape input_shape, local_shape, global_shape;  // per sample: the objectives score (local, global)
    std::vector<std::string> taps;  // what eval.features may name (an encoder's: global, local, local_pooled, named taps)
    Precision precision = Precision::f32;  // spec `precision`: run, eval and bench apply it
    // eval.sample_estimators (mi_estimation): each by its name as written, e.g. "ksg".
    std::vector<std::pair<std::string, std::shared_ptr<SampleEstimator>>> sample_estimators;
    // Several lines: every part with its type and the inferred shapes.
    std::string summary() const;
};

// The experiment schema: installed share/infomax/schemas, or the source tree's.
std::string experiment_schema_path();
const config::Schema& experiment_schema();


// Builds every part of a typed experiment with the "init" stream of its seed,
// infers shapes with a dry run on a batch of 2, and reports parts that do not
// fit (a tap that is missing, a critic whose input does not match, a bound
// that is not a scalar, an eval feature no tap gives) as SpecErrors at the
// part's place in the spec, naming the part and its library.
Model build_model(const Experiment& experiment, const Registry& registry);

// Sets up training without taking a step (batch size against the data, step
// counts that fit 64 bits, the optimizer) and returns the number of steps a
// run takes; problems are SpecErrors at their keys. `infomax validate` and
// every runner go through it before a run directory exists.
std::int64_t training_steps(Model& model, const Experiment& experiment);

}  // namespace infomax
