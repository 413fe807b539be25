// conv2d on oneDNN. The forward primitive picks its own layouts (format `any`);
// activations stay in that blocked layout for the next oneDNN op. Weights are
// kept plain (O, C, KH, KW) for the optimizer and checkpoints and reordered per
// call: for the seed encoders this costs well under 1% of the step. Under
// Precision::bf16 the input and weights are read as bf16 (the reorder converts)
// and the output and all gradients are f32.
#include <fmt/format.h>

#include "backend/onednn/context.hpp"
#include "infomax/ops/ops.hpp"
#include "infomax/runtime/error.hpp"

namespace infomax::ops {

namespace {

using namespace infomax::detail;
using dnnl::memory;
using tag = memory::format_tag;

struct ConvEntry {
    dnnl::convolution_forward::primitive_desc fwd_pd;
    dnnl::convolution_forward fwd;
    dnnl::convolution_backward_data::primitive_desc bwd_data_pd;
    dnnl::convolution_backward_data bwd_data;
    dnnl::convolution_backward_weights::primitive_desc bwd_w_pd;
    dnnl::convolution_backward_weights bwd_w;
};

}  // namespace

Var conv2d(const Var& x, const Var& weight, const Var& bias, std::int64_t stride, std::int64_t padding) {
    return conv2d(x, weight, bias, {stride, stride}, {padding, padding});
}

Var conv2d(const Var& x, const Var& weight, const Var& bias, std::vector<std::int64_t> stride,
           std::vector<std::int64_t> padding) {
    static auto& cache = *new PrimitiveCache<ConvEntry>();  // never destroyed: see context.hpp
    const Shape& xs = x.shape();
    const Shape& ws = weight.shape();
    const bool has_bias = bias.defined();
    if (xs.size() != 4 || ws.size() != 4)
        throw ShapeError(fmt::format("conv2d: expected input (N, C, H, W) and weight (O, C, KH, KW), got {} and {}",
                                     to_string(xs), to_string(ws)));
    if (xs[1] != ws[1])
        throw ShapeError(fmt::format("conv2d: input has {} channels but weight {} expects {}", xs[1], to_string(ws),
                                     ws[1]));
    if (has_bias && bias.shape() != Shape{ws[0]})
        throw ShapeError(fmt::format("conv2d: bias shape {} does not match {} output channels",
                                     to_string(bias.shape()), ws[0]));
    if (stride.size() != 2 || padding.size() != 2 || stride[0] < 1 || stride[1] < 1 || padding[0] < 0 ||
        padding[1] < 0)
        throw ShapeError("conv2d: stride must be two numbers >= 1 and padding two numbers >= 0");
    const std::int64_t oh = (xs[2] + 2 * padding[0] - ws[2]) / stride[0] + 1;
    const std::int64_t ow = (xs[3] + 2 * padding[1] - ws[3]) / stride[1] + 1;
    if (xs[2] + 2 * padding[0] < ws[2] || xs[3] + 2 * padding[1] < ws[3])
        throw ShapeError(fmt::format("conv2d: kernel {}x{} is larger than the padded input {}x{} (input {})", ws[2],
                                     ws[3], xs[2] + 2 * padding[0], xs[3] + 2 * padding[1], to_string(xs)));
    const Shape ys{xs[0], ws[0], oh, ow};

    const memory::data_type dt = compute_type();
    const std::string key = fmt::format("{}|{}|{},{}|{},{}|{}|{}", to_string(xs), to_string(ws), stride[0], stride[1],
                                        padding[0], padding[1], has_bias, int(dt));
    auto& e = cache.get(key, [&] {
        try {
            const auto f32 = memory::data_type::f32;
            // Inputs in the compute type; outputs and gradients in f32.
            memory::desc src_any(dims_of(xs), dt, tag::any), w_any(dims_of(ws), dt, tag::any),
                dst_any(dims_of(ys), f32, tag::any), dx_any(dims_of(xs), f32, tag::any),
                dw_any(dims_of(ws), f32, tag::any), dy_any(dims_of(ys), dt, tag::any);
            memory::desc b_md = has_bias ? memory::desc({ws[0]}, f32, tag::a) : memory::desc();
            const memory::dims st{stride[0], stride[1]}, pad{padding[0], padding[1]};
            dnnl::convolution_forward::primitive_desc fpd(
                {dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, src_any, w_any, b_md,
                 dst_any, st, pad, pad},
                engine());
            dnnl::convolution_backward_data::primitive_desc dpd(
                {dnnl::algorithm::convolution_direct, dx_any, w_any, dy_any, st, pad, pad}, engine(), fpd);
            dnnl::convolution_backward_weights::primitive_desc wpd(
                {dnnl::algorithm::convolution_direct, src_any, dw_any, b_md, dy_any, st, pad, pad}, engine(), fpd);
            return ConvEntry{fpd, dnnl::convolution_forward(fpd), dpd, dnnl::convolution_backward_data(dpd), wpd,
                             dnnl::convolution_backward_weights(wpd)};
        } catch (const dnnl::error& err) { rethrow("conv2d", err); }
    });

    Tensor src = to_desc(x.value(), e.fwd_pd.src_desc());
    Tensor w = to_desc(weight.value(), e.fwd_pd.weights_desc());
    Tensor y = tensor_for(ys, e.fwd_pd.dst_desc());
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, mem(src)}, {DNNL_ARG_WEIGHTS, mem(w)}, {DNNL_ARG_DST, mem(y)}};
    if (has_bias) args.emplace(DNNL_ARG_BIAS, mem(bias.value()));
    const double flops = 2.0 * double(numel(ys)) * double(xs[1] * ws[2] * ws[3]);
    execute("conv2d", e.fwd, args, flops);

    std::vector<Var> inputs{x, weight};
    if (has_bias) inputs.push_back(bias);
    return Var(y, std::move(inputs),
               [&e, src, w, has_bias, flops](std::vector<Var>& in, const Tensor& g) {
                   if (in[0].requires_grad()) {  // skipped for the first layer: nobody needs it
                       Tensor gd = to_desc(g, e.bwd_data_pd.diff_dst_desc());
                       Tensor wd = to_desc(w, e.bwd_data_pd.weights_desc());
                       Tensor dx = tensor_for(in[0].shape(), e.bwd_data_pd.diff_src_desc());
                       execute("conv2d backward data", e.bwd_data,
                               {{DNNL_ARG_DIFF_DST, mem(gd)}, {DNNL_ARG_WEIGHTS, mem(wd)}, {DNNL_ARG_DIFF_SRC, mem(dx)}}, flops);
                       in[0].add_grad(dx);
                   }
                   const bool need_b = has_bias && in[2].requires_grad();
                   if (in[1].requires_grad() || need_b) {
                       Tensor gd = to_desc(g, e.bwd_w_pd.diff_dst_desc());
                       Tensor s = to_desc(src, e.bwd_w_pd.src_desc());
                       Tensor dw = tensor_for(in[1].shape(), e.bwd_w_pd.diff_weights_desc());
                       std::unordered_map<int, memory> a{
                           {DNNL_ARG_SRC, mem(s)}, {DNNL_ARG_DIFF_DST, mem(gd)}, {DNNL_ARG_DIFF_WEIGHTS, mem(dw)}};
                       Tensor db;
                       if (has_bias) {
                           db = Tensor::empty(in[2].shape());
                           a.emplace(DNNL_ARG_DIFF_BIAS, mem(db));
                       }
                       execute("conv2d backward weights", e.bwd_w, a, flops);
                       in[1].add_grad(dw.plain());
                       if (need_b) in[2].add_grad(db);
                   }
               },
               "conv2d");
}

}  // namespace infomax::ops
