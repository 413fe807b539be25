// One harness per file format, chosen at compile time (FUZZ_TARGET): the
// safetensors, NPY, IDX and CIFAR-10 readers.
#include <cstdint>

#include "fuzz_support.hpp"
#include "infomax/data/files.hpp"
#include "infomax/data/idx.hpp"
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
#else
#error "FUZZ_TARGET_<name> is not set"
#endif
    } catch (const Error&) {
    }
    return 0;
}
