// The model's own types: the one scoring path of an objective, and the
// summary. Loading a spec is load_spec.cpp; building a model build_model.cpp.
#include "infomax/experiment/model.hpp"

#include <fmt/format.h>

#include "experiment/runners/common.hpp"

namespace infomax {

Bound Objective::score(const Var& a, const Var& b, Rng& negatives_rng, bool keep_state, Scores* scores) const {
    const auto state = keep_state ? estimator->state() : std::vector<double>{};
    Scores s = make_scores(*discriminator, a, b, negatives, negatives_rng, negative_samples);
    Bound bound = estimator->bound(s);
    if (scores) *scores = std::move(s);
    if (keep_state) estimator->set_state(state);
    return bound;
}

std::string Objective::column() const { return fmt::format("{}.{}", name, estimator->quantity()); }

std::string Model::summary() const {
    std::string s = fmt::format("kind {}; data {}: input {}\n", to_string(kind), data->describe(), to_string(input_shape));
    if (encoder)
        s += fmt::format("encoder {}: M {}, y {}\n  {}\n", encoder_type, to_string(local_shape), to_string(global_shape),
                         encoder->describe());
    if (head) s += fmt::format("head (trained with labels): {}\n", head->describe());
    if (generator)
        s += fmt::format("generator {}: noise {} of dim {} -> samples {}\n  {}\ncritic {}: {}\n", generator_type, noise_type,
                         noise_dim, to_string(input_shape), generator->describe(), critic_type, critic->describe());
    for (const auto& o : objectives)
        s += fmt::format("objective {}: weight {}, estimator {} ({}), discriminator {}, negatives {}{}\n", o.name, o.weight,
                         o.estimator_type, o.estimator->quantity(), o.discriminator_type, o.negatives,
                         o.negative_samples > 1 ? fmt::format(" x{}", o.negative_samples) : "");
    if (prior)
        s += fmt::format("prior: weight {}, distribution {}, discriminator {}\n", prior->weight, prior->distribution_type,
                         prior->discriminator_type);
    return s;
}

}  // namespace infomax
