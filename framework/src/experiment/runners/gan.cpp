// kind gan (the MINE/NWJ library's MI-regularised GAN):
//  - the critic learns to tell data from G(z) (its own optimizer, G(z) detached);
//  - the generator minimises softplus(-critic(G(z))) - weight * scale * I,
//    with I the objective's bound on (G(z), z) and adaptive clipping
//    scale = min(|g_gan|, |g_I|) / |g_I| over the generator's gradients, so
//    the MI gradient is never larger than the GAN loss's;
//  - the objective's critic maximises the bound (its own optimizer).
// Evaluated by the modes its samples cover.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "experiment/runners/common.hpp"
#include "infomax/ops/ops.hpp"

namespace infomax::detail {

namespace {

double norm(const std::vector<Tensor>& g) {
    double s = 0;
    for (const auto& t : g) {
        const auto v = t.to_vector();
        for (float x : v) s += double(x) * x;
    }
    return std::sqrt(s);
}

class GanRunner final : public Runner {
public:
    std::pair<Var, Var> build(Model& m, const Experiment& e, const Registry& registry, BuildContext& ctx,
                              Rng& dry_rng) const override {
        refuse(e, e.encoder.has_value(), "encoder", "a gan experiment has a generator, not an encoder: rename this key");
        refuse(e, e.head.has_value(), "head", "head: is for kind supervised");
        refuse(e, e.prior.has_value(), "prior", "prior matching needs an encoder (kind: dim)");
        const GanSpec g = e.gan.value_or(GanSpec{});
        if (!g.generator) e.fail("generator", "a gan experiment needs a generator (e.g. {type: layer_stack, ...})");
        if (!g.critic) e.fail("critic", "a gan experiment needs a critic (e.g. {type: prior_mlp, hidden: [128, 128]})");
        if (m.input_shape.size() != 1)
            e.fail("data.type", fmt::format("the gan trainer generates vectors; {} gives samples of shape {}",
                                            m.data->describe(), to_string(m.input_shape)));
        if (!g.noise) e.fail("noise", "a gan experiment needs noise (e.g. noise: {distribution: normal, dim: 2})");
        if (e.objectives.size() > 1) e.fail("objectives", "a gan takes one MI regulariser (e.g. objectives: {mi: {...}})");
        m.noise_dim = g.noise_dim;
        m.noise_type = g.noise->type;
        m.noise = registry.create_as<Prior>("prior", m.noise_type, e.params(*g.noise), ctx);
        m.generator_type = g.generator->type;
        BuildContext gctx = ctx;
        gctx.input_shape = {m.noise_dim};
        m.generator = registry.create_as<Encoder>("encoder", m.generator_type, e.params(*g.generator), gctx);
        Var z(m.noise->sample({2, m.noise_dim}, dry_rng));
        Var x;
        at(e, "generator", fmt::format("generator '{}' does not accept noise of dim {}", m.generator_type, m.noise_dim),
           [&] { x = m.generator->encode(z).global; });
        if (per_sample(x) != m.input_shape)
            e.fail("generator", fmt::format("the generator makes samples of shape {}, the data's are {}",
                                            to_string(per_sample(x)), to_string(m.input_shape)));
        m.critic_type = g.critic->type;
        BuildContext cctx = ctx;
        cctx.global_shape = m.input_shape;
        m.critic = registry.create_as<Discriminator>("discriminator", m.critic_type, e.params(*g.critic), cctx);
        at(e, "critic", fmt::format("critic '{}' cannot score samples of shape {}", m.critic_type, to_string(m.input_shape)),
           [&] { m.critic->score(x); });
        return {x, z};  // the MI regulariser scores (G(z), z)
    }

    bool objectives_own_optimizer() const override { return true; }

    StepMetrics step(Trainer& t, const Trainer::Batch& batch) const override {
        Model& m = t.model();
        StepMetrics out;
        t.begin_step();
        m.generator->train(true);
        Rng noise(t.seed(), fmt::format("noise/{}", t.step()));
        Var z(m.noise->sample({t.batch_size(), m.noise_dim}, noise));
        Var fake = m.generator->encode(z).global;
        // The losses meet the generator at its output: each is differentiated to
        // d/dx first, then through the generator separately, so the two parameter
        // gradients can be measured and balanced.
        Var x(fake.value(), true);
        Var g_loss = ops::mean(ops::softplus(-m.critic->score(x)));
        out.emplace_back("gan.g_loss", finite(g_loss.item(), t.step() + 1, "the generator's GAN loss"));
        t.forward_done();
        g_loss.backward();
        const Tensor dx_gan = x.grad();
        Trainer::Group& gen = t.main_group();  // the generator's
        auto take_grads = [&] {
            std::vector<Tensor> g;
            for (auto& p : gen.opt->params()) g.push_back(p.grad().defined() ? p.grad().clone() : Tensor::zeros(p.shape()));
            gen.opt->zero_grad();
            return g;
        };
        fake.backward(dx_gan, true);
        std::vector<Tensor> g_gan = take_grads();

        if (!m.objectives.empty()) {
            auto& o = m.objectives.front();
            Var xm(fake.value(), true);
            Rng neg(t.seed(), fmt::format("negatives/{}", t.step()));
            Bound b = o.score(xm, z, neg);
            out.emplace_back(o.column(), finite(b.value.item(), t.step() + 1,
                                                fmt::format("objective '{}' ({})", o.name, o.estimator->quantity())));
            for (const auto& r : b.readings) out.emplace_back(o.name + "." + r.name, r.value.item());
            b.loss.backward();  // the objective's critic maximises the bound; xm gets d(-I)/dx
            fake.backward(xm.grad(), true);
            std::vector<Tensor> g_mi = take_grads();
            const double n_gan = norm(g_gan), n_mi = norm(g_mi);
            const double scale = n_mi > 0 ? std::min(n_gan, n_mi) / n_mi : 0.0;
            out.emplace_back("mi.scale", scale);
            out.emplace_back("mi.grad_norm_ratio", n_gan > 0 ? n_mi / n_gan : 0.0);
            const float k = static_cast<float>(o.weight * scale);
            for (std::size_t i = 0; i < g_gan.size(); ++i) {  // plain copies: layouts may differ
                auto gv = g_gan[i].to_vector();
                const auto mv = g_mi[i].to_vector();
                for (std::size_t j = 0; j < gv.size(); ++j) gv[j] += k * mv[j];
                g_gan[i] = Tensor::from(g_gan[i].shape(), gv);
            }
        }
        for (std::size_t i = 0; i < g_gan.size(); ++i) {
            Var p = gen.opt->params()[i];  // a handle: the same parameter
            p.add_grad(g_gan[i]);
        }

        // The critic: data against G(z), detached.
        Trainer::Group& critic = *t.group("critic");
        critic.opt->zero_grad();  // drop what the generator's loss sent into it
        Var d_loss = ops::mean(ops::softplus(-m.critic->score(Var(batch.x)))) +
                     ops::mean(ops::softplus(m.critic->score(fake.detach())));
        out.emplace_back("gan.d_loss", finite(d_loss.item(), t.step() + 1, "the critic's GAN loss"));
        d_loss.backward();
        t.backward_done();
        t.apply_updates();
        return out;
    }

    nlohmann::json evaluate(EvalContext& c) const override { return generated_samples(c); }
};

}  // namespace

std::shared_ptr<const Runner> gan_runner() { return std::make_shared<GanRunner>(); }

}  // namespace infomax::detail
