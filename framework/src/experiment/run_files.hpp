// Run-directory helpers shared by run, reproduce and suites (internal).
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <filesystem>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace infomax {

// The CPU's model name (/proc/cpuinfo), recorded in manifests.
std::string cpu_model();

namespace detail {

// The JSON in a run's or suite's file; a missing, unreadable or damaged file is
// an Error naming it ("runs/x/manifest.json: not valid JSON (... at byte 120):
// the file is damaged or was cut short").
nlohmann::json read_json(const std::filesystem::path& file);

// "fnv64:<16 hex digits>" of a file's bytes (manifests name plugin files by it).
std::string file_hash(const std::string& path);
// The newest checkpoints/step-NNNNNNNN.safetensors of a run directory, or "".
std::string latest_checkpoint(const std::filesystem::path& dir);
// The leaves of a results.json by dotted path ("probes.global.linear.test_accuracy",
// "mi_levels.0.bias"); arrays longer than max_array stay one leaf.
void flatten_json(const nlohmann::json& j, const std::string& prefix,
                  std::vector<std::pair<std::string, nlohmann::json>>& out,
                  std::size_t max_array = std::numeric_limits<std::size_t>::max());

}  // namespace detail
}  // namespace infomax
