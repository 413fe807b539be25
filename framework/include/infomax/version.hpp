#pragma once

#include <string>

namespace infomax {

// Framework version (semantic) and the ABI version plugins are checked against.
const char* version();
constexpr int kAbiVersion = 1;

// One line per library: framework, oneDNN (with its CPU ISA and runtime), TBB.
std::string build_info();

}  // namespace infomax
