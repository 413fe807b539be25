// kind mi_estimation: no encoder; each objective's critic maximises its bound
// on the data's pairs (x, z), and only the critics learn. Evaluated by
// held-out bounds and the estimate against the truth per MI level.
#include <fmt/format.h>

#include <cmath>
#include <numeric>

#include "experiment/runners/common.hpp"

namespace infomax::detail {

namespace {

class MiEstimationRunner final : public Runner {
public:
    std::pair<Var, Var> build(Model& m, const Experiment& e, const Registry& registry, BuildContext& ctx, Rng&) const override {
        refuse_gan_keys(e);
        refuse(e, e.encoder.has_value(), "encoder", "an mi_estimation experiment has no encoder: remove this key");
        refuse(e, e.head.has_value(), "head", "head: is for kind supervised");
        refuse(e, e.prior.has_value(), "prior", "prior matching needs an encoder (kind: dim)");
        if (!m.data->paired())
            e.fail("data.type", fmt::format("an mi_estimation experiment needs paired data (x, z); {} has none",
                                            m.data->describe()));
        if (e.objectives.empty())
            e.fail("objectives", "an experiment needs at least one objective (e.g. objectives: {global: {...}})");
        for (const PartSpec& s : e.eval.sample_estimators)
            m.sample_estimators.emplace_back(s.type, registry.create_as<SampleEstimator>("sample_estimator", s.type, e.params(s), ctx));
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
        r.update(sample_estimates(c));
        if (c.held_out) {
            // The training estimates the flags read: the metrics column of what the protocol tracks.
            const Objective& o = m.objectives.front();
            const auto& h = r["held_out"][o.name];
            const std::string column = h.contains("mi_reading") ? o.name + "." + h["mi_reading"].get<std::string>() : o.column();
            r["protocol"] = protocol_results(c, *c.held_out, column);
            if (h.contains("largest_term_share")) r["protocol"]["largest_term_share"] = h["largest_term_share"];  // final critic
        }
        return r;
    }

    // The first objective's MI on the test split (its first MI reading for a
    // divergence), each batch's negatives from a stream of its own: the same
    // number for the same critic, whenever it is asked.
    std::function<std::vector<double>()> held_out_estimate(Model& m, const Experiment& e) const override {
        if (m.objectives.empty()) return nullptr;
        if (e.eval.held_out_every > 0 && m.data->size("test") < e.data.batch_size)
            e.fail("eval.held_out_every", fmt::format("the protocol evaluates on the test split, and {} has {} test pairs, "
                                                      "fewer than a batch of {}: give the data more test pairs or a smaller batch",
                                                      m.data->describe(), m.data->size("test"), e.data.batch_size));
        return [&m, &e] {
            NoGradGuard ng;
            const std::int64_t batch = e.data.batch_size, n = m.data->size("test");
            const std::int64_t limit = e.eval.held_out_batches;
            std::vector<double> values;
            std::int64_t batches = 0;
            for (std::int64_t s = 0; s + batch <= n && (limit == 0 || batches < limit); s += batch, ++batches) {
                std::vector<std::int64_t> idx(batch);
                std::iota(idx.begin(), idx.end(), s);
                Rng neg(0, fmt::format("held-out negatives/{}", batches));
                const Bound b = m.objectives.front().score(Var(m.data->batch("test", idx)), Var(m.data->pair("test", idx)), neg, true);
                values.push_back((b.readings.empty() ? b.value : b.readings.front().value).item());
            }
            return values;
        };
    }
};

}  // namespace

std::shared_ptr<const Runner> mi_estimation_runner() { return std::make_shared<MiEstimationRunner>(); }

}  // namespace infomax::detail
