#include "infomax/version.hpp"

#include <fmt/format.h>
#include <oneapi/dnnl/dnnl.hpp>
#include <oneapi/tbb/version.h>

#include "infomax/runtime/threads.hpp"

namespace infomax {

const char* version() { return INFOMAX_VERSION; }

static const char* isa_name(dnnl::cpu_isa isa) {
    switch (isa) {
        case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
        case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
        case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
        case dnnl::cpu_isa::avx512_core: return "avx512_core";
        case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
        case dnnl::cpu_isa::avx2: return "avx2";
        case dnnl::cpu_isa::avx: return "avx";
        case dnnl::cpu_isa::sse41: return "sse41";
        default: return "other";
    }
}

std::string build_info() {
    const dnnl_version_t* v = dnnl::version();
    return fmt::format(
        "infomax {} (plugin ABI {})\n"
        "oneDNN {}.{}.{} (CPU runtime {}, ISA {})\n"
        "oneTBB {}\n"
        "threads {}",
        version(), kAbiVersion, v->major, v->minor, v->patch,
        v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : "other", isa_name(dnnl::get_effective_cpu_isa()),
        TBB_VERSION_STRING, threads());
}

}  // namespace infomax
