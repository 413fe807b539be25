// The one place that knows oneDNN's engine, stream, memory descriptors and
// primitive cache. Internal to the framework: public headers never include
// dnnl.hpp. oneDNN is called only from the thread that runs the model.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "infomax/runtime/threads.hpp"
#include "infomax/tensor/tensor.hpp"

namespace infomax::detail {

struct Layout {
    dnnl::memory::desc md;
};

dnnl::engine& engine();
dnnl::stream& stream();

dnnl::memory::dims dims_of(const Shape& s);
// Dense row-major descriptor for a logical shape (rank 0 is treated as {1}).
dnnl::memory::desc plain_desc(const Shape& s, dnnl::memory::data_type dt = dnnl::memory::data_type::f32);
// The data type conv2d, linear and matmul read their inputs and weights in:
// bf16 under Precision::bf16 (infomax/runtime/precision.hpp), else f32.
dnnl::memory::data_type compute_type();
// The physical descriptor of t: its blocked layout, or plain.
dnnl::memory::desc desc_of(const Tensor& t);
// A descriptor of t's storage seen as `md` (same bytes), as a dnnl::memory.
dnnl::memory mem(const Tensor& t);
dnnl::memory mem(const Tensor& t, const dnnl::memory::desc& md);
// A new tensor of logical `shape` whose storage follows `md` (f32 or bf16 data;
// a bf16 tensor is never plain: plain() converts it to f32).
Tensor tensor_for(const Shape& shape, const dnnl::memory::desc& md);
// t laid out as `md`: t itself when it already is, else a reordered copy.
Tensor to_desc(const Tensor& t, const dnnl::memory::desc& md);
// A stable text key of a descriptor (dims, type, strides, blocking).
std::string key_of(const dnnl::memory::desc& md);

// Run a primitive on the model thread's stream; oneDNN errors become
// InternalError naming the op. `flops` feeds the profile (infomax/runtime/profile.hpp).
void execute(const char* op, const dnnl::primitive& p,
             const std::unordered_map<int, dnnl::memory>& args, double flops = 0);
[[noreturn]] void rethrow(const char* op, const dnnl::error& e);

// Primitive descriptors and primitives, created once per key (shape, params,
// layout) and thread count, and reused. A primitive keeps the thread count it
// was created with (oneDNN opens its OpenMP teams with it), so a run whose
// count changes (experiment/thread_schedule.hpp) gets new ones. Entries live
// until exit, so references stay valid.
// Every cache is allocated with `new` and never destroyed (like the engine):
// a static destructor would run after the engine's and crash at exit.
template <class Entry>
class PrimitiveCache {
public:
    template <class Make>
    Entry& get(const std::string& shape_key, Make&& make) {
        const std::string key = std::to_string(threads()) + '|' + shape_key;
        std::lock_guard<std::mutex> lock(mu_);
        auto it = map_.find(key);
        if (it != map_.end()) return *it->second;
        auto e = std::make_unique<Entry>(make());
        Entry& ref = *e;
        map_.emplace(key, std::move(e));
        return ref;
    }

private:
    std::mutex mu_;
    std::unordered_map<std::string, std::unique_ptr<Entry>> map_;
};

}  // namespace infomax::detail
