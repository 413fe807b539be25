// Test plugin: a constant estimator and a part that throws while building.
#include <stdexcept>

#include "infomax/ops/ops.hpp"
#include "infomax/plugin/plugin.hpp"

using namespace infomax;

namespace {
class ConstEstimator final : public Estimator {
public:
    ConstEstimator(const config::Params& p, BuildContext&) : value_(static_cast<float>(p.number("value"))) {}
    std::string quantity() const override { return "test_const"; }
    Bound bound(const Scores& s) override {
        Var v = ops::mean(s.pos) * 0.0f + value_;
        return {v, -v, {}};
    }

private:
    float value_;
};
class Throws final : public Estimator {
public:
    Throws(const config::Params&, BuildContext&) { throw std::runtime_error("out of coffee"); }
    std::string quantity() const override { return "never"; }
    Bound bound(const Scores&) override { return {}; }
};
}  // namespace

INFOMAX_PLUGIN(Estimator, ConstEstimator, "test_const", "0.1.0", "returns a constant",
               "type: object\nadditionalProperties: false\nproperties:\n  value: {type: number, default: 1.5}\n")
INFOMAX_PLUGIN(Estimator, Throws, "test_throws", "0.1.0", "throws while building", "type: object\n")
