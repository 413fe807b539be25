#include "experiment/runner.hpp"

#include <utility>

#include "experiment/runners/common.hpp"

namespace infomax::detail {

// The one dispatch on the kind.
std::shared_ptr<const Runner> make_runner(Kind kind) {
    static const std::pair<Kind, std::shared_ptr<const Runner> (*)()> runners[] = {
        {Kind::dim, dim_runner},
        {Kind::supervised, supervised_runner},
        {Kind::mi_estimation, mi_estimation_runner},
        {Kind::gan, gan_runner},
    };
    for (const auto& [k, make] : runners)
        if (kind == k) return make();
    throw Error("no runner for this kind");  // every Kind has one above
}

}  // namespace infomax::detail
