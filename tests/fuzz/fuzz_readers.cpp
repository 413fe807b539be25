// One harness per file format, chosen at compile time (FUZZ_TARGET): the
// safetensors, NPY, IDX and CIFAR-10 readers, and infomax estimate's sample
// reader (bmi's CSV layout or NPY).
#include <cstdint>

#include "fuzz_support.hpp"
#include "infomax/data/files.hpp"
#include "infomax/data/idx.hpp"
#include "infomax/experiment/estimate.hpp"
#include "infomax/runtime/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace infomax;
    try {
#if FUZZ_TARGET_safetensors
        data::read_safetensors(fuzz::write_input("input.safetensors", data, size));
#elif FUZZ_TARGET_npy
        data::read_npy(fuzz::write_input("input.npy", data, size));
#elif FUZZ_TARGET_idx
        data::read_idx(fuzz::write_input("input-idx", data, size));  // gzip or plain, by content
#elif FUZZ_TARGET_cifar
        data::read_cifar({fuzz::write_input("data_batch_1.bin", data, size)});
#elif FUZZ_TARGET_bmi_samples
        // infomax estimate's reader: bmi's CSV or an NPY (by its magic), the
        // dimensions from the input's first byte (1 to 4 and 1 to 4).
        if (size < 1) return 0;
        const std::int64_t dx = 1 + data[0] % 4, dy = 1 + (data[0] / 4) % 4;
        read_samples(fuzz::write_input("samples.csv", data + 1, size - 1), dx, dy);
#else
#error "FUZZ_TARGET_<name> is not set"
#endif
    } catch (const Error&) {
    }
    return 0;
}
