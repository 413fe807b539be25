// batch_norm and max_pool2d on oneDNN; both accept and keep blocked layouts.
#include <fmt/format.h>

#include "backend/onednn/context.hpp"
#include "infomax/ops/ops.hpp"
#include "infomax/runtime/error.hpp"
#include "infomax/runtime/world.hpp"
#include "ops/batch_stats.hpp"
#include "ops/kernels.hpp"
#include "runtime/collectives.hpp"

#include <cmath>
#include <vector>

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

// Per-channel sums of x and of x squared over plain (N, C, S) data.
void channel_sums(const float* x, std::int64_t n, std::int64_t c, std::int64_t s, double* sum, double* sum_sq) {
    for (std::int64_t k = 0; k < c; ++k) sum[k] = sum_sq[k] = 0;
    for (std::int64_t i = 0; i < n; ++i)
        for (std::int64_t k = 0; k < c; ++k) {
            const float* p = x + (i * c + k) * s;
            double a = 0, a2 = 0;
            for (std::int64_t j = 0; j < s; ++j) {
                a += p[j];
                a2 += double(p[j]) * p[j];
            }
            sum[k] += a;
            sum_sq[k] += a2;
        }
}

}  // namespace

}  // namespace infomax::ops

namespace infomax::detail {
namespace {
thread_local bool g_global_stats = false;
}
GlobalBatchStats::GlobalBatchStats(bool on) : prev_(g_global_stats) { g_global_stats = on; }
GlobalBatchStats::~GlobalBatchStats() { g_global_stats = prev_; }
bool global_batch_stats() { return g_global_stats; }
}  // namespace infomax::detail

namespace infomax::ops {

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
    // Data-parallel training: the statistics of every rank's rows, given to
    // oneDNN as fixed ones; backward adds what fixed statistics leave out.
    const bool global = training && global_batch_stats();
    const auto flags = nflags::use_scale | nflags::use_shift | (training && !global ? nflags::none : nflags::use_global_stats);
    auto& e = cache.get(fmt::format("{}|{}|{}|{}", key_of(md), training, eps, global), [&] {
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
    Tensor mean = training && !global ? Tensor::empty(cs) : running_mean.clone();
    Tensor var = training && !global ? Tensor::empty(cs) : running_var.clone();
    const std::int64_t n = xs[0], c = xs[1], spatial = count / n;
    const std::int64_t global_count = count * world().size;  // every rank holds as many rows
    if (global) {
        std::vector<double> sums(2 * c);
        channel_sums(xv.plain().data(), n, c, spatial, sums.data(), sums.data() + c);
        allreduce_sum(sums.data(), sums.size());
        for (std::int64_t k = 0; k < c; ++k) {
            const double m = sums[k] / double(global_count);
            mean.data()[k] = static_cast<float>(m);
            var.data()[k] = static_cast<float>(std::max(0.0, sums[c + k] / double(global_count) - m * m));
        }
    }
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
        const std::int64_t m = global ? global_count : count;
        const float unbias = static_cast<float>(m) / static_cast<float>(m - 1);
        for (std::int64_t c = 0; c < xs[1]; ++c) {
            rm[c] = (1 - momentum) * rm[c] + momentum * mean.data()[c];
            rv[c] = (1 - momentum) * rv[c] + momentum * var.data()[c] * unbias;
        }
    }
    return Var(y, {x, gamma, beta},
               [&e, xv, mean, var, global, eps, global_count](std::vector<Var>& in, const Tensor& g) {
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
                   if (global) {
                       // With fixed statistics oneDNN gives gamma * invstd * dy; the
                       // statistics' own terms need the global sums of dy and dy * xhat
                       // (this rank's are db and dg, which stay local: the parameters'
                       // gradients are summed over ranks with the others').
                       const Shape& s = xv.shape();
                       const std::int64_t n = s[0], c = s[1], sp = numel(s) / (n * c);
                       std::vector<double> sums(2 * c);
                       for (std::int64_t k = 0; k < c; ++k) sums[k] = db.data()[k], sums[c + k] = dg.data()[k];
                       allreduce_sum(sums.data(), sums.size());
                       Tensor dxp = dx.plain().clone();
                       const Tensor xp = xv.plain();
                       const float* gamma = in[1].value().data();
                       for (std::int64_t i = 0; i < n; ++i)
                           for (std::int64_t k = 0; k < c; ++k) {
                               const double invstd = 1.0 / std::sqrt(double(var.data()[k]) + eps), mu = mean.data()[k];
                               const double f = gamma[k] * invstd / double(global_count);
                               float* d = dxp.data() + (i * c + k) * sp;
                               const float* xx = xp.data() + (i * c + k) * sp;
                               for (std::int64_t j = 0; j < sp; ++j)
                                   d[j] = static_cast<float>(d[j] - f * (sums[k] + (xx[j] - mu) * invstd * sums[c + k]));
                           }
                       dx = dxp;
                   }
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
