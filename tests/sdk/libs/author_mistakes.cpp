// Test plugin: parts with their author's mistakes, which infomax must blame on
// the part and its library, never on the user's spec.
#include "infomax/ops/ops.hpp"
#include "infomax/plugin/plugin.hpp"

using namespace infomax;

namespace {
// Returns one value per sample where a bound must be a scalar.
class VectorBound final : public Estimator {
public:
    VectorBound(const config::Params&, BuildContext&) {}
    std::string quantity() const override { return "test_vector"; }
    Bound bound(const Scores& s) override {
        Var v = ops::mean(s.pos, {1});
        return {v, -v, {}};
    }
};
// Reads `gain`, which its schema does not declare.
class Undeclared final : public Estimator {
public:
    Undeclared(const config::Params& p, BuildContext&) : gain_(p.number("gain")) {}
    std::string quantity() const override { return "test_undeclared"; }
    Bound bound(const Scores& s) override {
        Var v = ops::mean(s.pos) * static_cast<float>(gain_);
        return {v, -v, {}};
    }

private:
    double gain_;
};
// Scores pairs as one flat vector where (N, P) is documented.
class FlatScores final : public Discriminator {
public:
    FlatScores(const config::Params&, BuildContext&) {}
    Var pairs(const Var& a, const Var&) override { return ops::reshape(ops::flatten(a), {-1}); }
    std::string describe() const override { return "flat_scores"; }
};
}  // namespace

INFOMAX_PLUGIN(Discriminator, FlatScores, "test_flat_scores", "0.1.0", "scores of the wrong shape (wrong)", "type: object\n")
INFOMAX_PLUGIN(Estimator, VectorBound, "test_vector_bound", "0.1.0", "a bound per sample (wrong)", "type: object\n")
INFOMAX_PLUGIN(Estimator, Undeclared, "test_undeclared", "0.1.0", "reads an undeclared param (wrong)",
               "type: object\nproperties:\n  scale: {type: number, default: 1}\n")
