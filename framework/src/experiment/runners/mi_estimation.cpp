// kind mi_estimation: no encoder; each objective's critic maximises its bound
// on the data's pairs (x, z), and only the critics learn. Evaluated by
// held-out bounds and the estimate against the truth per MI level.
#include <fmt/format.h>

#include <cmath>

#include "experiment/runners/common.hpp"

namespace infomax::detail {

namespace {

class MiEstimationRunner final : public Runner {
public:
    std::pair<Var, Var> build(Model& m, const Experiment& e, const Registry&, BuildContext&, Rng&) const override {
        refuse_gan_keys(e);
        refuse(e, e.encoder.has_value(), "encoder", "an mi_estimation experiment has no encoder: remove this key");
        refuse(e, e.head.has_value(), "head", "head: is for kind supervised");
        refuse(e, e.prior.has_value(), "prior", "prior matching needs an encoder (kind: dim)");
        if (!m.data->paired())
            e.fail("data.type", fmt::format("an mi_estimation experiment needs paired data (x, z); {} has none",
                                            m.data->describe()));
        if (e.objectives.empty())
            e.fail("objectives", "an experiment needs at least one objective (e.g. objectives: {global: {...}})");
        return {Var(m.data->batch("train", {0, 1})), Var(m.data->pair("train", {0, 1}))};
    }

    void complete_batch(Trainer::Batch& b, const Model& m, const std::vector<std::int64_t>& idx) const override {
        b.z = m.data->pair("train", idx);
        for (auto i : idx) b.true_mi += m.data->true_mi("train", i);
        b.true_mi /= double(idx.size());
    }

    StepMetrics step(Trainer& t, const Trainer::Batch& batch) const override {
        StepMetrics out;
        t.begin_step();
        Features f;  // the critics score the data's pairs
        f.local = Var(batch.x);
        f.global = Var(batch.z);
        Var total;
        score_objectives(t, f, out, total);
        if (std::isfinite(batch.true_mi)) out.emplace_back("true_mi", batch.true_mi);
        t.finish_step(out, total, Var());
        return out;
    }

    nlohmann::json evaluate(EvalContext& c) const override {
        Model& m = c.model;
        nlohmann::json r = held_out_bounds(
            c, [&](const std::string& split, const std::vector<std::int64_t>& idx, double& truth) {
                Features f;
                f.local = Var(m.data->batch(split, idx));
                f.global = Var(m.data->pair(split, idx));
                for (auto i : idx) truth += m.data->true_mi(split, i) / double(idx.size());
                return f;
            },
            true);
        r.update(mi_levels(c));
        return r;
    }
};

}  // namespace

std::shared_ptr<const Runner> mi_estimation_runner() { return std::make_shared<MiEstimationRunner>(); }

}  // namespace infomax::detail
