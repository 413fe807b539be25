#include "infomax/runtime/precision.hpp"

#include <fmt/format.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <atomic>

#include "infomax/runtime/error.hpp"

namespace infomax {

namespace {
std::atomic<Precision> current{Precision::f32};
}

const char* to_string(Precision p) { return p == Precision::bf16 ? "bf16" : "f32"; }

Precision parse_precision(const std::string& s) {
    if (s == "f32") return Precision::f32;
    if (s == "bf16") return Precision::bf16;
    throw Error(fmt::format("precision '{}': expected f32 or bf16", s));
}

Precision precision() { return current.load(std::memory_order_relaxed); }

bool bf16_supported() {
    const auto isa = dnnl::get_effective_cpu_isa();
    return isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx;
}

void set_precision(Precision p) {
    if (p == Precision::bf16 && !bf16_supported())
        throw Error("precision bf16: this CPU has neither AVX512_BF16 nor AMX, so oneDNN would fall back to "
                    "reference kernels; use precision: f32");
    current.store(p, std::memory_order_relaxed);
}

}  // namespace infomax
