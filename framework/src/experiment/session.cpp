#include "experiment/load_spec.hpp"
#include <fmt/format.h>

#include "infomax/experiment/session.hpp"

#include "infomax/config/spec.hpp"
#include "infomax/experiment/model.hpp"
#include "infomax/plugin/registry.hpp"
#include "infomax/runtime/console.hpp"
#include "infomax/runtime/precision.hpp"
#include "infomax/runtime/threads.hpp"

namespace infomax {

struct Session::Scope {
    explicit Scope(Precision p) : precision(p) {}
    PrecisionScope precision;
};

Session::Session(SessionOptions options) : options_(std::move(options)), registry_(std::make_unique<Registry>()) {
    registry_->load_defaults(options_.plugin_paths);
    console::detail(fmt::format("plugins: {} parts registered (built-in, $INFOMAX_PLUGIN_PATH, --plugin-path)",
                                registry_->entries().size()));
}

Session::~Session() = default;

Registry& Session::registry() { return *registry_; }

Experiment Session::load(const std::string& file, const std::vector<std::string>& overrides) {
    return Experiment::from(load_spec(file, overrides, *registry_));
}

int Session::threads_for(const Experiment& e) const {
    if (options_.threads > 0) return options_.threads;  // the command line wins
    if (e.train.threads > 0) return e.train.threads;    // then the spec
    return default_threads();
}

bool Session::threads_follow_load(const Experiment& e) const {
    return options_.threads <= 0 && e.train.threads <= 0 && env_threads() == 0;
}

int Session::apply(const Experiment& e) {
    const int n = threads_for(e);
    set_threads(n);
    console::detail(fmt::format("threads: {} ({})", n,
                                options_.threads > 0  ? "--threads"
                                : e.train.threads > 0 ? "the spec's train.threads"
                                : env_threads() > 0   ? "$INFOMAX_THREADS"
                                                      : "the cores this process may use"));
    scope_.reset();  // restore the previous precision before taking the next
    // Without bf16 instructions build_model refuses the spec at its key (located).
    if (e.precision == Precision::f32 || bf16_supported()) scope_ = std::make_unique<Scope>(e.precision);
    return n;
}

}  // namespace infomax
