// Elementwise arithmetic with broadcasting, scalar ops and reductions (TBB).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "infomax/ops/ops.hpp"
#include "infomax/runtime/error.hpp"
#include "ops/kernels.hpp"

namespace infomax::ops {

using kernels::BinOp;

Var add(const Var& a, const Var& b) {
    Tensor y = kernels::binary(a.value(), b.value(), BinOp::add, "add");
    return Var(y, {a, b},
               [](std::vector<Var>& in, const Tensor& g) {
                   for (auto& v : in)
                       if (v.requires_grad()) v.add_grad(kernels::sum_to(g, v.shape()));
               },
               "add");
}

Var sub(const Var& a, const Var& b) {
    Tensor y = kernels::binary(a.value(), b.value(), BinOp::sub, "sub");
    return Var(y, {a, b},
               [](std::vector<Var>& in, const Tensor& g) {
                   if (in[0].requires_grad()) in[0].add_grad(kernels::sum_to(g, in[0].shape()));
                   if (in[1].requires_grad()) in[1].add_grad(kernels::sum_to(kernels::affine(g, -1.0f, 0.0f), in[1].shape()));
               },
               "sub");
}

Var mul(const Var& a, const Var& b) {
    Tensor av = a.value(), bv = b.value();
    Tensor y = kernels::binary(av, bv, BinOp::mul, "mul");
    // Keep an operand only if the other side needs its gradient.
    Tensor keep_a = b.requires_grad() ? av : Tensor(), keep_b = a.requires_grad() ? bv : Tensor();
    return Var(y, {a, b},
               [keep_a, keep_b](std::vector<Var>& in, const Tensor& g) {
                   if (in[0].requires_grad()) in[0].add_grad(kernels::sum_to(kernels::mul(g, keep_b), in[0].shape()));
                   if (in[1].requires_grad()) in[1].add_grad(kernels::sum_to(kernels::mul(g, keep_a), in[1].shape()));
               },
               "mul");
}

Var div(const Var& a, const Var& b) {
    Tensor av = a.value(), bv = b.value();
    Tensor y = kernels::binary(av, bv, BinOp::div, "div");
    return Var(y, {a, b},
               [bv, y](std::vector<Var>& in, const Tensor& g) {
                   Tensor g_over_b = kernels::binary(g, bv, BinOp::div, "div backward");
                   if (in[0].requires_grad()) in[0].add_grad(kernels::sum_to(g_over_b, in[0].shape()));
                   // d(a/b)/db = -(a/b)/b = -y/b
                   if (in[1].requires_grad())
                       in[1].add_grad(kernels::sum_to(kernels::affine(kernels::mul(g_over_b, y), -1.0f, 0.0f),
                                                      in[1].shape()));
               },
               "div");
}

Var add(const Var& a, float s) {
    return Var(kernels::affine(a.value(), 1.0f, s), {a},
               [](std::vector<Var>& in, const Tensor& g) { in[0].add_grad(g); }, "add_scalar");
}

Var mul(const Var& a, float s) {
    return Var(kernels::affine(a.value(), s, 0.0f), {a},
               [s](std::vector<Var>& in, const Tensor& g) { in[0].add_grad(kernels::affine(g, s, 0.0f)); },
               "mul_scalar");
}

Var rsub(float s, const Var& a) {
    return Var(kernels::affine(a.value(), -1.0f, s), {a},
               [](std::vector<Var>& in, const Tensor& g) { in[0].add_grad(kernels::affine(g, -1.0f, 0.0f)); },
               "rsub_scalar");
}

Var neg(const Var& a) { return mul(a, -1.0f); }

Var rdiv(float s, const Var& a) {
    Tensor y = kernels::map(a.value(), [s](float x) { return s / x; });
    return Var(y, {a},
               [y, s](std::vector<Var>& in, const Tensor& g) {
                   // d(s/x)/dx = -s/x^2 = -y^2/s
                   in[0].add_grad(kernels::map2(g, y, [s](float gg, float yy) { return -gg * yy * yy / s; }));
               },
               "rdiv_scalar");
}

namespace {

std::vector<bool> axes_mask(const Shape& s, const std::vector<std::int64_t>& axes, const char* op) {
    std::vector<bool> m(s.size(), axes.empty());
    for (auto a : axes) {
        auto d = kernels::wrap_axis(a, static_cast<std::int64_t>(s.size()), op);
        if (m[d]) throw ShapeError(fmt::format("{}: axis {} given twice", op, a));
        m[d] = true;
    }
    return m;
}

Shape reduced_shape(const Shape& s, const std::vector<bool>& m, bool keepdim) {
    Shape out;
    for (std::size_t d = 0; d < s.size(); ++d) {
        if (!m[d])
            out.push_back(s[d]);
        else if (keepdim)
            out.push_back(1);
    }
    return out;
}

Var sum_impl(const Var& x, const std::vector<std::int64_t>& axes, bool keepdim, bool average, const char* op) {
    const Shape xs = x.shape();
    auto m = axes_mask(xs, axes, op);
    Tensor r = kernels::reduce_sum(x.value(), m);  // keepdim shape
    std::int64_t count = 1;
    for (std::size_t d = 0; d < xs.size(); ++d)
        if (m[d]) count *= xs[d];
    const float scale = average ? 1.0f / static_cast<float>(std::max<std::int64_t>(count, 1)) : 1.0f;
    if (average) r = kernels::affine(r, scale, 0.0f);
    Shape kshape = r.shape();
    r = r.view(reduced_shape(xs, m, keepdim));
    return Var(r, {x},
               [xs, kshape, scale](std::vector<Var>& in, const Tensor& g) {
                   Tensor gb = kernels::broadcast(g.plain().view(kshape), xs);
                   in[0].add_grad(scale == 1.0f ? gb : kernels::affine(gb, scale, 0.0f));
               },
               op);
}

}  // namespace

Var sum(const Var& x, std::vector<std::int64_t> axes, bool keepdim) { return sum_impl(x, axes, keepdim, false, "sum"); }
Var mean(const Var& x, std::vector<std::int64_t> axes, bool keepdim) {
    return sum_impl(x, axes, keepdim, true, "mean");
}

Var logsumexp(const Var& x, std::int64_t axis, bool keepdim) {
    Tensor xv = x.value().plain();
    const Shape& xs = xv.shape();
    const std::int64_t d = kernels::wrap_axis(axis, static_cast<std::int64_t>(xs.size()), "logsumexp");
    std::int64_t outer = 1, inner = 1;
    for (std::int64_t i = 0; i < d; ++i) outer *= xs[i];
    for (std::size_t i = d + 1; i < xs.size(); ++i) inner *= xs[i];
    const std::int64_t n = xs[d];
    if (n == 0) throw ShapeError(fmt::format("logsumexp: axis {} of shape {} is empty", axis, to_string(xs)));
    Shape ks = xs;
    ks[d] = 1;
    Tensor y = Tensor::empty(ks);
    const float* a = xv.data();
    float* o = y.data();
    kernels::parallel_for(outer * inner, std::max<std::int64_t>(1, 4096 / n), [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t t = b; t < e; ++t) {
            const float* p = a + (t / inner) * n * inner + t % inner;
            float m = -std::numeric_limits<float>::infinity();
            for (std::int64_t i = 0; i < n; ++i) m = std::max(m, p[i * inner]);
            if (!std::isfinite(m)) {  // all -inf (or an inf/nan): the plain formula is right
                double acc = 0;
                for (std::int64_t i = 0; i < n; ++i) acc += std::exp(double(p[i * inner]));
                o[t] = static_cast<float>(std::log(acc));
                continue;
            }
            double acc = 0;
            for (std::int64_t i = 0; i < n; ++i) acc += std::exp(double(p[i * inner] - m));
            o[t] = m + static_cast<float>(std::log(acc));
        }
    });
    Tensor out = keepdim ? y : y.view(reduced_shape(xs, axes_mask(xs, {d}, "logsumexp"), false));
    return Var(out, {x},
               [xv, y](std::vector<Var>& in, const Tensor& g) {
                   // d lse / dx_i = softmax_i = exp(x_i - lse)
                   Tensor sm = kernels::binary(xv, y, BinOp::sub, "logsumexp backward");
                   sm = kernels::map(sm, [](float v) { return std::exp(v); });
                   in[0].add_grad(kernels::mul(sm, g.plain().view(y.shape())));
               },
               "logsumexp");
}

}  // namespace infomax::ops
