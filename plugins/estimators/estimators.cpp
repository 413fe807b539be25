// The built-in MI estimators. Each is a function of positive scores (N, P) and
// negative scores (N, K) (see infomax/plugin/parts.hpp), so each pairs with any
// discriminator. Values are in nats.
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string>

#include "infomax/nn/module.hpp"
#include "infomax/ops/ops.hpp"
#include "infomax/plugin/plugin.hpp"

using namespace infomax;

namespace {

// DV's estimate with the partition term's ratios clipped to [e^-tau, e^tau]
// (SMILE), on the values of the scores: a reading, without gradient.
double clipped_dv(const Var& pos, const Var& neg, double tau) {
    const std::vector<float> p = pos.value().to_vector(), n = neg.value().to_vector();
    double mean_pos = 0, max = -tau;
    for (float v : p) mean_pos += v;
    mean_pos /= static_cast<double>(p.size());
    for (float v : n) max = std::max(max, std::clamp<double>(v, -tau, tau));
    double sum = 0;  // log-mean-exp of the clipped scores, shifted by their max
    for (float v : n) sum += std::exp(std::clamp<double>(v, -tau, tau) - max);
    return mean_pos - (max + std::log(sum / static_cast<double>(n.size())));
}

// The MI readings of a divergence's critic, from the log density ratio its
// optimum implies at the positive and negative pairs (`log_r` of the scores,
// computed here without gradient): SMILE's clipped DV (tau 5; its variance
// does not grow with I, so one bad batch cannot print -4.8e7 nats) first, then
// the NWJ bound, E_P[log r] + 1 - E_Q[r] (Poole et al.'s JS estimator;
// unbiased per batch, variance growing with e^I).
Var identity(const Var& t) { return t; }
std::vector<Reading> mi_readings(const Scores& s, Var (*log_r)(const Var&) = identity) {
    NoGradGuard ng;
    const Var pos = log_r(s.pos), neg = log_r(s.neg);
    Var nwj = ops::mean(pos) - ops::mean(ops::exp(neg)) + 1.0f;
    return {{"mi_smile", Var(Tensor::scalar(static_cast<float>(clipped_dv(pos, neg, 5.0))))}, {"mi_nwj", nwj}};
}

// The Jensen-Shannon (f-GAN's GAN) form E_P[-sp(-T)] - E_Q[sp(T)]: jsd's bound, smile's training signal.
Var jsd_form(const Scores& s) { return ops::mean(-ops::softplus(-s.pos)) - ops::mean(ops::softplus(s.neg)); }

// A part without params.
const char* kNoParams = "type: object\nadditionalProperties: false\n";

// Jensen-Shannon form (the TensorFlow reference and the bound derivation): E_P[-sp(-T)] - E_Q[sp(T)].
// It bounds 2 JSD - 2 log 2 (chance level: -2 log 2), not MI: a good training
// signal. Its optimal critic is T = log p(x,z)/p(x)p(z), so the same scores
// read as log r give MI (mi_readings: SMILE-clipped, and Poole et al. 2019's
// JS estimator, NWJ with T + 1).
class Jsd final : public Estimator {
public:
    Jsd(const config::Params&, BuildContext&) {}
    std::string quantity() const override { return "jsd"; }
    Bound bound(const Scores& s) override {
        Var v = jsd_form(s);
        return {v, -v, mi_readings(s)};
    }
};

// Donsker-Varadhan (MINE): E_P[T] - log E_Q[e^T]. The gradient of the log
// term is biased on minibatches; MINE's correction replaces its denominator by
// an exponential moving average of E_Q[e^T] (decay ema_decay). The value is
// the plain DV bound on the batch.
class Dv final : public Estimator {
public:
    bool exponential_partition() const override { return true; }
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
    double ceiling(std::int64_t k) const override { return std::log(double(k + 1)); }
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
    bool exponential_partition() const override { return true; }
    Nwj(const config::Params&, BuildContext&) {}
    std::string quantity() const override { return "mi_nwj"; }
    Bound bound(const Scores& s) override {
        Var v = ops::mean(s.pos) - ops::mean(ops::exp(s.neg - 1.0f));
        return {v, -v, {}};
    }
};

// ---- f-divergences by Fenchel duality (Nowozin et al. 2016, f-GAN) ---------
// D_f(P||Q) >= E_P[g(T)] - E_Q[f*(g(T))], with P the joint and Q the product
// of marginals; g is the divergence's output activation. The bound is tight at
// g(T*) = f'(r), r = p/q the density ratio, so log r can be read from the
// critic and read as MI (mi_readings) beside the divergence. (KL's own bound
// is NWJ: `nwj`; the GAN divergence's is `jsd`.)

// Reverse KL, KL(Q||P) (the lautum information): g(v) = -e^{-v},
// f*(t) = -1 - log(-t): E_P[-e^{-T}] + 1 - E_Q[T]. Optimal T = log r.
class ReverseKl final : public Estimator {
public:
    ReverseKl(const config::Params&, BuildContext&) {}
    std::string quantity() const override { return "kl_reverse"; }
    Bound bound(const Scores& s) override {
        Var v = ops::mean(-ops::exp(-s.pos)) - ops::mean(s.neg) + 1.0f;
        return {v, -v, mi_readings(s)};
    }
};

// Pearson chi^2: g(v) = v, f*(t) = t^2/4 + t: E_P[T] - E_Q[T^2/4 + T].
// Optimal T = 2(r - 1), so log r = log(1 + T/2) where T > -2.
class Pearson final : public Estimator {
public:
    Pearson(const config::Params&, BuildContext&) {}
    std::string quantity() const override { return "chi2_pearson"; }
    std::string unit() const override { return ""; }  // a chi-square divergence has no unit
    Bound bound(const Scores& s) override {
        Var v = ops::mean(s.pos) - ops::mean(s.neg * s.neg * 0.25f + s.neg);
        // r = 1 + T/2 kept above 1e-6: a critic below -2 claims a ratio it cannot have.
        return {v, -v, mi_readings(s, [](const Var& t) { return ops::log(ops::relu(t * 0.5f + 1.0f - 1e-6f) + 1e-6f); })};
    }
};

// Squared Hellinger: g(v) = 1 - e^{-v}, f*(t) = t / (1 - t):
// E_P[1 - e^{-T}] - E_Q[e^T - 1]. Optimal T = log(r) / 2.
class Hellinger final : public Estimator {
public:
    Hellinger(const config::Params&, BuildContext&) {}
    std::string quantity() const override { return "hellinger2"; }
    std::string unit() const override { return ""; }  // a squared Hellinger distance is in [0, 2], no unit
    Bound bound(const Scores& s) override {
        Var v = ops::mean(1.0f - ops::exp(-s.pos)) - ops::mean(ops::exp(s.neg) - 1.0f);
        return {v, -v, mi_readings(s, [](const Var& t) { return t * 2.0f; })};
    }
};

// ---- bounds on MI from Poole et al. 2019 and Song & Ermon 2020 -------------

// A learned constant baseline: log a, one parameter the bound trains with its
// critic (Estimator::module). Poole et al. learn a(y), a network on y; an
// estimator sees scores only, so its baseline cannot depend on y.
class LogBaseline final : public nn::Module {
public:
    explicit LogBaseline(float init) : log_a(Tensor::from({1}, {init}), true) {}
    Var forward(const Var&) override { return log_a; }
    std::string describe() const override { return "learned baseline log a"; }
    Var log_a;  // (1)

protected:
    void collect(const std::string& p, std::vector<nn::NamedParameter>* ps, std::vector<nn::NamedBuffer>*) override {
        if (ps) ps->push_back({p + "log_a", log_a});
    }
};

// log a: the fixed value, or the learned one when learn_baseline is set.
struct Baseline {
    explicit Baseline(const config::Params& p)
        : fixed(static_cast<float>(p.number("log_baseline"))),
          learned(p.boolean("learn_baseline") ? std::make_unique<LogBaseline>(fixed) : nullptr) {}
    Var log_a() const { return learned ? learned->log_a : Var(Tensor::from({1}, {fixed})); }
    float fixed;
    std::unique_ptr<LogBaseline> learned;
};

// The baseline's params, shared by tuba's and interpolated's schemas (a macro:
// a schema is a string literal that outlives registration).
#define INFOMAX_BASELINE_PARAMS                                                                                  \
    "\n  log_baseline: {type: number, default: 0, description: \"log a, the baseline (a = 1 at 0; NWJ's a = e at 1); " \
    "where the learned one starts\"}\n"                                                                              \
    "  learn_baseline: {type: boolean, default: false, description: \"learn log a (one constant) with the critic "     \
    "instead of fixing it\"}\n"

// TUBA (Poole et al. 2019, eq. 9): I >= 1 + E_P[T] - log a - E_Q[e^T] / a,
// for any a > 0; a = e gives NWJ. The best constant, log a = log E_Q[e^T],
// gives DV's value: a learned baseline moves towards it.
class Tuba final : public Estimator {
public:
    bool exponential_partition() const override { return true; }
    Tuba(const config::Params& p, BuildContext&) : baseline_(p) {}
    std::string quantity() const override { return "mi_tuba"; }
    nn::Module* module() override { return baseline_.learned.get(); }
    Bound bound(const Scores& s) override {
        const Var log_a = baseline_.log_a();
        Var v = ops::mean(s.pos) - ops::mean(ops::exp(s.neg - log_a)) + (1.0f - ops::sum(log_a));
        return {v, -v, {}};
    }

private:
    Baseline baseline_;
};

// log(alpha e^u + (1 - alpha) e^v), u and v broadcast to `shape`.
Var log_mix(const Var& u, const Var& v, double alpha, const Shape& shape) {
    if (alpha >= 1) return ops::broadcast_to(u, shape);
    if (alpha <= 0) return ops::broadcast_to(v, shape);
    Shape column = shape;
    column.push_back(1);
    auto weighted = [&](const Var& t, double w) {
        return ops::reshape(ops::broadcast_to(t, shape) + static_cast<float>(std::log(w)), column);
    };
    const auto last = static_cast<std::int64_t>(shape.size());
    return ops::logsumexp(ops::concat({weighted(u, alpha), weighted(v, 1 - alpha)}, last), last);
}

// The interpolated bound I_alpha (Poole et al. 2019, eq. 11): TUBA whose
// baseline for y mixes InfoNCE's mean over K samples of x with a:
//   I >= 1 + E[log e^T(x1,y) / b(y; x_1..K)] - E[e^T(x1,y) / b(y; x_1..K)],
//   b = alpha (1/K) sum_k e^T(x_k, y) + (1 - alpha) a,
// the first expectation over y paired with x1, the second over y independent
// of every x_k. From a row of scores (one y, its P positives, K negatives)
// as Poole et al.'s code forms it: the joint term holds one negative out in
// turn, so the K samples are the positive and the other K - 1 negatives;
// the marginal term pairs each negative with the K negatives. alpha = 0 is
// TUBA; as alpha grows the variance falls and a ceiling comes down: e^T(x1,y)
// / b is at most K / alpha and the marginal term is positive, so I_alpha <=
// 1 + log(K / alpha); at alpha = 1 the marginal term is exactly 1, so <= log K.
class Interpolated final : public Estimator {
public:
    bool exponential_partition() const override { return true; }
    Interpolated(const config::Params& p, BuildContext&) : alpha_(p.number("alpha")), baseline_(p) {}
    std::string quantity() const override { return "mi_interpolated"; }
    std::string default_negatives() const override { return "all"; }
    nn::Module* module() override { return baseline_.learned.get(); }
    double ceiling(std::int64_t k) const override {
        if (alpha_ <= 0) return std::numeric_limits<double>::infinity();
        return alpha_ >= 1 ? std::log(double(k)) : 1 + std::log(double(k) / alpha_);
    }
    Bound bound(const Scores& s) override {
        const std::int64_t n = s.pos.size(0), p = s.pos.size(1), k = s.neg.size(1);
        // Sums of e^T shifted by the largest score they hold, so they neither overflow
        // nor vanish: the row's negatives by their largest, the joint sets by the
        // largest of the row's positives and negatives.
        const std::vector<float> pv = s.pos.value().to_vector(), nv = s.neg.value().to_vector();
        std::vector<float> top_neg(static_cast<std::size_t>(n)), top(static_cast<std::size_t>(n)), scale(top.size());
        for (std::int64_t i = 0; i < n; ++i) {
            top_neg[i] = *std::max_element(nv.begin() + i * k, nv.begin() + (i + 1) * k);
            top[i] = std::max(top_neg[i], *std::max_element(pv.begin() + i * p, pv.begin() + (i + 1) * p));
            scale[i] = std::exp(top_neg[i] - top[i]);
        }
        const Var mn(Tensor::from({n, 1}, top_neg)), m(Tensor::from({n, 1}, top));
        const auto log_k = static_cast<float>(std::log(double(k)));
        const Var log_a = baseline_.log_a();
        Var e_neg = ops::exp(s.neg - mn);                 // (N, K), its largest 1
        Var sum_neg = ops::sum(e_neg, {1}, true);         // (N, 1), >= 1
        // Marginal term: each negative against the mean over the row's K negatives.
        Var marginal_base = log_mix(ops::log(sum_neg) + mn - log_k, log_a, alpha_, {n, 1});
        Var marginal = ops::mean(ops::exp(s.neg - marginal_base));
        // Joint term: the positive and the row's negatives but negative j, for each j
        // (clamped at 0: rounding can take the difference below it; 1e-30 keeps the
        // log finite where every e^T of the set underflows).
        Var others = ops::relu(ops::reshape(sum_neg, {n, 1, 1}) - ops::reshape(e_neg, {n, 1, k})) *
                     Var(Tensor::from({n, 1, 1}, scale));                                         // (N, 1, K)
        Var with_pos = others + ops::reshape(ops::exp(s.pos - m), {n, p, 1}) + 1e-30f;           // (N, P, K)
        Var mean_joint = ops::log(with_pos) + ops::reshape(m, {n, 1, 1}) - log_k;
        Var joint = ops::mean(ops::reshape(s.pos, {n, p, 1}) - log_mix(mean_joint, log_a, alpha_, {n, p, k}));
        Var v = joint - marginal + 1.0f;
        return {v, -v, {}};
    }

private:
    double alpha_;
    Baseline baseline_;
};

// SMILE (Song & Ermon 2020): the DV estimate with the partition term's ratios
// clipped to [e^-tau, e^tau], E_P[T] - log E_Q[clip(e^T, e^-tau, e^tau)],
// which trades a bias for a variance that no longer grows with MI. As in
// their code, the critic trains on the JSD form (the loss) and the clipped DV
// value is read from it.
class Smile final : public Estimator {
public:
    bool exponential_partition() const override { return true; }
    Smile(const config::Params& p, BuildContext&) : tau_(p.number("clip")) {}
    std::string quantity() const override { return "mi_smile"; }
    Bound bound(const Scores& s) override {
        return {Var(Tensor::scalar(static_cast<float>(clipped_dv(s.pos, s.neg, tau_)))), -jsd_form(s), {}};
    }

private:
    double tau_;
};

}  // namespace

INFOMAX_PLUGIN(Estimator, Jsd, "jsd", "1.1.0",
               "Jensen-Shannon form E_P[-sp(-T)] - E_Q[sp(T)], f-GAN's GAN divergence, 2 JSD - log 4 nats (the "
               "TensorFlow reference, the bound derivation); MI read from T as log r (mi_smile, mi_nwj)",
               kNoParams)
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
               kNoParams)
INFOMAX_PLUGIN(Estimator, Nwj, "nwj", "1.0.0", "NWJ bound E_P[T] - E_Q[exp(T - 1)]",
               kNoParams)
INFOMAX_PLUGIN(Estimator, ReverseKl, "reverse_kl", "1.0.0",
               "f-divergence KL(Q||P) by Fenchel duality: E_P[-exp(-T)] + 1 - E_Q[T] nats; MI read from T as log r (mi_smile, mi_nwj)",
               kNoParams)
INFOMAX_PLUGIN(Estimator, Pearson, "pearson", "1.0.0",
               "f-divergence Pearson chi^2 by Fenchel duality: E_P[T] - E_Q[T^2/4 + T]; MI read from log(1 + T/2) as log r (mi_smile, mi_nwj)",
               kNoParams)
INFOMAX_PLUGIN(Estimator, Hellinger, "hellinger", "1.0.0",
               "f-divergence squared Hellinger by Fenchel duality: E_P[1 - exp(-T)] - E_Q[exp(T) - 1]; MI read from 2T as log r (mi_smile, mi_nwj)",
               kNoParams)
INFOMAX_PLUGIN(Estimator, Tuba, "tuba", "1.1.0",
               "TUBA bound with a fixed or learned constant baseline a: 1 + E_P[T] - log a - E_Q[exp T] / a (Poole et al. "
               "2019; a = e is NWJ)",
               "type: object\nadditionalProperties: false\nproperties:" INFOMAX_BASELINE_PARAMS)
INFOMAX_PLUGIN(Estimator, Interpolated, "interpolated", "1.0.0",
               "the interpolated bound I_alpha (Poole et al. 2019): TUBA with the baseline alpha * InfoNCE's mean of exp T over "
               "the batch + (1 - alpha) * a; alpha 0 is TUBA, 1 a leave-one-out InfoNCE",
               R"yaml(type: object
additionalProperties: false
properties:
  alpha: {type: number, minimum: 0, maximum: 1, default: 0.5, description: "weight of InfoNCE's batch mean in the baseline (0: TUBA; towards 1, less variance, more bias and at most 1 + log(K / alpha); log K at 1)"})yaml" INFOMAX_BASELINE_PARAMS)
INFOMAX_PLUGIN(Estimator, Smile, "smile", "1.0.0",
               "SMILE (Song & Ermon 2020): E_P[T] - log E_Q[clip(exp T, exp -tau, exp tau)]; the critic trains on the JSD form",
               R"yaml(type: object
additionalProperties: false
properties:
  clip: {type: number, exclusiveMinimum: 0, default: 5.0, description: "tau: the density ratios of the partition term are clipped to [exp(-tau), exp(tau)]"}
)yaml")
