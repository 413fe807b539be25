// linear (oneDNN inner product) and batched matmul (oneDNN matmul). In f32
// both work on plain row-major data: oneDNN's GEMM kernels take it as is, so no
// reorders. Under Precision::bf16 inputs and weights are converted to bf16 per
// call (weights in the layout the primitive prefers); results and gradients
// are f32.
#include <fmt/format.h>

#include <algorithm>

#include "backend/onednn/context.hpp"
#include "infomax/ops/ops.hpp"
#include "infomax/runtime/error.hpp"
#include "ops/kernels.hpp"

namespace infomax::ops {

namespace {

using namespace infomax::detail;
using dnnl::memory;
using tag = memory::format_tag;
constexpr auto f32 = memory::data_type::f32;

struct LinearEntry {
    dnnl::inner_product_forward::primitive_desc fwd_pd;
    dnnl::inner_product_forward fwd;
    dnnl::inner_product_backward_data::primitive_desc bwd_data_pd;
    dnnl::inner_product_backward_data bwd_data;
    dnnl::inner_product_backward_weights bwd_w;
};

struct MatmulEntry {
    dnnl::matmul prim;
};

// Descriptor of a plain tensor of shape (batch..., R, C) seen as its transpose
// when `t` is set (strides swapped on the last two dims).
memory::desc mat_desc(const Shape& s, bool t, memory::data_type dt = f32) {
    auto st = kernels::strides_of(s);
    memory::dims d(s.begin(), s.end()), strides(st.begin(), st.end());
    if (t) {
        const std::size_t r = s.size();
        std::swap(d[r - 1], d[r - 2]);
        std::swap(strides[r - 1], strides[r - 2]);
    }
    return memory::desc(d, dt, strides);
}

// op(a) @ op(b), where op transposes the last two dims when asked; a and b have
// the same rank, batch dims equal or 1 (broadcast). The result is plain.
Tensor mm(const Tensor& av, bool ta, const Tensor& bv, bool tb) {
    static auto& cache = *new PrimitiveCache<MatmulEntry>();  // never destroyed: see context.hpp
    const memory::data_type dt = compute_type();
    // Plain row-major in the compute type (a converting reorder under bf16).
    Tensor a = to_desc(av, plain_desc(av.shape(), dt)), b = to_desc(bv, plain_desc(bv.shape(), dt));
    const Shape& as = a.shape();
    const Shape& bs = b.shape();
    const std::size_t r = as.size();
    Shape out(r);
    for (std::size_t i = 0; i + 2 < r; ++i) out[i] = std::max(as[i], bs[i]);
    out[r - 2] = ta ? as[r - 1] : as[r - 2];
    out[r - 1] = tb ? bs[r - 2] : bs[r - 1];
    auto& e = cache.get(fmt::format("{}{}|{}{}|{}", to_string(as), ta, to_string(bs), tb, int(dt)), [&] {
        try {
            dnnl::matmul::primitive_desc pd({mat_desc(as, ta, dt), mat_desc(bs, tb, dt), plain_desc(out)}, engine());
            return MatmulEntry{dnnl::matmul(pd)};
        } catch (const dnnl::error& err) { rethrow("matmul", err); }
    });
    Tensor y = Tensor::empty(out);
    const double k = double(ta ? as[r - 2] : as[r - 1]);
    execute("matmul", e.prim,
            {{DNNL_ARG_SRC, mem(a, mat_desc(as, ta, dt))},
             {DNNL_ARG_WEIGHTS, mem(b, mat_desc(bs, tb, dt))},
             {DNNL_ARG_DST, mem(y)}},
            2.0 * double(numel(out)) * k);
    return y;
}

}  // namespace

Var linear(const Var& x, const Var& weight, const Var& bias) {
    static auto& cache = *new PrimitiveCache<LinearEntry>();  // never destroyed: see context.hpp
    const Shape& xs = x.shape();
    const Shape& ws = weight.shape();
    const bool has_bias = bias.defined();
    if (xs.size() != 2 || ws.size() != 2 || xs[1] != ws[1])
        throw ShapeError(fmt::format("linear: expected input (N, I) and weight (O, I) with the same I, got {} and {}"
                                     "{}",
                                     to_string(xs), to_string(ws),
                                     xs.size() > 2 ? " (flatten the input first)" : ""));
    if (has_bias && bias.shape() != Shape{ws[0]})
        throw ShapeError(fmt::format("linear: bias shape {} does not match {} outputs", to_string(bias.shape()),
                                     ws[0]));
    const Shape ys{xs[0], ws[0]};
    const memory::data_type dt = compute_type();
    auto& e = cache.get(fmt::format("{}|{}|{}|{}", to_string(xs), to_string(ws), has_bias, int(dt)), [&] {
        try {
            // f32: all plain. bf16: bf16 input and output gradient (plain), bf16
            // weights in the primitive's layout; f32 output and gradients.
            const bool low = dt != f32;
            memory::desc src(dims_of(xs), dt, tag::ab), w(dims_of(ws), dt, low ? tag::any : tag::ab),
                dst(dims_of(ys), f32, tag::ab), dx(dims_of(xs), f32, tag::ab), dw(dims_of(ws), f32, tag::ab),
                dy(dims_of(ys), dt, tag::ab);
            memory::desc b = has_bias ? memory::desc({ws[0]}, f32, tag::a) : memory::desc();
            dnnl::inner_product_forward::primitive_desc fpd({dnnl::prop_kind::forward_training, src, w, b, dst},
                                                            engine());
            dnnl::inner_product_backward_data::primitive_desc dpd({dx, w, dy}, engine(), fpd);
            dnnl::inner_product_backward_weights::primitive_desc wpd({src, dw, b, dy}, engine(), fpd);
            return LinearEntry{fpd, dnnl::inner_product_forward(fpd), dpd, dnnl::inner_product_backward_data(dpd),
                               dnnl::inner_product_backward_weights(wpd)};
        } catch (const dnnl::error& err) { rethrow("linear", err); }
    });
    Tensor xv = to_desc(x.value(), e.fwd_pd.src_desc());
    Tensor wv = to_desc(weight.value(), e.fwd_pd.weights_desc());
    Tensor y = Tensor::empty(ys);
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, mem(xv)}, {DNNL_ARG_WEIGHTS, mem(wv)}, {DNNL_ARG_DST, mem(y)}};
    if (has_bias) args.emplace(DNNL_ARG_BIAS, mem(bias.value()));
    const double flops = 2.0 * double(xs[0]) * double(xs[1]) * double(ws[0]);
    execute("linear", e.fwd, args, flops);

    std::vector<Var> inputs{x, weight};
    if (has_bias) inputs.push_back(bias);
    return Var(y, std::move(inputs),
               [&e, xv, wv, has_bias, flops](std::vector<Var>& in, const Tensor& g) {
                   Tensor gp = to_desc(g, e.bwd_data_pd.diff_dst_desc());  // both backward passes read it so
                   if (in[0].requires_grad()) {
                       Tensor dx = Tensor::empty(xv.shape());
                       Tensor wd = to_desc(wv, e.bwd_data_pd.weights_desc());
                       execute("linear backward data", e.bwd_data,
                               {{DNNL_ARG_DIFF_DST, mem(gp)}, {DNNL_ARG_WEIGHTS, mem(wd)},
                                {DNNL_ARG_DIFF_SRC, mem(dx)}}, flops);
                       in[0].add_grad(dx);
                   }
                   const bool need_b = has_bias && in[2].requires_grad();
                   if (in[1].requires_grad() || need_b) {
                       Tensor dw = Tensor::empty(in[1].shape());
                       std::unordered_map<int, memory> a{
                           {DNNL_ARG_SRC, mem(xv)}, {DNNL_ARG_DIFF_DST, mem(gp)}, {DNNL_ARG_DIFF_WEIGHTS, mem(dw)}};
                       Tensor db;
                       if (has_bias) {
                           db = Tensor::empty(in[2].shape());
                           a.emplace(DNNL_ARG_DIFF_BIAS, mem(db));
                       }
                       execute("linear backward weights", e.bwd_w, a, flops);
                       in[1].add_grad(dw);
                       if (need_b) in[2].add_grad(db);
                   }
               },
               "linear");
}

Var matmul(const Var& a, const Var& b) {
    Shape as = a.shape(), bs = b.shape();
    if (as.size() < 2 || bs.size() < 2)
        throw ShapeError(fmt::format("matmul: both operands need at least 2 dimensions, got {} and {}", to_string(as),
                                     to_string(bs)));
    const std::size_t r = std::max(as.size(), bs.size());
    Shape ap(r - as.size(), 1), bp(r - bs.size(), 1);
    ap.insert(ap.end(), as.begin(), as.end());
    bp.insert(bp.end(), bs.begin(), bs.end());
    bool ok = ap[r - 1] == bp[r - 2];
    for (std::size_t i = 0; i + 2 < r; ++i) ok = ok && (ap[i] == bp[i] || ap[i] == 1 || bp[i] == 1);
    if (!ok)
        throw ShapeError(fmt::format("matmul: shapes {} and {} do not fit (..., M, K) x (..., K, N) with broadcast "
                                     "batch dimensions",
                                     to_string(as), to_string(bs)));
    Tensor av = a.value().plain().view(ap), bv = b.value().plain().view(bp);
    Tensor y = mm(av, false, bv, false);
    return Var(y, {a, b},
               [av, bv, as, bs](std::vector<Var>& in, const Tensor& g) {
                   Tensor gp = g.plain();
                   // dA = dC B^T and dB = A^T dC, summed over broadcast batch dims.
                   if (in[0].requires_grad())
                       in[0].add_grad(kernels::sum_to(mm(gp, false, bv, true), av.shape()).view(as));
                   if (in[1].requires_grad())
                       in[1].add_grad(kernels::sum_to(mm(av, true, gp, false), bv.shape()).view(bs));
               },
               "matmul");
}

}  // namespace infomax::ops
