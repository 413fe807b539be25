#include "infomax/experiment/model.hpp"

#include <fmt/format.h>

#include <filesystem>

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

std::string type_of(const config::Params& p) { return p.string("type"); }

// Runs f; a shape or part error becomes a SpecError at `path`.
template <class F>
void at(const config::Document& doc, const std::string& path, const std::string& what, F&& f) {
    try {
        f();
    } catch (const config::SpecError&) {
        throw;
    } catch (const Error& e) {
        throw config::SpecError({{doc.origin_of(path), path, fmt::format("{}: {}", what, e.what())}});
    }
}

Shape per_sample(const Var& v) { return Shape(v.shape().begin() + 1, v.shape().end()); }

}  // namespace

Model build_model(const config::Document& doc, const Registry& registry) {
    Model m;
    const config::Params root(doc, "");
    m.kind = root.string("kind");
    Rng init(static_cast<std::uint64_t>(root.integer("seed")), "init");
    Rng dry_rng(0, "dry run");
    BuildContext ctx;
    ctx.rng = &init;
    ctx.init = nn::parse_init(root.string("init"));
    m.precision = parse_precision(root.string("precision"));
    if (m.precision == Precision::bf16 && !bf16_supported())
        root.fail("precision", "bf16 needs a CPU with AVX512_BF16 or AMX, and this one has neither "
                               "(oneDNN would run reference kernels); use precision: f32");
    const PrecisionScope dry_run_precision(m.precision);  // the dry run checks the bf16 primitives too
    if (!root.has("data")) root.fail("data", "missing required key 'data'");
    const config::Params dp = root.child("data");
    ctx.batch_size = dp.integer("batch_size");
    m.data_type = type_of(dp);
    m.data = registry.create_as<Dataset>("dataset", m.data_type, dp, ctx);
    m.input_shape = m.data->sample_shape();
    ctx.input_shape = m.input_shape;
    if (m.kind == "mi_estimation" && !m.data->paired())
        dp.fail("type", fmt::format("an mi_estimation experiment needs paired data (x, z); {} has none",
                                    m.data->describe()));
    const std::int64_t n = 2;  // dry-run batch

    Var a, b;  // the two sides every objective scores
    if (m.kind == "dim" || m.kind == "supervised") {
        if (!root.has("encoder")) root.fail("encoder", fmt::format("a {} experiment needs an encoder", m.kind));
        const config::Params ep = root.child("encoder");
        m.encoder_type = type_of(ep);
        m.encoder = registry.create_as<Encoder>("encoder", m.encoder_type, ep, ctx);
        Shape xs{n};
        xs.insert(xs.end(), m.input_shape.begin(), m.input_shape.end());
        Features f;
        at(doc, "encoder", fmt::format("encoder '{}' does not accept the data's shape {}", m.encoder_type,
                                       to_string(m.input_shape)),
           [&] { f = m.encoder->encode(Var(Tensor::zeros(xs))); });
        if (!f.local.defined() && m.kind == "dim")
            ep.fail("", fmt::format("encoder '{}' has no local tap: add `- tap: local` where M is taken", m.encoder_type));
        if (f.global.dim() != 2)
            ep.fail("", fmt::format("encoder '{}' gives y of shape {}: y must be a vector per sample", m.encoder_type,
                                    to_string(f.global.shape())));
        a = f.local;
        b = f.global;
    } else if (m.kind == "gan") {
        if (root.has("encoder")) root.fail("encoder", "a gan experiment has a generator, not an encoder: rename this key");
        if (!root.has("generator")) root.fail("generator", "a gan experiment needs a generator (e.g. {type: layer_stack, ...})");
        if (!root.has("critic")) root.fail("critic", "a gan experiment needs a critic (e.g. {type: prior_mlp, hidden: [128, 128]})");
        if (m.input_shape.size() != 1)
            dp.fail("type", fmt::format("the gan trainer generates vectors; {} gives samples of shape {}",
                                        m.data->describe(), to_string(m.input_shape)));
        if (!root.has("noise")) root.fail("noise", "a gan experiment needs noise (e.g. noise: {distribution: normal, dim: 2})");
        const config::Params np = root.child("noise");
        m.noise_dim = np.integer("dim");
        const config::Params dist = np.child("distribution");
        m.noise_type = type_of(dist);
        m.noise = registry.create_as<Prior>("prior", m.noise_type, dist, ctx);
        const config::Params gp = root.child("generator");
        m.generator_type = type_of(gp);
        BuildContext gctx = ctx;
        gctx.input_shape = {m.noise_dim};
        m.generator = registry.create_as<Encoder>("encoder", m.generator_type, gp, gctx);
        Var z(m.noise->sample({n, m.noise_dim}, dry_rng));
        Var x;
        at(doc, "generator", fmt::format("generator '{}' does not accept noise of dim {}", m.generator_type, m.noise_dim),
           [&] { x = m.generator->encode(z).global; });
        if (per_sample(x) != m.input_shape)
            gp.fail("", fmt::format("the generator makes samples of shape {}, the data's are {}", to_string(per_sample(x)),
                                    to_string(m.input_shape)));
        const config::Params cp = root.child("critic");
        m.critic_type = type_of(cp);
        BuildContext cctx = ctx;
        cctx.global_shape = m.input_shape;
        m.critic = registry.create_as<Discriminator>("discriminator", m.critic_type, cp, cctx);
        at(doc, "critic", fmt::format("critic '{}' cannot score samples of shape {}", m.critic_type, to_string(m.input_shape)),
           [&] { m.critic->score(x); });
        a = x;  // the MI regulariser scores (G(z), z)
        b = z;
    } else {
        if (root.has("encoder")) root.fail("encoder", "an mi_estimation experiment has no encoder: remove this key");
        a = Var(m.data->batch("train", {0, 1}));
        b = Var(m.data->pair("train", {0, 1}));
    }
    if (m.kind != "gan")
        for (const char* key : {"generator", "noise", "critic"})
            if (root.has(key)) root.fail(key, fmt::format("{}: is for kind gan", key));
    if (a.defined()) m.local_shape = per_sample(a);
    m.global_shape = per_sample(b);
    ctx.local_shape = m.local_shape;
    ctx.global_shape = m.global_shape;

    if (m.kind == "supervised") {  // the encoder trained with labels: the reference DIM is compared with
        if (root.has("objectives")) root.fail("objectives", "a supervised experiment trains with labels: remove objectives");
        if (root.has("prior")) root.fail("prior", "a supervised experiment has no prior: remove this key");
        if (m.data->classes() == 0)
            dp.fail("type", fmt::format("supervised training needs labels; {} has none", m.data->describe()));
        std::vector<std::int64_t> hidden;
        std::string act = "relu";
        if (root.has("head")) {
            hidden = root.child("head").integers("hidden");
            act = root.child("head").string("activation");
        }
        m.head = nn::make_mlp(m.global_shape[0], hidden, m.data->classes(), nn::parse_activation(act), init, ctx.init);
        return m;
    }
    if (root.has("head")) root.fail("head", "head: is for kind supervised");

    if ((!root.has("objectives") || root.child("objectives").keys().empty()) && m.kind != "gan")
        root.fail("objectives", "an experiment needs at least one objective (e.g. objectives: {global: {...}})");
    if (m.kind == "gan" && root.has("objectives") && root.child("objectives").keys().size() > 1)
        root.fail("objectives", "a gan takes one MI regulariser (e.g. objectives: {mi: {...}})");
    for (const auto& name : root.has("objectives") ? root.child("objectives").keys() : std::vector<std::string>{}) {
        const std::string path = "objectives." + name;
        const config::Params op(doc, path);
        Objective o;
        o.name = name;
        o.weight = static_cast<float>(op.number("weight"));
        const config::Params est = op.child("estimator"), dis = op.child("discriminator");
        o.estimator_type = type_of(est);
        o.discriminator_type = type_of(dis);
        o.estimator = registry.create_as<Estimator>("estimator", o.estimator_type, est, ctx);
        o.discriminator = registry.create_as<Discriminator>("discriminator", o.discriminator_type, dis, ctx);
        o.negatives = op.has("negatives") ? op.string("negatives") : o.estimator->default_negatives();
        o.negative_samples = op.integer("negative_samples");
        if (op.has("lr")) o.lr = static_cast<float>(op.number("lr"));
        if (o.negative_samples > 1 && o.negatives != "roll" && o.negatives != "permutation")
            op.fail("negative_samples", fmt::format("{} negatives per sample need negatives: roll or permutation; {} "
                                                    "makes its own",
                                                    o.negative_samples, o.negatives));
        if (o.negative_samples >= ctx.batch_size)
            op.fail("negative_samples", fmt::format("{} negatives per sample need a batch larger than {} (data.batch_size "
                                                    "is {})",
                                                    o.negative_samples, o.negative_samples, ctx.batch_size));
        at(doc, path + ".discriminator",
           fmt::format("discriminator '{}' does not fit inputs of shapes {} and {}", o.discriminator_type,
                       to_string(m.local_shape), to_string(m.global_shape)),
           [&] {
               Scores s = make_scores(*o.discriminator, a, b, o.negatives, dry_rng, std::min<std::int64_t>(o.negative_samples, n - 1));
               o.estimator->bound(s);
           });
        m.objectives.push_back(std::move(o));
    }

    if (root.has("prior")) {
        if (m.kind != "dim") root.fail("prior", "prior matching needs an encoder (kind: dim)");
        const config::Params pp = root.child("prior");
        PriorTerm t;
        t.weight = static_cast<float>(pp.number("weight"));
        const config::Params dist = pp.child("distribution"), dis = pp.child("discriminator");
        t.distribution_type = type_of(dist);
        t.discriminator_type = type_of(dis);
        t.prior = registry.create_as<Prior>("prior", t.distribution_type, dist, ctx);
        t.discriminator = registry.create_as<Discriminator>("discriminator", t.discriminator_type, dis, ctx);
        at(doc, "prior.discriminator",
           fmt::format("discriminator '{}' cannot score y of shape {}", t.discriminator_type, to_string(m.global_shape)),
           [&] { t.discriminator->score(t.prior->transform(b)); });
        m.prior = std::move(t);
    }
    return m;
}

std::string Model::summary() const {
    std::string s = fmt::format("kind {}; data {}: input {}\n", kind, data->describe(), to_string(input_shape));
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
