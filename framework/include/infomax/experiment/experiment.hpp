// The typed experiment: plain structs per section, made once from a validated
// spec. Runners, the trainer, evaluation, bench and suites read these, never
// the YAML tree.
//
// Defaults come from the schema alone (schemas/experiment.schema.yaml): the
// spec is validated, which fills every default of a key that is present or of
// a section that is written; the sections every kind has (optimizer, train,
// eval, output) are filled from the schema when absent, so no default is
// written again in code. Values the schema leaves open (train.steps,
// checkpoint_every, an objective's negatives and lr) are std::optional.
//
// Every value keeps its origin: `where(path)` gives "spec.yaml:12:5" or
// "command line argument 2 (train.steps=10)", and `fail(path, message)`
// throws a located config::SpecError, so checks after reading still point at
// the place to fix.
#pragma once

#include <array>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "infomax/runtime/precision.hpp"

namespace infomax {

namespace config {
struct Document;
class Params;
}  // namespace config

// What an experiment trains. One runner per kind (experiment/runner.hpp).
// kKinds is the one list of them, in the enum's order: the spec's kind is
// parsed from it, and a test checks that every kind has a name, a runner and
// a place in the schema's `kind` enum (a static_assert keeps it complete).
enum class Kind { dim, supervised, mi_estimation, gan };
inline constexpr std::array<Kind, 4> kKinds{Kind::dim, Kind::supervised, Kind::mi_estimation, Kind::gan};
static_assert(static_cast<std::size_t>(kKinds.back()) + 1 == kKinds.size(), "kKinds lists every Kind, in order");
const char* to_string(Kind k);

// A part named by `type:` with its params at `path` in the spec.
struct PartSpec {
    std::string type;
    std::string path;  // "encoder", "objectives.local.discriminator", ...
};

struct DataSpec {
    PartSpec part;
    std::int64_t batch_size = 0;
    std::int64_t crop_padding = 0;  // data.augment
    bool flip = false;
};

struct ObjectiveSpec {
    std::string name;  // the key under objectives:
    double weight = 0;
    PartSpec estimator, discriminator;
    std::optional<std::string> negatives;  // absent: the estimator's default
    std::int64_t negative_samples = 1;
    std::optional<double> lr;              // the critic's own learning rate
    std::string path() const { return "objectives." + name; }
};

struct PriorSpec {
    double weight = 0;
    PartSpec distribution, discriminator;
};

struct HeadSpec {  // kind supervised
    std::vector<std::int64_t> hidden;
    std::string activation;
};

struct GanSpec {  // kind gan; each part as written (another kind refuses any of them)
    std::optional<PartSpec> generator, noise, critic;  // noise: its distribution
    std::int64_t noise_dim = 0;
};

struct OptimizerSpec {
    std::string type;  // adam | sgd
    double lr = 0, beta1 = 0, beta2 = 0, eps = 0, weight_decay = 0, momentum = 0;
    std::optional<double> clip_grad_norm;
};

struct TrainSpec {
    std::int64_t epochs = 0;
    std::optional<std::int64_t> steps;
    std::optional<std::int64_t> checkpoint_every;
    int threads = 0;  // 0: the session's default
    std::int64_t log_every = 0;
};

struct EvalSpec {
    std::vector<std::string> probes, features;
    std::int64_t linear_max_iter = 0, held_out_batches = 0, window = 0, samples = 0;
    std::vector<std::string> measures;  // representation measures: ndm, mine
    std::int64_t measure_steps = 0;     // their critics' training steps
    std::int64_t held_out_every = 0, patience = 0;  // mi_estimation's protocol (0: off)
    std::vector<PartSpec> sample_estimators;        // mi_estimation: run on the whole sample
};

struct Experiment {
    std::string name;
    Kind kind = Kind::dim;
    std::uint64_t seed = 0;
    std::string init;
    Precision precision = Precision::f32;
    std::vector<std::string> plugins;
    DataSpec data;
    std::optional<PartSpec> encoder;
    std::vector<ObjectiveSpec> objectives;  // in the spec's order
    std::optional<PriorSpec> prior;
    std::optional<HeadSpec> head;
    std::optional<GanSpec> gan;
    OptimizerSpec optimizer;
    TrainSpec train;
    EvalSpec eval;
    std::string output_dir;

    // The resolved spec as run (extends, overrides and defaults applied):
    // what resolved.yaml holds and its hash names.
    std::string resolved_yaml;

    // "file:line:col" (or the command-line argument) of the value at `path`,
    // or of its nearest ancestor that has one.
    std::string where(const std::string& path) const;
    // Throws a config::SpecError at `path`.
    [[noreturn]] void fail(const std::string& path, const std::string& message) const;
    // The params of a part, for its factory.
    config::Params params(const PartSpec& part) const;

    // Reads a validated document (load_spec's); throws a SpecError for values
    // that are valid YAML but impossible (non-finite numbers are refused by
    // validation already).
    static Experiment from(const config::Document& validated);

private:
    std::shared_ptr<const config::Document> doc_;  // the typed view: sections filled from the schema
};

}  // namespace infomax
