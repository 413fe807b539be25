// Shape and indexing ops (TBB): reshape, flatten, permute, concat, broadcast,
// tile over a grid, roll and index_select along an axis.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "infomax/ops/ops.hpp"
#include "infomax/runtime/error.hpp"
#include "ops/kernels.hpp"

namespace infomax::ops {

Var reshape(const Var& x, Shape shape) {
    const Shape xs = x.shape();
    std::int64_t known = 1, infer = -1;
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] == -1) {
            if (infer >= 0) throw ShapeError(fmt::format("reshape: more than one -1 in {}", to_string(shape)));
            infer = static_cast<std::int64_t>(i);
        } else if (shape[i] < 0) {
            throw ShapeError(fmt::format("reshape: negative dimension in {}", to_string(shape)));
        } else {
            known *= shape[i];
        }
    }
    if (infer >= 0 && known > 0 && numel(xs) % known == 0) shape[infer] = numel(xs) / known;
    if (numel(shape) != numel(xs) || (infer >= 0 && shape[infer] < 0))
        throw ShapeError(fmt::format("reshape: cannot reshape {} ({} elements) to {}", to_string(xs), numel(xs),
                                     to_string(shape)));
    return Var(x.value().view(shape), {x},
               [xs](std::vector<Var>& in, const Tensor& g) { in[0].add_grad(g.view(xs)); }, "reshape");
}

Var flatten(const Var& x, std::int64_t start_dim) {
    const Shape& xs = x.shape();
    const std::int64_t d = kernels::wrap_axis(start_dim, static_cast<std::int64_t>(xs.size()), "flatten");
    Shape s(xs.begin(), xs.begin() + d);
    s.push_back(numel(Shape(xs.begin() + d, xs.end())));
    return reshape(x, s);
}

Var permute(const Var& x, std::vector<std::int64_t> dims) {
    const Shape& xs = x.shape();
    const auto r = static_cast<std::int64_t>(xs.size());
    if (static_cast<std::int64_t>(dims.size()) != r)
        throw ShapeError(fmt::format("permute: {} dims given for a tensor of rank {}", dims.size(), r));
    std::vector<std::int64_t> inv(r, -1);
    for (std::int64_t i = 0; i < r; ++i) {
        dims[i] = kernels::wrap_axis(dims[i], r, "permute");
        if (inv[dims[i]] >= 0) throw ShapeError(fmt::format("permute: dimension {} appears twice", dims[i]));
        inv[dims[i]] = i;
    }
    return Var(kernels::permute(x.value(), dims), {x},
               [inv](std::vector<Var>& in, const Tensor& g) { in[0].add_grad(kernels::permute(g, inv)); }, "permute");
}

Var concat(const std::vector<Var>& xs, std::int64_t axis) {
    if (xs.empty()) throw ShapeError("concat: no inputs");
    const Shape& s0 = xs[0].shape();
    const std::int64_t d = kernels::wrap_axis(axis, static_cast<std::int64_t>(s0.size()), "concat");
    Shape out = s0;
    out[d] = 0;
    std::vector<std::int64_t> sizes;
    for (const auto& x : xs) {
        const Shape& s = x.shape();
        bool ok = s.size() == s0.size();
        for (std::size_t i = 0; ok && i < s.size(); ++i) ok = static_cast<std::int64_t>(i) == d || s[i] == s0[i];
        if (!ok)
            throw ShapeError(fmt::format("concat along axis {}: shape {} does not match {}", axis, to_string(s),
                                         to_string(s0)));
        sizes.push_back(s[d]);
        out[d] += s[d];
    }
    std::int64_t outer = 1, inner = 1;
    for (std::int64_t i = 0; i < d; ++i) outer *= s0[i];
    for (std::size_t i = d + 1; i < s0.size(); ++i) inner *= s0[i];
    Tensor y = Tensor::empty(out);
    const std::int64_t row = out[d] * inner;
    std::int64_t start = 0;
    for (std::size_t k = 0; k < xs.size(); ++k) {
        Tensor xp = xs[k].value().plain();
        const std::int64_t len = sizes[k] * inner;
        const float* a = xp.data();
        float* o = y.data() + start;
        kernels::parallel_for(outer, std::max<std::int64_t>(1, 16384 / std::max<std::int64_t>(len, 1)),
                              [&](std::int64_t b, std::int64_t e) {
                                  for (std::int64_t i = b; i < e; ++i) std::memcpy(o + i * row, a + i * len, len * 4);
                              });
        start += len;
    }
    return Var(y, xs,
               [sizes, outer, inner, row](std::vector<Var>& in, const Tensor& g) {
                   Tensor gp = g.plain();
                   std::int64_t start = 0;
                   for (std::size_t k = 0; k < in.size(); ++k) {
                       const std::int64_t len = sizes[k] * inner;
                       if (in[k].requires_grad()) {
                           Tensor gk = Tensor::empty(in[k].shape());
                           const float* a = gp.data() + start;
                           float* o = gk.data();
                           kernels::parallel_for(outer, std::max<std::int64_t>(1, 16384 / std::max<std::int64_t>(len, 1)),
                                                 [&](std::int64_t b, std::int64_t e) {
                                                     for (std::int64_t i = b; i < e; ++i)
                                                         std::memcpy(o + i * len, a + i * row, len * 4);
                                                 });
                           in[k].add_grad(gk);
                       }
                       start += len;
                   }
               },
               "concat");
}

Var broadcast_to(const Var& x, Shape shape) {
    const Shape xs = x.shape();
    return Var(kernels::broadcast(x.value(), shape), {x},
               [xs](std::vector<Var>& in, const Tensor& g) { in[0].add_grad(kernels::sum_to(g, xs)); },
               "broadcast_to");
}

Var tile_spatial(const Var& y, std::int64_t h, std::int64_t w) {
    if (y.dim() != 2 || h < 1 || w < 1)
        throw ShapeError(fmt::format("tile_spatial: expected a (N, C) input and a grid of at least 1x1, got {} over "
                                     "{}x{}",
                                     to_string(y.shape()), h, w));
    return broadcast_to(reshape(y, {y.size(0), y.size(1), 1, 1}), {y.size(0), y.size(1), h, w});
}

Var index_select(const Var& x, std::int64_t axis, const std::vector<std::int64_t>& index) {
    const Shape xs = x.shape();
    const std::int64_t d = kernels::wrap_axis(axis, static_cast<std::int64_t>(xs.size()), "index_select");
    const std::int64_t n = xs[d];
    for (auto i : index)
        if (i < 0 || i >= n)
            throw ShapeError(fmt::format("index_select: index {} out of range for axis {} of size {} (shape {})", i,
                                         axis, n, to_string(xs)));
    std::int64_t outer = 1, inner = 1;
    for (std::int64_t i = 0; i < d; ++i) outer *= xs[i];
    for (std::size_t i = d + 1; i < xs.size(); ++i) inner *= xs[i];
    const auto m = static_cast<std::int64_t>(index.size());
    Shape out = xs;
    out[d] = m;
    Tensor xp = x.value().plain();
    Tensor y = Tensor::empty(out);
    const float* a = xp.data();
    float* o = y.data();
    kernels::parallel_for(outer * m, std::max<std::int64_t>(1, 16384 / std::max<std::int64_t>(inner, 1)),
                          [&](std::int64_t b, std::int64_t e) {
                              for (std::int64_t t = b; t < e; ++t) {
                                  const std::int64_t i = t / m, j = t % m;
                                  std::memcpy(o + t * inner, a + (i * n + index[j]) * inner, inner * 4);
                              }
                          });
    return Var(y, {x},
               [index, xs, outer, inner, n, m](std::vector<Var>& in, const Tensor& g) {
                   Tensor gp = g.plain();
                   Tensor dx = Tensor::zeros(xs);
                   const float* a = gp.data();
                   float* o = dx.data();
                   // Parallel over the outer rows; indices within a row are added
                   // in order, so repeated indices sum deterministically.
                   kernels::parallel_for(outer, 1, [&](std::int64_t b, std::int64_t e) {
                       for (std::int64_t i = b; i < e; ++i)
                           for (std::int64_t j = 0; j < m; ++j) {
                               float* dst = o + (i * n + index[j]) * inner;
                               const float* src = a + (i * m + j) * inner;
                               for (std::int64_t k = 0; k < inner; ++k) dst[k] += src[k];
                           }
                   });
                   in[0].add_grad(dx);
               },
               "index_select");
}

Var roll(const Var& x, std::int64_t shift, std::int64_t axis) {
    const std::int64_t d = kernels::wrap_axis(axis, x.dim(), "roll");
    const std::int64_t n = x.size(d);
    std::vector<std::int64_t> idx(n);
    for (std::int64_t i = 0; i < n; ++i) idx[i] = (((i - shift) % n) + n) % n;
    return index_select(x, d, idx);
}

}  // namespace infomax::ops
