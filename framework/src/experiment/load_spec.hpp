// Loading a spec into a validated document (internal: Session::load is the
// public way, and gives the typed Experiment).
#pragma once

#include <string>
#include <vector>

#include "config/document.hpp"
#include "infomax/plugin/registry.hpp"

namespace infomax {

// Loads the spec with its overrides, loads the plugins it lists into the
// registry, validates it (spec schema and every part's params schema), and
// returns the resolved document with defaults filled in. All problems come in
// one config::SpecError.
config::Document load_spec(const std::string& file, const std::vector<std::string>& overrides, Registry& registry);

}  // namespace infomax
