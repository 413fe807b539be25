// Tensor: an N-d array of f32 (bf16 reserved) in aligned, pooled storage.
//
// A tensor is a cheap handle: copies share the buffer. Its *logical* shape is
// always row-major (N, C, H, W, ...). Its *physical* layout is either plain
// (dense row-major, layout() == nullptr) or a oneDNN blocked format chosen by a
// compute-heavy primitive; blocked tensors flow between oneDNN ops and are
// reordered to plain only where an op needs plain data (see plain()).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

namespace infomax {

enum class DType : std::uint8_t { f32, bf16 };
const char* to_string(DType);

using Shape = std::vector<std::int64_t>;
std::int64_t numel(const Shape& s);
std::string to_string(const Shape& s);

namespace detail {
struct Layout;  // a oneDNN memory descriptor; defined in the backend
struct Buffer;  // pooled aligned bytes
}  // namespace detail

class Tensor {
public:
    Tensor() = default;

    // Uninitialised plain tensor (storage comes from the buffer pool).
    static Tensor empty(Shape shape, DType dtype = DType::f32);
    static Tensor zeros(Shape shape);
    static Tensor full(Shape shape, float value);
    static Tensor ones(Shape shape) { return full(std::move(shape), 1.0f); }
    // Plain tensor from values in row-major order; values.size() must equal numel(shape).
    static Tensor from(Shape shape, const std::vector<float>& values);
    static Tensor scalar(float v) { return from({}, {v}); }

    bool defined() const { return buf_ != nullptr; }
    const Shape& shape() const { return shape_; }
    std::int64_t dim() const { return static_cast<std::int64_t>(shape_.size()); }
    // Size of one dimension; negative indices count from the end.
    std::int64_t size(std::int64_t d) const;
    std::int64_t numel() const { return infomax::numel(shape_); }
    DType dtype() const { return dtype_; }

    bool is_plain() const { return layout_ == nullptr; }
    const std::shared_ptr<const detail::Layout>& layout() const { return layout_; }

    // Raw physical storage. For a plain tensor this is row-major data of numel()
    // elements; for a blocked one it is oneDNN's layout (use plain() first).
    float* data();
    const float* data() const;
    std::size_t bytes() const;

    // This tensor if plain, else a plain copy (a oneDNN reorder).
    Tensor plain() const;
    // A deep copy with the same layout.
    Tensor clone() const;
    // Same buffer, new logical shape (requires a plain tensor; numel must match).
    Tensor view(Shape shape) const;
    // Logical values, row-major.
    std::vector<float> to_vector() const;
    float item() const;
    void fill(float v);

    // Backend use: a tensor whose storage follows `layout` (nullptr = plain).
    static Tensor empty_like_layout(Shape shape, std::shared_ptr<const detail::Layout> layout,
                                    DType dtype = DType::f32);
    // True when both tensors have the same physical layout (plain == plain).
    bool same_layout(const Tensor& other) const;

private:
    Shape shape_;
    DType dtype_ = DType::f32;
    std::shared_ptr<detail::Buffer> buf_;
    std::shared_ptr<const detail::Layout> layout_;
};

// Counters of the buffer pool. Steady-state training should add no fresh allocations.
struct MemoryStats {
    std::int64_t fresh_allocations = 0;  // buffers obtained from the system
    std::int64_t reused = 0;             // buffers served from the pool
    std::int64_t bytes_reserved = 0;     // held by the pool (in use + free)
    std::int64_t bytes_in_use = 0;
    std::int64_t peak_bytes_in_use = 0;
};
MemoryStats memory_stats();
// Return pooled free buffers to the system (e.g. between experiments).
void release_cached_memory();

}  // namespace infomax
