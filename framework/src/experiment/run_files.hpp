// Run-directory helpers shared by run, reproduce and suites (internal).
#pragma once

#include <filesystem>
#include <string>

namespace infomax {

// The CPU's model name (/proc/cpuinfo), recorded in manifests.
std::string cpu_model();

namespace detail {

// "fnv64:<16 hex digits>" of a file's bytes (manifests name plugin files by it).
std::string file_hash(const std::string& path);
// The newest checkpoints/step-NNNNNNNN.safetensors of a run directory, or "".
std::string latest_checkpoint(const std::filesystem::path& dir);

}  // namespace detail
}  // namespace infomax
