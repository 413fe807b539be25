// Test plugin: a registry name with capitals ("Test_Upper"), which the docs
// say cannot be; the library must be refused, naming it and a name to use.
#include "infomax/ops/ops.hpp"
#include "infomax/plugin/plugin.hpp"

using namespace infomax;

namespace {
class Upper final : public Estimator {
public:
    Upper(const config::Params&, BuildContext&) {}
    std::string quantity() const override { return "test_upper"; }
    Bound bound(const Scores& s) override {
        Var v = ops::mean(s.pos);
        return {v, -v, {}};
    }
};
}  // namespace

INFOMAX_PLUGIN(Estimator, Upper, "Test-Upper", "0.1.0", "a name with capitals", "type: object\n")
