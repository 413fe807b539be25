// The files a resume reads from a run directory: a checkpoint (verified on
// load) and metrics.csv / metrics.jsonl (trimmed to the checkpoint's step).
// The first byte picks which file the rest of the input is.
#include <cstdint>
#include <filesystem>

#include "fuzz_support.hpp"
#include "infomax/runtime/error.hpp"
#include "run_dir/run_dir.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace infomax;
    if (size == 0) return 0;
    const auto dir = fuzz::work_dir() / "run";
    std::filesystem::remove_all(dir);
    const int which = data[0] % 3;
    try {
        if (which == 0) {
            fuzz::write_input("run/checkpoints/step-00000012.safetensors", data + 1, size - 1);
            detail::load_checkpoint(dir);
        } else {
            fuzz::write_input(which == 1 ? "run/metrics.csv" : "run/metrics.jsonl", data + 1, size - 1);
            detail::Metrics m(dir, 12);
        }
    } catch (const Error&) {
    }
    return 0;
}
