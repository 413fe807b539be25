// batch_norm and max_pool2d on oneDNN; both accept and keep blocked layouts.
#include <fmt/format.h>

#include "backend/onednn/context.hpp"
#include "infomax/ops/ops.hpp"
#include "infomax/runtime/error.hpp"
#include "ops/kernels.hpp"

namespace infomax::ops {

namespace {

using namespace infomax::detail;
using dnnl::memory;
using nflags = dnnl::normalization_flags;

struct BnEntry {
    dnnl::batch_normalization_forward::primitive_desc fwd_pd;
    dnnl::batch_normalization_forward fwd;
    dnnl::batch_normalization_backward::primitive_desc bwd_pd;
    dnnl::batch_normalization_backward bwd;
};

struct PoolEntry {
    dnnl::pooling_forward::primitive_desc fwd_pd;
    dnnl::pooling_forward fwd;
    dnnl::pooling_backward::primitive_desc bwd_pd;
    dnnl::pooling_backward bwd;
};

}  // namespace

Var batch_norm(const Var& x, const Var& gamma, const Var& beta, Tensor& running_mean, Tensor& running_var,
               bool training, float momentum, float eps) {
    static auto& cache = *new PrimitiveCache<BnEntry>();  // never destroyed: see context.hpp
    const Shape& xs = x.shape();
    if (xs.size() != 2 && xs.size() != 4)
        throw ShapeError(fmt::format("batch_norm: expected input (N, C) or (N, C, H, W), got {}", to_string(xs)));
    const Shape cs{xs[1]};
    for (auto [what, s] : {std::pair{"gamma", gamma.shape()}, {"beta", beta.shape()},
                           {"running_mean", running_mean.shape()}, {"running_var", running_var.shape()}})
        if (s != cs)
            throw ShapeError(fmt::format("batch_norm: {} has shape {}, expected {} for input {}", what, to_string(s),
                                         to_string(cs), to_string(xs)));
    const std::int64_t count = numel(xs) / xs[1];
    if (training && count < 2)
        throw ShapeError(fmt::format("batch_norm: training needs more than one value per channel, got input {} "
                                     "(use a batch larger than 1, or inference mode)",
                                     to_string(xs)));
    const Tensor& xv = x.value();
    const memory::desc md = desc_of(xv);
    const auto flags = nflags::use_scale | nflags::use_shift | (training ? nflags::none : nflags::use_global_stats);
    auto& e = cache.get(fmt::format("{}|{}|{}", key_of(md), training, eps), [&] {
        try {
            dnnl::batch_normalization_forward::primitive_desc fpd(
                {dnnl::prop_kind::forward_training, md, eps, flags}, engine());
            dnnl::batch_normalization_backward::primitive_desc bpd({dnnl::prop_kind::backward, md, md, eps, flags},
                                                                   engine(), fpd);
            return BnEntry{fpd, dnnl::batch_normalization_forward(fpd), bpd,
                           dnnl::batch_normalization_backward(bpd)};
        } catch (const dnnl::error& err) { rethrow("batch_norm", err); }
    });
    Tensor y = tensor_for(xs, e.fwd_pd.dst_desc());
    Tensor mean = training ? Tensor::empty(cs) : running_mean.clone();
    Tensor var = training ? Tensor::empty(cs) : running_var.clone();
    execute("batch_norm", e.fwd,
            {{DNNL_ARG_SRC, mem(xv)},
             {DNNL_ARG_DST, mem(y)},
             {DNNL_ARG_SCALE, mem(gamma.value())},
             {DNNL_ARG_SHIFT, mem(beta.value())},
             {DNNL_ARG_MEAN, mem(mean)},
             {DNNL_ARG_VARIANCE, mem(var)}});
    if (training) {
        float* rm = running_mean.data();
        float* rv = running_var.data();
        const float unbias = static_cast<float>(count) / static_cast<float>(count - 1);
        for (std::int64_t c = 0; c < xs[1]; ++c) {
            rm[c] = (1 - momentum) * rm[c] + momentum * mean.data()[c];
            rv[c] = (1 - momentum) * rv[c] + momentum * var.data()[c] * unbias;
        }
    }
    return Var(y, {x, gamma, beta},
               [&e, xv, mean, var](std::vector<Var>& in, const Tensor& g) {
                   Tensor gd = to_desc(g, e.bwd_pd.diff_dst_desc());
                   Tensor dx = tensor_for(xv.shape(), e.bwd_pd.diff_src_desc());
                   Tensor dg = Tensor::empty(in[1].shape()), db = Tensor::empty(in[2].shape());
                   execute("batch_norm backward", e.bwd,
                           {{DNNL_ARG_SRC, mem(xv)},
                            {DNNL_ARG_MEAN, mem(mean)},
                            {DNNL_ARG_VARIANCE, mem(var)},
                            {DNNL_ARG_DIFF_DST, mem(gd)},
                            {DNNL_ARG_SCALE, mem(in[1].value())},
                            {DNNL_ARG_SHIFT, mem(in[2].value())},
                            {DNNL_ARG_DIFF_SRC, mem(dx)},
                            {DNNL_ARG_DIFF_SCALE, mem(dg)},
                            {DNNL_ARG_DIFF_SHIFT, mem(db)}});
                   in[0].add_grad(dx);
                   in[1].add_grad(dg);
                   in[2].add_grad(db);
               },
               "batch_norm");
}

Var max_pool2d(const Var& x, std::int64_t kernel, std::int64_t stride, std::int64_t padding) {
    static auto& cache = *new PrimitiveCache<PoolEntry>();  // never destroyed: see context.hpp
    if (stride == 0) stride = kernel;
    const Shape& xs = x.shape();
    if (xs.size() != 4)
        throw ShapeError(fmt::format("max_pool2d: expected input (N, C, H, W), got {}", to_string(xs)));
    if (kernel < 1 || stride < 1 || padding < 0 || 2 * padding > kernel)
        throw ShapeError(fmt::format("max_pool2d: kernel {} stride {} padding {}: need kernel >= 1, stride >= 1, "
                                     "0 <= padding <= kernel/2",
                                     kernel, stride, padding));
    if (xs[2] + 2 * padding < kernel || xs[3] + 2 * padding < kernel)
        throw ShapeError(fmt::format("max_pool2d: kernel {} is larger than the padded input {}", kernel, to_string(xs)));
    const std::int64_t oh = (xs[2] + 2 * padding - kernel) / stride + 1;
    const std::int64_t ow = (xs[3] + 2 * padding - kernel) / stride + 1;
    const Shape ys{xs[0], xs[1], oh, ow};
    const Tensor& xv = x.value();
    const memory::desc md = desc_of(xv);
    auto& e = cache.get(fmt::format("{}|{}|{}|{}", key_of(md), kernel, stride, padding), [&] {
        try {
            // Right padding so that the last window fits exactly (floor mode).
            const memory::dims k{kernel, kernel}, s{stride, stride}, pl{padding, padding},
                pr{(oh - 1) * stride + kernel - xs[2] - padding, (ow - 1) * stride + kernel - xs[3] - padding};
            memory::desc dst_any(dims_of(ys), memory::data_type::f32, memory::format_tag::any);
            dnnl::pooling_forward::primitive_desc fpd(
                {dnnl::prop_kind::forward_training, dnnl::algorithm::pooling_max, md, dst_any, s, k, pl, pr}, engine());
            dnnl::pooling_backward::primitive_desc bpd(
                {dnnl::algorithm::pooling_max, md, fpd.dst_desc(), s, k, pl, pr}, engine(), fpd);
            return PoolEntry{fpd, dnnl::pooling_forward(fpd), bpd, dnnl::pooling_backward(bpd)};
        } catch (const dnnl::error& err) { rethrow("max_pool2d", err); }
    });
    Tensor y = tensor_for(ys, e.fwd_pd.dst_desc());
    // The workspace (argmax positions) must live from forward to backward.
    Tensor ws = Tensor::empty({static_cast<std::int64_t>((e.fwd_pd.workspace_desc().get_size() + 3) / 4)});
    execute("max_pool2d", e.fwd,
            {{DNNL_ARG_SRC, mem(xv)}, {DNNL_ARG_DST, mem(y)}, {DNNL_ARG_WORKSPACE, mem(ws, e.fwd_pd.workspace_desc())}});
    return Var(y, {x},
               [&e, ws, xs](std::vector<Var>& in, const Tensor& g) {
                   Tensor gd = to_desc(g, e.bwd_pd.diff_dst_desc());
                   Tensor dx = tensor_for(xs, e.bwd_pd.diff_src_desc());
                   execute("max_pool2d backward", e.bwd,
                           {{DNNL_ARG_DIFF_DST, mem(gd)},
                            {DNNL_ARG_WORKSPACE, mem(ws, e.fwd_pd.workspace_desc())},
                            {DNNL_ARG_DIFF_SRC, mem(dx)}});
                   in[0].add_grad(dx);
               },
               "max_pool2d");
}

}  // namespace infomax::ops
