// What the runners share (internal): building an encoder, scoring the
// objectives in a step, and the pieces of evaluation each kind composes.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "experiment/runner.hpp"
#include "infomax/config/spec.hpp"
#include "infomax/plugin/registry.hpp"

namespace infomax::detail {

// The runners, one per kind; make_runner picks one.
std::shared_ptr<const Runner> dim_runner();
std::shared_ptr<const Runner> supervised_runner();
std::shared_ptr<const Runner> mi_estimation_runner();
std::shared_ptr<const Runner> gan_runner();

// Runs f (a part's dry run); an Error from it (a shape, a plugin) becomes a
// SpecError at `path` reading "<what>: <the error>". SpecErrors pass through.
template <class F>
void at(const Experiment& e, const std::string& path, const std::string& what, F&& f) {
    try {
        f();
    } catch (const config::SpecError&) {
        throw;
    } catch (const Error& err) {
        e.fail(path, what + ": " + err.what());
    }
}

// A key of another kind: a SpecError at `key` when it is present.
void refuse(const Experiment& e, bool present, const std::string& key, const std::string& why);
// generator:, noise: and critic: are the gan's.
void refuse_gan_keys(const Experiment& e);
Shape per_sample(const Var& v);

// Builds the spec's encoder, runs it on a batch of 2 zeros (shape errors at
// `encoder`), fills m.taps, and returns (M, y) of the dry run.
std::pair<Var, Var> build_encoder(Model& m, const Experiment& e, const Registry& registry, BuildContext& ctx,
                                  bool needs_local);

// total + v, or v when total is undefined.
Var add(const Var& total, const Var& v);
// Every objective on (f.local, f.global) through Objective::score, with the
// step's negatives stream: the bounds into `out`, the weighted losses into `total`.
void score_objectives(Trainer& t, const Features& f, StepMetrics& out, Var& total);

// Evaluation pieces. `sides` gives the two sides of a held-out batch (and adds
// its true MI to `truth`, when the data knows it).
using Sides = std::function<Features(const std::string& split, const std::vector<std::int64_t>& index, double& truth)>;
nlohmann::json held_out_bounds(EvalContext& c, const Sides& sides, bool knows_truth);
nlohmann::json classifier_accuracy(EvalContext& c);  // the supervised head on the test split
nlohmann::json probe_features(EvalContext& c);       // linear/MLP/k-NN probes on the frozen encoder's taps
nlohmann::json mi_levels(EvalContext& c);            // estimates against the truth per MI level
// The protocol's outcome (eval.held_out_every): the best held-out estimate, when,
// every evaluation, the truth, and bmi's convergence flags on the metrics column `column`.
// eval.sample_estimators on the whole sample (both splits): each one's value, quantity, seconds and the truth.
nlohmann::json sample_estimates(EvalContext& c);
nlohmann::json protocol_results(EvalContext& c, const HeldOutState& held_out, const std::string& column);
nlohmann::json generated_samples(EvalContext& c);    // modes covered by a generator's samples
nlohmann::json representation_measures(EvalContext& c);  // eval.measures: NDM, MINE's I(X; Y) of the frozen y

}  // namespace infomax::detail
