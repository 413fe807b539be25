// The built-in MI estimators. Each is a function of positive scores (N, P) and
// negative scores (N, K) (see infomax/plugin/parts.hpp), so each pairs with any
// discriminator. Values are in nats.
#include <cmath>

#include "infomax/ops/ops.hpp"
#include "infomax/plugin/plugin.hpp"

using namespace infomax;

namespace {

// Jensen-Shannon form (the TensorFlow reference and the bound derivation): E_P[-sp(-T)] - E_Q[sp(T)].
// It bounds 2 JSD - 2 log 2 (chance level: -2 log 2), not MI: a good training
// signal. Its optimal critic is T = log p(x,z)/p(x)p(z), so the same scores
// read through the NWJ bound with T + 1, E_P[T] + 1 - E_Q[e^T], estimate MI
// (Poole et al. 2019's JS estimator): that is Bound::mi.
class Jsd final : public Estimator {
public:
    Jsd(const config::Params&, BuildContext&) {}
    std::string quantity() const override { return "jsd"; }
    Bound bound(const Scores& s) override {
        Var v = ops::mean(-ops::softplus(-s.pos)) - ops::mean(ops::softplus(s.neg));
        Var mi;
        {
            NoGradGuard ng;  // a reading, not a training signal
            mi = ops::mean(s.pos) - ops::mean(ops::exp(s.neg)) + 1.0f;
        }
        return {v, -v, mi};
    }
};

// Donsker-Varadhan (MINE): E_P[T] - log E_Q[e^T]. The gradient of the log
// term is biased on minibatches; MINE's correction replaces its denominator by
// an exponential moving average of E_Q[e^T] (decay ema_decay). The value is
// the plain DV bound on the batch.
class Dv final : public Estimator {
public:
    Dv(const config::Params& p, BuildContext&) : decay_(p.number("ema_decay")) {}
    std::string quantity() const override { return "mi_dv"; }
    Bound bound(const Scores& s) override {
        const auto k = static_cast<float>(s.neg.numel());
        Var flat = ops::reshape(s.neg, {-1});
        Var log_mean_exp = ops::logsumexp(flat, 0) - std::log(k);
        Var value = ops::mean(s.pos) - log_mean_exp;
        // mean(e^T) / ema has the corrected gradient; its value is shifted, so
        // the loss is value-corrected to equal -value in the forward pass.
        const double batch = std::exp(static_cast<double>(log_mean_exp.item()));
        ema_ = ema_ < 0 ? batch : decay_ * ema_ + (1 - decay_) * batch;
        Var corrected = ops::mean(ops::exp(flat)) * static_cast<float>(1.0 / ema_);
        Var loss = -(ops::mean(s.pos) - corrected) + static_cast<float>(log_mean_exp.item() - corrected.item());
        return {value, loss, {}};
    }

    std::vector<double> state() const override { return {ema_}; }
    void set_state(const std::vector<double>& s) override {
        if (!s.empty()) ema_ = s[0];
    }

private:
    double decay_;
    double ema_ = -1;  // no estimate before the first batch
};

// InfoNCE: for each positive p of row i against that row's K negatives,
// p - log(e^p + sum_k e^{n_k}) + log(K + 1). Never exceeds log(K + 1).
class InfoNce final : public Estimator {
public:
    InfoNce(const config::Params&, BuildContext&) {}
    std::string quantity() const override { return "mi_infonce"; }
    std::string default_negatives() const override { return "all"; }
    Bound bound(const Scores& s) override {
        const std::int64_t n = s.pos.size(0), p = s.pos.size(1), k = s.neg.size(1);
        Var lse_neg = ops::logsumexp(s.neg, 1, true);                              // (N, 1)
        Var both = ops::concat({ops::reshape(s.pos, {n, p, 1}),
                                ops::reshape(ops::broadcast_to(lse_neg, {n, p}), {n, p, 1})}, 2);  // (N, P, 2)
        Var v = ops::mean(s.pos - ops::logsumexp(both, 2)) + static_cast<float>(std::log(double(k + 1)));
        return {v, -v, {}};
    }
};

// NWJ (f-divergence form of KL): E_P[T] - E_Q[e^{T - 1}].
class Nwj final : public Estimator {
public:
    Nwj(const config::Params&, BuildContext&) {}
    std::string quantity() const override { return "mi_nwj"; }
    Bound bound(const Scores& s) override {
        Var v = ops::mean(s.pos) - ops::mean(ops::exp(s.neg - 1.0f));
        return {v, -v, {}};
    }
};

}  // namespace

INFOMAX_PLUGIN(Estimator, Jsd, "jsd", "1.1.0", "Jensen-Shannon form E_P[-sp(-T)] - E_Q[sp(T)] (the TensorFlow reference, the bound derivation)",
               "type: object\nadditionalProperties: false\n")
INFOMAX_PLUGIN(Estimator, Dv, "dv", "1.0.0", "Donsker-Varadhan / MINE bound with the moving-average gradient correction",
               R"yaml(type: object
additionalProperties: false
properties:
  ema_decay:
    type: number
    minimum: 0
    exclusiveMaximum: 1
    default: 0.99
    description: decay of the moving average of E_Q[exp T] in the corrected gradient
)yaml")
INFOMAX_PLUGIN(Estimator, InfoNce, "infonce", "1.0.0", "InfoNCE bound, capped at log(1 + negatives per sample)",
               "type: object\nadditionalProperties: false\n")
INFOMAX_PLUGIN(Estimator, Nwj, "nwj", "1.0.0", "NWJ bound E_P[T] - E_Q[exp(T - 1)]",
               "type: object\nadditionalProperties: false\n")
