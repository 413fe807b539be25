// Tensor-level kernels on TBB (no graph): the arithmetic that ops use in their
// forward and backward passes. Inputs in a blocked layout are made plain first,
// except where noted (zero-preserving elementwise ops run on any layout).
// Every reduction accumulates in double over a fixed partition, so results do
// not depend on the number of threads.
#pragma once

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <cstdint>
#include <vector>

#include "infomax/tensor/tensor.hpp"

namespace infomax::kernels {

enum class BinOp { add, sub, mul, div };

// NumPy broadcasting; the error names `op` and both shapes.
Shape broadcast_shape(const Shape& a, const Shape& b, const char* op);

Tensor binary(const Tensor& a, const Tensor& b, BinOp op, const char* opname);
inline Tensor add(const Tensor& a, const Tensor& b) { return binary(a, b, BinOp::add, "add"); }
inline Tensor mul(const Tensor& a, const Tensor& b) { return binary(a, b, BinOp::mul, "mul"); }
// x * scale + shift; keeps a blocked layout when shift == 0.
Tensor affine(const Tensor& x, float scale, float shift);

// Sum of g over the axes broadcast to make it from `target` (the gradient of a
// broadcast); g itself when the shapes are equal.
Tensor sum_to(const Tensor& g, const Shape& target);
// Sum over the axes where reduced[d] is true, keeping them as size 1.
Tensor reduce_sum(const Tensor& x, const std::vector<bool>& reduced);
// x broadcast (NumPy rules) to `shape`, materialised.
Tensor broadcast(const Tensor& x, const Shape& shape);
// Permuted copy: out.shape[d] = x.shape[dims[d]].
Tensor permute(const Tensor& x, const std::vector<std::int64_t>& dims);
// Sum of squares of all stored elements (blocked padding is zero).
double sum_squares(const Tensor& x);

template <class F>
void parallel_for(std::int64_t n, std::int64_t grain, F&& f) {
    if (n <= grain) {
        if (n > 0) f(std::int64_t{0}, n);
        return;
    }
    tbb::parallel_for(tbb::blocked_range<std::int64_t>(0, n, grain),
                      [&](const tbb::blocked_range<std::int64_t>& r) { f(r.begin(), r.end()); },
                      tbb::simple_partitioner());
}

// Elementwise y = f(x) on plain data.
template <class F>
Tensor map(const Tensor& x, F f) {
    Tensor xp = x.plain();
    Tensor y = Tensor::empty(x.shape());
    const float* a = xp.data();
    float* o = y.data();
    parallel_for(xp.numel(), 1 << 14, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t i = b; i < e; ++i) o[i] = f(a[i]);
    });
    return y;
}

// Elementwise y = f(a, b) on plain data of the same shape.
template <class F>
Tensor map2(const Tensor& a, const Tensor& b, F f) {
    Tensor ap = a.plain(), bp = b.plain();
    Tensor y = Tensor::empty(a.shape());
    const float* x = ap.data();
    const float* z = bp.data();
    float* o = y.data();
    parallel_for(ap.numel(), 1 << 14, [&](std::int64_t s, std::int64_t e) {
        for (std::int64_t i = s; i < e; ++i) o[i] = f(x[i], z[i]);
    });
    return y;
}

// Row-major strides of a shape, in elements.
std::vector<std::int64_t> strides_of(const Shape& s);
std::int64_t wrap_axis(std::int64_t axis, std::int64_t rank, const char* op);

}  // namespace infomax::kernels
