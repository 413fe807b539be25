// Test plugin: a params schema with a misspelt keyword (`defualt`), which would
// silently give no default; the library must be refused, naming it.
#include "infomax/ops/ops.hpp"
#include "infomax/plugin/plugin.hpp"

using namespace infomax;

namespace {
class Typo final : public Estimator {
public:
    Typo(const config::Params&, BuildContext&) {}
    std::string quantity() const override { return "test_typo"; }
    Bound bound(const Scores& s) override {
        Var v = ops::mean(s.pos);
        return {v, -v, {}};
    }
};
}  // namespace

INFOMAX_PLUGIN(Estimator, Typo, "test_typo", "0.1.0", "a schema with a typo",
               "type: object\nproperties:\n  value: {type: number, defualt: 1.5}\n")
