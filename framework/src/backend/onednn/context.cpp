#include <chrono>

#include "infomax/runtime/profile.hpp"
#include "backend/onednn/context.hpp"

#include <fmt/format.h>

#include "infomax/runtime/error.hpp"
#include "infomax/runtime/precision.hpp"
#include "infomax/runtime/threads.hpp"

namespace infomax::detail {

using dnnl::memory;

// The engine, the stream and every primitive cache are created on first use
// and never destroyed: static destructors would otherwise tear down cached
// primitives after the engine they belong to (a crash at exit).
dnnl::engine& engine() {
    static auto* eng = new dnnl::engine(dnnl::engine::kind::cpu, 0);
    return *eng;
}

dnnl::stream& stream() {
    static auto* s = [] {
        threads();  // apply the process thread setting before the first primitive
        return new dnnl::stream(engine());
    }();
    return *s;
}

memory::dims dims_of(const Shape& s) {
    if (s.empty()) return {1};
    return memory::dims(s.begin(), s.end());
}

memory::desc plain_desc(const Shape& s, memory::data_type dt) {
    static const memory::format_tag tags[] = {
        memory::format_tag::a,     memory::format_tag::ab,     memory::format_tag::abc,
        memory::format_tag::abcd,  memory::format_tag::abcde,  memory::format_tag::abcdef};
    auto d = dims_of(s);
    if (d.size() > 6) throw Error(fmt::format("tensors of rank {} are not supported (at most 6)", d.size()));
    return memory::desc(d, dt, tags[d.size() - 1]);
}

memory::data_type compute_type() {
    return precision() == Precision::bf16 ? memory::data_type::bf16 : memory::data_type::f32;
}

memory::desc desc_of(const Tensor& t) { return t.is_plain() ? plain_desc(t.shape()) : t.layout()->md; }

memory mem(const Tensor& t) { return mem(t, desc_of(t)); }

memory mem(const Tensor& t, const memory::desc& md) {
    return memory(md, engine(), const_cast<float*>(t.data()));
}

Tensor tensor_for(const Shape& shape, const memory::desc& md) {
    if (md == plain_desc(shape)) return Tensor::empty(shape);
    return Tensor::empty_like_layout(shape, std::make_shared<Layout>(Layout{md}),
                                     md.data_type() == memory::data_type::bf16 ? DType::bf16 : DType::f32);
}

namespace {
struct ReorderEntry {
    dnnl::reorder prim;
};
PrimitiveCache<ReorderEntry>& reorder_cache() {
    static auto* c = new PrimitiveCache<ReorderEntry>();  // never destroyed: used at exit
    return *c;
}
}  // namespace

Tensor to_desc(const Tensor& t, const memory::desc& md) {
    memory::desc src = desc_of(t);
    if (src == md) return t;
    auto& e = reorder_cache().get(key_of(src) + "->" + key_of(md), [&] {
        try {
            return ReorderEntry{dnnl::reorder(dnnl::reorder::primitive_desc(engine(), src, engine(), md))};
        } catch (const dnnl::error& err) { rethrow("reorder", err); }
    });
    Tensor out = tensor_for(t.shape(), md);
    execute("reorder", e.prim, {{DNNL_ARG_FROM, mem(t, src)}, {DNNL_ARG_TO, mem(out, md)}});
    return out;
}

std::string key_of(const memory::desc& md) {
    const dnnl_memory_desc_t& d = md.data;
    std::string k = fmt::format("t{}f{}o{}:", int(d.data_type), int(d.format_kind), d.offset0);
    for (int i = 0; i < d.ndims; ++i) k += fmt::format("{}/{}/{},", d.dims[i], d.padded_dims[i],
                                                        d.format_desc.blocking.strides[i]);
    const auto& b = d.format_desc.blocking;
    for (int i = 0; i < b.inner_nblks; ++i) k += fmt::format("b{}x{}", b.inner_idxs[i], b.inner_blks[i]);
    return k;
}

void execute(const char* op, const dnnl::primitive& p, const std::unordered_map<int, memory>& args, double flops) {
    try {
        if (!profile::enabled()) {
            p.execute(stream(), args);
            stream().wait();
            return;
        }
        const auto t0 = std::chrono::steady_clock::now();
        p.execute(stream(), args);
        stream().wait();
        profile::record(op, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), flops);
    } catch (const dnnl::error& e) { rethrow(op, e); }
}

void rethrow(const char* op, const dnnl::error& e) {
    throw InternalError(fmt::format("{}: oneDNN error (status {}): {}", op, int(e.status), e.what()));
}

}  // namespace infomax::detail
