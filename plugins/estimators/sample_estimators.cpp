// The classical MI estimators that read samples, not critic scores (the
// Beyond-Normal benchmark's baselines): KSG, CCA and a histogram. The
// numerics are the library's (infomax/eval/sample_mi.hpp); these are their
// plugin faces, named in specs and by `infomax estimate --estimator NAME`.
#include <infomax/eval/sample_mi.hpp>
#include <infomax/plugin/plugin.hpp>

namespace {

using namespace infomax;

eval::Samples samples_of(const Tensor& x, const Tensor& y) {
    return {x.data(), y.data(), x.size(0), x.size(1), y.size(1)};
}

// Kraskov, Stoegbauer & Grassberger (2004), estimator 1, max-norm.
class Ksg final : public SampleEstimator {
public:
    Ksg(const config::Params& p, BuildContext&) : k_(static_cast<int>(p.integer("k"))) {}
    std::string quantity() const override { return "mi_ksg"; }
    double estimate(const Tensor& x, const Tensor& y) override { return eval::ksg_mi(samples_of(x, y), k_); }

private:
    int k_;
};

// The MI of a Gaussian with the samples' canonical correlations: exact for
// Gaussian data, blind to anything non-linear.
class Cca final : public SampleEstimator {
public:
    Cca(const config::Params&, BuildContext&) {}
    std::string quantity() const override { return "mi_cca"; }
    double estimate(const Tensor& x, const Tensor& y) override { return eval::cca_mi(samples_of(x, y)); }
};

// The plug-in MI of a histogram with equal-width bins per dimension.
class Binned final : public SampleEstimator {
public:
    Binned(const config::Params& p, BuildContext&) : bins_(static_cast<int>(p.integer("bins"))) {}
    std::string quantity() const override { return "mi_binned"; }
    double estimate(const Tensor& x, const Tensor& y) override { return eval::binned_mi(samples_of(x, y), bins_); }

private:
    int bins_;
};

}  // namespace

INFOMAX_PLUGIN(SampleEstimator, Ksg, "ksg", "1.0.0",
               "Kraskov-Stoegbauer-Grassberger estimator 1 (k nearest neighbours, max-norm) on samples",
               R"yaml(type: object
additionalProperties: false
properties:
  k: {type: integer, minimum: 1, default: 5, description: "neighbours: small k, less bias; large k, less variance"}
)yaml")
INFOMAX_PLUGIN(SampleEstimator, Cca, "cca", "1.0.0",
               "Gaussian MI from the canonical correlations: -1/2 sum log(1 - rho^2); exact on Gaussians only",
               R"yaml(type: object
additionalProperties: false
properties: {}
)yaml")
INFOMAX_PLUGIN(SampleEstimator, Binned, "binned", "1.0.0",
               "plug-in MI of a histogram with equal-width bins per dimension (fails in high dimensions)",
               R"yaml(type: object
additionalProperties: false
properties:
  bins: {type: integer, minimum: 2, maximum: 1000, default: 5, description: "bins per dimension, over each dimension's range"}
)yaml")
