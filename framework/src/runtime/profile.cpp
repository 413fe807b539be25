#include "infomax/runtime/profile.hpp"

#include <string_view>

namespace infomax::profile {

namespace {
bool g_enabled = false;
std::map<std::string, Entry>& table() {
    static auto* t = new std::map<std::string, Entry>();  // never destroyed: usable at exit
    return *t;
}
}  // namespace

void set_enabled(bool on) { g_enabled = on; }
bool enabled() { return g_enabled; }

void record(const char* op, double seconds, double flops) {
    const std::string_view o(op);
    const char* family = o.starts_with("conv2d")                            ? "conv"
                         : o.starts_with("linear")                          ? "inner product"
                         : o.starts_with("matmul")                          ? "matmul"
                         : o.starts_with("batch_norm") || o.starts_with("max_pool") ? "batchnorm/pooling"
                         : o.starts_with("reorder")                         ? "reorder"
                         : o.starts_with("communication")                   ? "communication (MPI, waits included)"
                                                                            : "eltwise";
    Entry& e = table()[family];
    e.seconds += seconds;
    e.flops += flops;
    ++e.calls;
}

std::map<std::string, Entry> take() {
    std::map<std::string, Entry> out;
    out.swap(table());
    return out;
}

}  // namespace infomax::profile
