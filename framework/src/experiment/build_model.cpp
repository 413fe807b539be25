// Building a model from a typed experiment: the data, the kind's parts (its
// runner), each objective and the prior, each tried on a batch of 2.
#include <fmt/format.h>

#include <algorithm>

#include "experiment/runner.hpp"
#include "experiment/runners/common.hpp"
#include "infomax/experiment/model.hpp"
#include "infomax/ops/ops.hpp"

namespace infomax {

namespace {

// "estimator 'jsd' (libinfomax_estimators.so)": a part and the library it came from.
std::string part_name(const Registry& registry, const char* kind, const std::string& type) {
    const PartEntry* e = registry.find(kind, type);
    return fmt::format("{} '{}'{}", kind, type, e ? fmt::format(" ({})", e->file) : "");
}

// One objective: its parts, its negatives checked against the batch, and the
// dry run (the one scoring path on a batch of 2, the estimator's state kept).
Objective build_objective(const ObjectiveSpec& os, const Experiment& e, const Registry& registry, BuildContext& ctx,
                          const Model& m, const Var& a, const Var& b, Rng& dry_rng) {
    const std::int64_t n = 2;  // dry-run batch
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
    return o;
}

// The prior term: its distribution, its discriminator tried on y.
PriorTerm build_prior(const PriorSpec& ps, const Experiment& e, const Registry& registry, BuildContext& ctx,
                      const Model& m, const Var& b) {
    PriorTerm t;
    t.weight = static_cast<float>(ps.weight);
    t.distribution_type = ps.distribution.type;
    t.discriminator_type = ps.discriminator.type;
    t.prior = registry.create_as<Prior>("prior", t.distribution_type, e.params(ps.distribution), ctx);
    t.discriminator = registry.create_as<Discriminator>("discriminator", t.discriminator_type, e.params(ps.discriminator), ctx);
    detail::at(e, "prior.discriminator",
               fmt::format("discriminator '{}' cannot score y of shape {}", t.discriminator_type, to_string(m.global_shape)),
               [&] { t.discriminator->score(t.prior->transform(b)); });
    return t;
}

// eval.features names taps: a typo is reported now, not after training.
void check_feature_taps(const Experiment& e, const Model& m) {
    if (m.taps.empty() || m.data->classes() == 0) return;
    for (std::size_t i = 0; i < e.eval.features.size(); ++i)
        if (std::find(m.taps.begin(), m.taps.end(), e.eval.features[i]) == m.taps.end())
            e.fail(fmt::format("eval.features[{}]", i),
                   config::unknown_name("feature tap", e.eval.features[i], m.taps) +
                       fmt::format(" (the taps of encoder '{}')", m.encoder_type));
}

}  // namespace

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

    // What the kind is made of: its runner builds it and gives the two sides the objectives score.
    m.runner = detail::make_runner(e.kind);
    const auto sides = m.runner->build(m, e, registry, ctx, dry_rng);
    const Var a = sides.first, b = sides.second;
    if (a.defined()) m.local_shape = detail::per_sample(a);
    m.global_shape = detail::per_sample(b);
    ctx.local_shape = m.local_shape;
    ctx.global_shape = m.global_shape;

    check_feature_taps(e, m);
    for (const auto& os : e.objectives) m.objectives.push_back(build_objective(os, e, registry, ctx, m, a, b, dry_rng));
    if (e.prior) m.prior = build_prior(*e.prior, e, registry, ctx, m, b);
    if (e.eval.held_out_every > 0 && !m.runner->held_out_estimate(m, e))
        e.fail("eval.held_out_every", fmt::format("the held-out protocol is for kind mi_estimation; a {} run has none: "
                                                  "remove this key",
                                                  to_string(e.kind)));
    return m;
}

}  // namespace infomax
