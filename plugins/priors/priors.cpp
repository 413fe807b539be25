// Priors the encoder's y is matched to (DIM's prior term).
#include "infomax/ops/ops.hpp"
#include "infomax/plugin/plugin.hpp"

using namespace infomax;

namespace {

// Uniform on [low, high) with a sigmoid on y (DIM paper): y is squashed into
// (0, 1) before it is compared with the samples.
class Uniform final : public Prior {
public:
    Uniform(const config::Params& p, BuildContext&) : low_(float(p.number("low"))), high_(float(p.number("high"))) {
        if (!(high_ > low_)) p.fail("high", "must be greater than low");
    }
    Tensor sample(const Shape& shape, Rng& rng) override {
        Tensor t = Tensor::empty(shape);
        for (std::int64_t i = 0; i < t.numel(); ++i) t.data()[i] = rng.uniform(low_, high_);
        return t;
    }
    Var transform(const Var& y) override {
        Var s = ops::sigmoid(y);
        return low_ == 0.0f && high_ == 1.0f ? s : s * (high_ - low_) + low_;
    }

private:
    float low_, high_;
};

class Normal final : public Prior {
public:
    Normal(const config::Params& p, BuildContext&) : mean_(float(p.number("mean"))), std_(float(p.number("std"))) {}
    Tensor sample(const Shape& shape, Rng& rng) override {
        Tensor t = Tensor::empty(shape);
        for (std::int64_t i = 0; i < t.numel(); ++i) t.data()[i] = mean_ + std_ * rng.normal();
        return t;
    }

private:
    float mean_, std_;
};

}  // namespace

INFOMAX_PLUGIN(Prior, Uniform, "uniform", "1.0.0", "uniform on [low, high), y passed through a sigmoid (DIM paper)",
               "type: object\nadditionalProperties: false\nproperties:\n"
               "  low: {type: number, default: 0}\n  high: {type: number, default: 1}\n")
INFOMAX_PLUGIN(Prior, Normal, "normal", "1.0.0", "normal with the given mean and standard deviation",
               "type: object\nadditionalProperties: false\nproperties:\n"
               "  mean: {type: number, default: 0}\n  std: {type: number, exclusiveMinimum: 0, default: 1}\n")
