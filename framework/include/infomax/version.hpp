#pragma once

#include <string>

namespace infomax {

// Framework version (semantic) and the ABI version plugins are checked against.
const char* version();
// The git commit infomax was built from ("unknown" outside a checkout).
const char* git_commit();
// 2: Dataset gained true_mi, streamed, mode_centers/mode_std; BuildContext batch_size.
// 5: Estimator gained module() (a bound's own parameters) and ceiling(k).
constexpr int kAbiVersion = 6;

// One line per library: framework, oneDNN (with its CPU ISA and runtime), TBB.
std::string build_info();

}  // namespace infomax
