#include "config/document.hpp"
#include "experiment/load_spec.hpp"
#include "infomax/experiment/model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "experiment/runner.hpp"
#include "experiment/runners/common.hpp"
#include "infomax/ops/ops.hpp"

namespace fs = std::filesystem;

namespace infomax {

std::string experiment_schema_path() {
    if (const char* env = std::getenv("INFOMAX_SCHEMA_DIR"); env && *env)
        return (fs::path(env) / "experiment.schema.yaml").string();
    const fs::path installed = fs::path(Registry::builtin_directory()).parent_path().parent_path().parent_path() /
                               "share" / "infomax" / "schemas" / "experiment.schema.yaml";
    if (fs::exists(installed)) return installed.string();
    return (fs::path(INFOMAX_SOURCE_SCHEMA_DIR) / "experiment.schema.yaml").string();
}

const config::Schema& experiment_schema() {
    static const config::Schema s = config::Schema::from_file(experiment_schema_path());
    return s;
}

config::Document load_spec(const std::string& file, const std::vector<std::string>& overrides, Registry& registry) {
    std::vector<config::Diagnostic> override_problems;
    config::Document doc = config::load(file, overrides, override_problems);
    if (!doc.root.IsMap())  // a list, a bare value, or text that is not YAML settings
        throw config::SpecError({{doc.origin_of(""), "",
                                  fmt::format("expected a map of settings (name: ..., kind: ..., ...), found {}",
                                              doc.root.IsSequence() ? "a list" : "a single value")}});
    // A suite handed to run, validate or show: one line that says so, not one unknown key per line.
    if (!doc.root["kind"])
        for (const char* key : {"sweep", "base", "seeds"})
            if (doc.root[key])
                throw config::SpecError({{doc.origin_of(""), "",
                                          fmt::format("a suite (it has '{}:'), not an experiment spec: run it "
                                                      "with `infomax suite {}`",
                                                      key, file)}});
    // Plugins named by the spec are loaded before validation: their parts'
    // schemas take part in it. Paths are relative to the working directory.
    if (doc.root["plugins"] && doc.root["plugins"].IsSequence()) {
        std::vector<config::Diagnostic> errs;
        for (std::size_t i = 0; i < doc.root["plugins"].size(); ++i) {
            const std::string path = fmt::format("plugins[{}]", i);
            try {
                registry.load_library(doc.root["plugins"][i].as<std::string>());
            } catch (const Error& e) {
                errs.push_back({doc.origin_of(path), path, e.what()});
            }
        }
        if (!errs.empty()) throw config::SpecError(errs);
    }
    auto errs = config::validate(doc, experiment_schema(), registry.schema_lookup());
    errs.insert(errs.end(), override_problems.begin(), override_problems.end());
    config::sort_diagnostics(errs);
    if (!errs.empty()) throw config::SpecError(errs);
    return doc;
}

namespace {

// "estimator 'jsd' (libinfomax_estimators.so)": a part and the library it came from.
std::string part_name(const Registry& registry, const char* kind, const std::string& type) {
    const PartEntry* e = registry.find(kind, type);
    return fmt::format("{} '{}'{}", kind, type, e ? fmt::format(" ({})", e->file) : "");
}

}  // namespace

Bound Objective::score(const Var& a, const Var& b, Rng& negatives_rng, bool keep_state, Scores* scores) const {
    const auto state = keep_state ? estimator->state() : std::vector<double>{};
    Scores s = make_scores(*discriminator, a, b, negatives, negatives_rng, negative_samples);
    Bound bound = estimator->bound(s);
    if (scores) *scores = std::move(s);
    if (keep_state) estimator->set_state(state);
    return bound;
}

std::string Objective::column() const { return fmt::format("{}.{}", name, estimator->quantity()); }

Model build_model(const Experiment& e, const Registry& registry) {
    Model m;
    m.kind = e.kind;
    Rng init(e.seed, "init");
    Rng dry_rng(0, "dry run");
    BuildContext ctx;
    ctx.rng = &init;
    ctx.init = nn::parse_init(e.init);
    m.precision = e.precision;
    if (m.precision == Precision::bf16 && !bf16_supported())
        e.fail("precision", "bf16 needs a CPU with AVX512_BF16 or AMX, and this one has neither "
                            "(oneDNN would run reference kernels); use precision: f32");
    const PrecisionScope dry_run_precision(m.precision);  // the dry run checks the bf16 primitives too
    ctx.batch_size = e.data.batch_size;
    m.data_type = e.data.part.type;
    m.data = registry.create_as<Dataset>("dataset", m.data_type, e.params(e.data.part), ctx);
    m.input_shape = m.data->sample_shape();
    ctx.input_shape = m.input_shape;
    const std::int64_t n = 2;  // dry-run batch

    // What the kind is made of: its runner builds it and gives the two sides the objectives score.
    m.runner = detail::make_runner(e.kind);
    const auto sides = m.runner->build(m, e, registry, ctx, dry_rng);
    const Var a = sides.first, b = sides.second;
    if (a.defined()) m.local_shape = detail::per_sample(a);
    m.global_shape = detail::per_sample(b);
    ctx.local_shape = m.local_shape;
    ctx.global_shape = m.global_shape;

    // eval.features names taps: a typo is reported now, not after training.
    if (!m.taps.empty() && m.data->classes() > 0)
        for (std::size_t i = 0; i < e.eval.features.size(); ++i)
            if (std::find(m.taps.begin(), m.taps.end(), e.eval.features[i]) == m.taps.end())
                e.fail(fmt::format("eval.features[{}]", i),
                       config::unknown_name("feature tap", e.eval.features[i], m.taps) +
                           fmt::format(" (the taps of encoder '{}')", m.encoder_type));

    for (const auto& os : e.objectives) {
        const std::string path = os.path();
        Objective o;
        o.name = os.name;
        o.weight = static_cast<float>(os.weight);
        o.estimator_type = os.estimator.type;
        o.discriminator_type = os.discriminator.type;
        o.estimator = registry.create_as<Estimator>("estimator", o.estimator_type, e.params(os.estimator), ctx);
        o.discriminator = registry.create_as<Discriminator>("discriminator", o.discriminator_type, e.params(os.discriminator), ctx);
        o.negatives = os.negatives ? *os.negatives : o.estimator->default_negatives();
        o.negative_samples = os.negative_samples;
        if (os.lr) o.lr = static_cast<float>(*os.lr);
        if (o.negative_samples > 1 && o.negatives != "roll" && o.negatives != "permutation")
            e.fail(path + ".negative_samples",
                   fmt::format("{} negatives per sample need negatives: roll or permutation; {} makes its own",
                               o.negative_samples, o.negatives));
        if (o.negative_samples >= ctx.batch_size)
            e.fail(path + ".negative_samples",
                   fmt::format("{} negatives per sample need a batch larger than {} (data.batch_size is {})",
                               o.negative_samples, o.negative_samples, ctx.batch_size));
        // The dry run: the one scoring path, on a batch of 2, leaving the estimator's state as it was.
        const std::int64_t count = std::min<std::int64_t>(o.negative_samples, n - 1);
        Objective dry = o;
        dry.negative_samples = count;
        Bound bound;
        detail::at(e, path + ".discriminator",
           fmt::format("discriminator '{}' does not fit inputs of shapes {} and {}", o.discriminator_type,
                       to_string(m.local_shape), to_string(m.global_shape)),
           [&] { bound = dry.score(a, b, dry_rng, true); });
        // A plugin's mistake is the plugin's: name the part and its library.
        auto scalar = [](const Var& v) { return v.defined() && v.numel() == 1; };
        const bool readings_scalar = std::all_of(bound.readings.begin(), bound.readings.end(),
                                                 [&](const Reading& r) { return scalar(r.value); });
        if (!scalar(bound.value) || !scalar(bound.loss) || !readings_scalar)
            e.fail(path + ".estimator",
                   fmt::format("{} returned a bound of shape {} (loss {}): a bound must be a scalar; the plugin is wrong, "
                               "not this spec",
                               part_name(registry, "estimator", o.estimator_type),
                               bound.value.defined() ? to_string(bound.value.shape()) : "(none)",
                               bound.loss.defined() ? to_string(bound.loss.shape()) : "(none)"));
        m.objectives.push_back(std::move(o));
    }

    if (e.prior) {
        const PriorSpec& ps = *e.prior;
        PriorTerm t;
        t.weight = static_cast<float>(ps.weight);
        t.distribution_type = ps.distribution.type;
        t.discriminator_type = ps.discriminator.type;
        t.prior = registry.create_as<Prior>("prior", t.distribution_type, e.params(ps.distribution), ctx);
        t.discriminator = registry.create_as<Discriminator>("discriminator", t.discriminator_type, e.params(ps.discriminator), ctx);
        detail::at(e, "prior.discriminator",
           fmt::format("discriminator '{}' cannot score y of shape {}", t.discriminator_type, to_string(m.global_shape)),
           [&] { t.discriminator->score(t.prior->transform(b)); });
        m.prior = std::move(t);
    }
    if (e.eval.held_out_every > 0 && !m.runner->held_out_estimate(m, e))
        e.fail("eval.held_out_every", fmt::format("the held-out protocol is for kind mi_estimation; a {} run has none: "
                                                  "remove this key",
                                                  to_string(e.kind)));
    return m;
}

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
