// Test plugin: defines a name that good.cpp defines too.
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

INFOMAX_PLUGIN(Estimator, Again, "test_const", "0.2.0", "same name as in good.cpp", "type: object\n")
