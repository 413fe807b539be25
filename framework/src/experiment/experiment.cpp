#include "experiment/load_spec.hpp"
#include "infomax/experiment/experiment.hpp"

#include <fmt/format.h>

#include "config/document.hpp"
#include "infomax/experiment/model.hpp"

namespace infomax {

const char* to_string(Kind k) {
    switch (k) {
        case Kind::dim: return "dim";
        case Kind::supervised: return "supervised";
        case Kind::mi_estimation: return "mi_estimation";
        case Kind::gan: return "gan";
    }
    return "?";
}

std::string Experiment::where(const std::string& path) const { return doc_->origin_of(path).to_string(); }

void Experiment::fail(const std::string& path, const std::string& message) const {
    throw config::SpecError({config::Diagnostic{doc_->origin_of(path), path, message}});
}

config::Params Experiment::params(const PartSpec& part) const { return config::Params(*doc_, part.path); }

namespace {

Kind parse_kind(const config::Params& root) {
    const std::string k = root.string("kind");
    for (Kind c : kKinds)
        if (k == to_string(c)) return c;
    root.fail("kind", fmt::format("unknown kind '{}'", k));  // the schema's enum lists them
}

PartSpec part(const config::Params& p) { return {p.string("type"), p.path()}; }

}  // namespace

Experiment Experiment::from(const config::Document& validated) {
    Experiment e;
    // The sections every kind has take their defaults from the schema when absent.
    auto doc = std::make_shared<config::Document>(
        config::with_section_defaults(validated, experiment_schema(), {"optimizer", "train", "eval", "output"}));
    e.doc_ = doc;
    e.resolved_yaml = config::dump(validated);
    const config::Params root(*doc, "");
    e.name = root.string("name");
    e.kind = parse_kind(root);
    e.seed = static_cast<std::uint64_t>(root.integer("seed"));
    e.init = root.string("init");
    e.precision = parse_precision(root.string("precision"));
    e.plugins = root.strings("plugins");

    if (!root.has("data")) root.fail("data", "missing required key 'data'");
    const config::Params data = root.child("data");
    e.data.part = part(data);
    e.data.batch_size = data.integer("batch_size");
    if (data.has("augment")) {
        e.data.crop_padding = data.child("augment").integer("crop_padding");
        e.data.flip = data.child("augment").boolean("flip");
    }
    if (root.has("encoder")) e.encoder = part(root.child("encoder"));
    if (root.has("objectives"))
        for (const auto& name : root.child("objectives").keys()) {
            const config::Params op = root.child("objectives").child(name);
            ObjectiveSpec o;
            o.name = name;
            o.weight = op.number("weight");
            o.estimator = part(op.child("estimator"));
            o.discriminator = part(op.child("discriminator"));
            if (op.has("negatives")) o.negatives = op.string("negatives");
            o.negative_samples = op.integer("negative_samples");
            if (op.has("lr")) o.lr = op.number("lr");
            e.objectives.push_back(std::move(o));
        }
    if (root.has("prior")) {
        const config::Params pp = root.child("prior");
        e.prior = PriorSpec{pp.number("weight"), part(pp.child("distribution")), part(pp.child("discriminator"))};
    }
    if (root.has("head")) {
        const config::Params hp = root.child("head");
        e.head = HeadSpec{hp.integers("hidden"), hp.string("activation")};
    }
    if (root.has("generator") || root.has("noise") || root.has("critic")) {
        GanSpec g;
        if (root.has("generator")) g.generator = part(root.child("generator"));
        if (root.has("noise")) {
            const config::Params np = root.child("noise");
            g.noise = part(np.child("distribution"));
            g.noise_dim = np.integer("dim");
        }
        if (root.has("critic")) g.critic = part(root.child("critic"));
        e.gan = g;
    }

    const config::Params op = root.child("optimizer");
    e.optimizer.type = op.string("type");
    e.optimizer.lr = op.number("lr");
    const auto betas = op.numbers("betas");
    e.optimizer.beta1 = betas.at(0);
    e.optimizer.beta2 = betas.at(1);
    e.optimizer.eps = op.number("eps");
    e.optimizer.weight_decay = op.number("weight_decay");
    e.optimizer.momentum = op.number("momentum");
    if (op.has("clip_grad_norm")) e.optimizer.clip_grad_norm = op.number("clip_grad_norm");

    const config::Params tp = root.child("train");
    e.train.epochs = tp.integer("epochs");
    if (tp.has("steps")) e.train.steps = tp.integer("steps");
    if (tp.has("checkpoint_every")) e.train.checkpoint_every = tp.integer("checkpoint_every");
    e.train.threads = static_cast<int>(tp.integer("threads"));  // the schema bounds it
    e.train.log_every = tp.integer("log_every");

    const config::Params ev = root.child("eval");
    e.eval.probes = ev.strings("probes");
    e.eval.features = ev.strings("features");
    e.eval.linear_max_iter = ev.integer("linear_max_iter");  // the schema bounds it
    e.eval.held_out_batches = ev.integer("held_out_batches");
    e.eval.window = ev.integer("window");
    e.eval.samples = ev.integer("samples");
    e.eval.measures = ev.strings("measures");
    e.eval.measure_steps = ev.integer("measure_steps");
    e.eval.held_out_every = ev.integer("held_out_every");
    e.eval.patience = ev.integer("patience");
    for (std::size_t i = 0; i < ev.size("sample_estimators"); ++i) e.eval.sample_estimators.push_back(part(ev.item("sample_estimators", i)));
    e.output_dir = root.child("output").string("dir");
    return e;
}

}  // namespace infomax
