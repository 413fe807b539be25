// kind dim: an encoder trained by Deep InfoMax objectives on (M, y), with an
// optional prior term; evaluated by held-out bounds and probes on its taps.
#include <fmt/format.h>

#include "experiment/data_parallel.hpp"
#include "experiment/runners/common.hpp"
#include "infomax/ops/ops.hpp"

namespace infomax::detail {

namespace {

class DimRunner final : public Runner {
public:
    std::pair<Var, Var> build(Model& m, const Experiment& e, const Registry& registry, BuildContext& ctx, Rng&) const override {
        refuse_gan_keys(e);
        refuse(e, e.head.has_value(), "head", "head: is for kind supervised");
        if (e.objectives.empty())
            e.fail("objectives", "an experiment needs at least one objective (e.g. objectives: {global: {...}})");
        return build_encoder(m, e, registry, ctx, true);
    }

    // Which parameters each loss updates:
    //  - the objectives' losses (minus each bound, weighted) update the encoder
    //    and every objective's discriminator: both maximise the bounds;
    //  - prior matching: the prior discriminator learns to tell prior samples
    //    from transform(y) (its own optimizer, its own loss, y detached); the
    //    encoder learns to fool it through weight * softplus(-D(transform(y))).
    bool data_parallel() const override { return true; }

    StepMetrics step(Trainer& t, const Trainer::Batch& batch) const override {
        Model& m = t.model();
        StepMetrics out;
        t.begin_step();
        m.encoder->train(true);
        // Data-parallel: this rank's rows; the objectives score their rows of
        // every rank's (data_parallel.hpp), the prior sees all alike.
        const Features mine = t.encode(Var(batch.x));
        const Features f = gather_features(mine, Gathered::partial_gradient);
        Var total;
        score_objectives(t, f, out, total);
        Var prior_d_loss;
        if (m.prior) {
            auto& p = *m.prior;
            Var yt = p.prior->transform(gather_rows(mine.global, Gathered::same_gradient));
            Rng rng(t.seed(), fmt::format("prior/{}", t.step()));
            Var real(p.prior->sample(yt.shape(), rng));
            Var g_loss = ops::mean(ops::softplus(-p.discriminator->score(yt)));
            prior_d_loss = ops::mean(ops::softplus(-p.discriminator->score(real))) +
                           ops::mean(ops::softplus(p.discriminator->score(yt.detach())));
            out.emplace_back("prior.g_loss", finite(g_loss.item(), t.step() + 1, "the prior term (encoder)"));
            out.emplace_back("prior.d_loss", finite(prior_d_loss.item(), t.step() + 1, "the prior term (discriminator)"));
            total = add(total, g_loss * p.weight);
        }
        t.finish_step(out, total, prior_d_loss);
        return out;
    }

    nlohmann::json evaluate(EvalContext& c) const override {
        Model& m = c.model;
        m.encoder->train(false);
        nlohmann::json r = held_out_bounds(
            c, [&](const std::string& split, const std::vector<std::int64_t>& idx, double&) {
                return m.encoder->encode(Var(m.data->batch(split, idx)));
            },
            false);
        r.update(probe_features(c));
        r.update(representation_measures(c));
        return r;
    }
};

}  // namespace

std::shared_ptr<const Runner> dim_runner() { return std::make_shared<DimRunner>(); }

}  // namespace infomax::detail
