// Test plugin: built with INFOMAX_PLUGIN_ABI_OVERRIDE=0.
#include "infomax/plugin/plugin.hpp"

using namespace infomax;

namespace {
class Again final : public Estimator {
public:
    Again(const config::Params&, BuildContext&) {}
    std::string quantity() const override { return "again"; }
    Bound bound(const Scores&) override { return {}; }
};
}  // namespace

INFOMAX_PLUGIN(Estimator, Again, "test_old", "0.1.0", "built for another ABI", "type: object\n")
