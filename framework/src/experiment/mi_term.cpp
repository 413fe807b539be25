#include "infomax/experiment/mi_term.hpp"

#include <fmt/format.h>

#include "config/document.hpp"
#include "infomax/experiment/model.hpp"
#include "experiment/held_out.hpp"
#include "infomax/optim/optim.hpp"
#include "infomax/plugin/registry.hpp"

namespace infomax {

namespace {
// The two keys of an objective that name parts, checked as a spec checks them.
const char* kSchema = R"yaml(type: object
additionalProperties: false
properties:
  estimator: {type: [object, string], x-plugin: estimator, properties: {type: {type: string}}}
  discriminator: {type: [object, string], x-plugin: discriminator, properties: {type: {type: string}}}
)yaml";
}  // namespace

struct MiTerm::Impl {
    Registry registry;
    std::unique_ptr<config::Document> doc;
    Objective objective;
    std::unique_ptr<Rng> init, negatives;
    std::unique_ptr<optim::Adam> adam;
};

MiTerm::MiTerm(MiTermOptions o, Shape x_shape, Shape z_shape) : impl_(std::make_unique<Impl>()) {
    Impl& m = *impl_;
    m.registry.load_defaults(o.plugin_paths);
    m.doc = std::make_unique<config::Document>(
        config::parse(fmt::format("estimator: {}\ndiscriminator: {}\n", o.estimator, o.discriminator), "mi_term"));
    static const config::Schema schema = config::Schema::from_yaml(kSchema);
    auto errors = config::validate(*m.doc, schema, m.registry.schema_lookup());
    if (!errors.empty()) throw config::SpecError(errors);
    m.init = std::make_unique<Rng>(o.seed, "init");
    m.negatives = std::make_unique<Rng>(o.seed, "negatives");
    BuildContext ctx;
    ctx.rng = m.init.get();
    ctx.local_shape = std::move(x_shape);
    ctx.global_shape = std::move(z_shape);
    const config::Params est(*m.doc, "estimator"), disc(*m.doc, "discriminator");
    Objective& obj = m.objective;
    obj.name = "mi";
    obj.estimator_type = est.string("type");
    obj.discriminator_type = disc.string("type");
    obj.estimator = m.registry.create_as<Estimator>("estimator", obj.estimator_type, est, ctx);
    obj.discriminator = m.registry.create_as<Discriminator>("discriminator", obj.discriminator_type, disc, ctx);
    obj.negatives = o.negatives.empty() ? obj.estimator->default_negatives() : o.negatives;
    obj.negative_samples = o.negative_samples;
    std::vector<Var> params;
    for (auto& p : obj.discriminator->parameters()) params.push_back(p.var);
    if (nn::Module* own = obj.estimator->module())
        for (auto& p : own->parameters()) params.push_back(p.var);
    optim::AdamOptions adam;
    adam.lr = o.lr;
    m.adam = std::make_unique<optim::Adam>(params, adam);
}

MiTerm::~MiTerm() = default;

namespace {
void check_pairs(const Var& x, const Var& z) {
    if (x.dim() == 0 || z.dim() == 0 || x.size(0) != z.size(0) || x.size(0) < 2)
        throw Error(fmt::format("MiTerm: x and z must be batches of as many rows (2 or more), got {} and {}",
                                to_string(x.shape()), to_string(z.shape())));
}
}  // namespace

Bound MiTerm::operator()(const Var& x, const Var& z) {
    check_pairs(x, z);
    return impl_->objective.score(x, z, *impl_->negatives);
}

Bound MiTerm::train_critic(const Var& x, const Var& z) {
    check_pairs(x, z);
    // The same values as leaves without gradient: the critic's step reaches
    // neither x, z nor the caller's model.
    Bound b = impl_->objective.score(Var(x.value()), Var(z.value()), *impl_->negatives);
    impl_->adam->zero_grad();
    b.loss.backward();
    impl_->adam->step();
    impl_->adam->zero_grad();
    return b;
}

std::string MiTerm::quantity() const { return impl_->objective.estimator->quantity(); }

double MiTerm::ceiling(std::int64_t batch) const { return detail::ceiling_of(impl_->objective, batch); }

std::vector<Var> MiTerm::critic_parameters() const { return impl_->adam->params(); }

}  // namespace infomax
