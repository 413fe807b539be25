// kind supervised: the encoder and a head trained with labels (cross-entropy),
// the reference DIM is compared with; evaluated by the classifier itself and
// by the same probes as dim.
#include <fmt/format.h>

#include "experiment/data_parallel.hpp"
#include "experiment/runners/common.hpp"
#include "infomax/eval/probes.hpp"
#include "infomax/nn/module.hpp"
#include "infomax/ops/ops.hpp"

namespace infomax::detail {

namespace {

class SupervisedRunner final : public Runner {
public:
    std::pair<Var, Var> build(Model& m, const Experiment& e, const Registry& registry, BuildContext& ctx,
                              Rng&) const override {
        refuse_gan_keys(e);
        refuse(e, !e.objectives.empty(), "objectives", "a supervised experiment trains with labels: remove objectives");
        refuse(e, e.prior.has_value(), "prior", "a supervised experiment has no prior: remove this key");
        auto sides = build_encoder(m, e, registry, ctx, false);
        if (m.data->classes() == 0)
            e.fail("data.type", fmt::format("supervised training needs labels; {} has none", m.data->describe()));
        const std::vector<std::int64_t> hidden = e.head ? e.head->hidden : std::vector<std::int64_t>{};
        const std::string act = e.head ? e.head->activation : "relu";
        m.head = nn::make_mlp(sides.second.size(1), hidden, m.data->classes(), nn::parse_activation(act), *ctx.rng, ctx.init);
        return sides;
    }

    void complete_batch(Trainer::Batch& b, const Model& m, const std::vector<std::int64_t>& idx) const override {
        b.labels = m.data->labels("train", idx);
    }

    bool data_parallel() const override { return true; }

    StepMetrics step(Trainer& t, const Trainer::Batch& batch) const override {
        Model& m = t.model();
        StepMetrics out;
        t.begin_step();
        m.encoder->train(true);
        const Features f = t.encode(Var(batch.x));  // data-parallel: this rank's rows
        m.head->train(true);
        Var logits = m.head->forward(gather_rows(f.global, Gathered::same_gradient));  // every rank's, alike
        Var ce = ops::cross_entropy(logits, batch.labels);
        const std::int64_t correct = eval::count_correct(logits.value(), batch.labels.data());
        out.emplace_back("supervised.cross_entropy", finite(ce.item(), t.step() + 1, "the cross-entropy"));
        out.emplace_back("supervised.accuracy", double(correct) / double(batch.labels.size()));
        t.finish_step(out, ce, Var());
        return out;
    }

    nlohmann::json evaluate(EvalContext& c) const override {
        nlohmann::json r = classifier_accuracy(c);
        r.update(probe_features(c));
        r.update(representation_measures(c));
        return r;
    }
};

}  // namespace

std::shared_ptr<const Runner> supervised_runner() { return std::make_shared<SupervisedRunner>(); }

}  // namespace infomax::detail
