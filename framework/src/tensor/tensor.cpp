#include "infomax/tensor/tensor.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

#include "backend/onednn/context.hpp"
#include "infomax/runtime/error.hpp"

namespace infomax {

const char* to_string(DType d) { return d == DType::f32 ? "f32" : "bf16"; }

std::int64_t numel(const Shape& s) {
    std::int64_t n = 1;
    for (auto d : s) n *= d;
    return n;
}

std::string to_string(const Shape& s) { return fmt::format("[{}]", fmt::join(s, ", ")); }

namespace detail {

// Freed buffers are kept by size and handed out again, best fit (the smallest
// free buffer of at least the size asked, if at most twice it): a training
// step that repeats the same shapes reuses the same memory and asks the system
// for nothing once warm, and a size that is no longer asked for (the forward
// pass's, in the backward pass) serves smaller requests instead of idling. The
// pool is never destroyed (tensors may be released during static destruction).
class Pool {
public:
    static Pool& get() {
        static Pool* p = new Pool();
        return *p;
    }
    // A buffer of at least `bytes`: the smallest free one of at most twice
    // that size, else a new one. `bytes` becomes the size actually given.
    void* take(std::size_t& bytes) {
        {
            std::lock_guard<std::mutex> lock(mu_);
            auto it = free_.lower_bound(bytes);
            if (it != free_.end() && it->first <= 2 * bytes) {
                void* p = it->second.back();
                it->second.pop_back();
                bytes = it->first;
                if (it->second.empty()) free_.erase(it);
                ++stats_.reused;
                in_use(bytes);
                return p;
            }
        }
        void* p = std::aligned_alloc(64, std::max<std::size_t>(64, bytes));
        if (!p) throw Error(fmt::format("out of memory allocating {} bytes", bytes));
        std::lock_guard<std::mutex> lock(mu_);
        ++stats_.fresh_allocations;
        stats_.bytes_reserved += bytes;
        in_use(bytes);
        return p;
    }
    void give(void* p, std::size_t bytes) {
        std::lock_guard<std::mutex> lock(mu_);
        free_[bytes].push_back(p);
        stats_.bytes_in_use -= bytes;
    }
    MemoryStats stats() {
        std::lock_guard<std::mutex> lock(mu_);
        return stats_;
    }
    void release() {
        std::lock_guard<std::mutex> lock(mu_);
        for (auto& [bytes, fl] : free_) {
            for (void* p : fl) std::free(p);
            stats_.bytes_reserved -= static_cast<std::int64_t>(bytes * fl.size());
        }
        free_.clear();
    }

private:
    void in_use(std::size_t bytes) {
        stats_.bytes_in_use += bytes;
        stats_.peak_bytes_in_use = std::max(stats_.peak_bytes_in_use, stats_.bytes_in_use);
    }
    std::mutex mu_;
    std::map<std::size_t, std::vector<void*>> free_;  // by size, for the best fit
    MemoryStats stats_;
};

struct Buffer {
    explicit Buffer(std::size_t n) : bytes((n + 63) / 64 * 64), ptr(Pool::get().take(bytes)) {}  // take() may round bytes up
    ~Buffer() { Pool::get().give(ptr, bytes); }
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
    std::size_t bytes;
    void* ptr;
};

}  // namespace detail

MemoryStats memory_stats() { return detail::Pool::get().stats(); }
void release_cached_memory() { detail::Pool::get().release(); }

static void check_shape(const Shape& s) {
    for (auto d : s)
        if (d < 0) throw ShapeError(fmt::format("negative dimension in shape {}", to_string(s)));
}

Tensor Tensor::empty(Shape shape, DType dtype) {
    check_shape(shape);
    if (dtype != DType::f32) throw Error("bf16 tensors are not supported yet: use f32");
    Tensor t;
    t.buf_ = std::make_shared<detail::Buffer>(std::max<std::int64_t>(1, infomax::numel(shape)) * 4);
    t.shape_ = std::move(shape);
    t.dtype_ = dtype;
    return t;
}

Tensor Tensor::empty_like_layout(Shape shape, std::shared_ptr<const detail::Layout> layout, DType dtype) {
    if (!layout) return empty(std::move(shape), dtype);
    check_shape(shape);
    Tensor t;
    t.buf_ = std::make_shared<detail::Buffer>(layout->md.get_size());
    t.shape_ = std::move(shape);
    t.dtype_ = dtype;
    t.layout_ = std::move(layout);
    return t;
}

Tensor Tensor::zeros(Shape shape) { return full(std::move(shape), 0.0f); }

Tensor Tensor::full(Shape shape, float value) {
    Tensor t = empty(std::move(shape));
    t.fill(value);
    return t;
}

Tensor Tensor::from(Shape shape, const std::vector<float>& values) {
    if (static_cast<std::int64_t>(values.size()) != infomax::numel(shape))
        throw ShapeError(fmt::format("Tensor::from: {} values for shape {} ({} elements)", values.size(),
                                     to_string(shape), infomax::numel(shape)));
    Tensor t = empty(std::move(shape));
    std::copy(values.begin(), values.end(), t.data());
    return t;
}

std::int64_t Tensor::size(std::int64_t d) const {
    const auto r = dim();
    if (d < -r || d >= r)
        throw ShapeError(fmt::format("dimension {} out of range for shape {}", d, to_string(shape_)));
    return shape_[d < 0 ? d + r : d];
}

float* Tensor::data() { return buf_ ? static_cast<float*>(buf_->ptr) : nullptr; }
const float* Tensor::data() const { return buf_ ? static_cast<const float*>(buf_->ptr) : nullptr; }
std::size_t Tensor::bytes() const { return layout_ ? layout_->md.get_size() : numel() * 4; }

Tensor Tensor::plain() const {
    if (is_plain()) return *this;
    return detail::to_desc(*this, detail::plain_desc(shape_));
}

Tensor Tensor::clone() const {
    Tensor t = empty_like_layout(shape_, layout_, dtype_);
    std::memcpy(t.data(), data(), bytes());
    return t;
}

Tensor Tensor::view(Shape shape) const {
    if (!is_plain()) return plain().view(std::move(shape));
    if (infomax::numel(shape) != numel())
        throw ShapeError(fmt::format("cannot view shape {} as {}: {} vs {} elements", to_string(shape_),
                                     to_string(shape), numel(), infomax::numel(shape)));
    Tensor t = *this;
    t.shape_ = std::move(shape);
    return t;
}

std::vector<float> Tensor::to_vector() const {
    Tensor p = plain();
    return std::vector<float>(p.data(), p.data() + p.numel());
}

float Tensor::item() const {
    if (numel() != 1)
        throw ShapeError(fmt::format("item() needs a tensor of one element, got shape {}", to_string(shape_)));
    return plain().data()[0];
}

void Tensor::fill(float v) {
    if (!is_plain()) *this = plain();
    std::fill(data(), data() + numel(), v);
}

bool Tensor::same_layout(const Tensor& o) const {
    if (is_plain() || o.is_plain()) return is_plain() == o.is_plain();
    return layout_ == o.layout_ || layout_->md == o.layout_->md;
}

}  // namespace infomax
