// Unary activations on oneDNN eltwise primitives. They keep the input's layout,
// so blocked tensors from conv/batchnorm pass through without reorders.
#include <fmt/format.h>

#include "backend/onednn/context.hpp"
#include "infomax/ops/ops.hpp"

namespace infomax::ops {

namespace {

using dnnl::algorithm;
using namespace infomax::detail;

struct EltwiseEntry {
    dnnl::eltwise_forward::primitive_desc fwd_pd;
    dnnl::eltwise_forward fwd;
    dnnl::eltwise_backward::primitive_desc bwd_pd;
    dnnl::eltwise_backward bwd;
};

// `use_dst`: the algorithm computes its backward from the output, so only the
// output is kept alive for the backward pass.
Var eltwise(const Var& x, algorithm alg, float alpha, bool use_dst, const char* name) {
    static auto& cache = *new PrimitiveCache<EltwiseEntry>();  // never destroyed: see context.hpp
    const Tensor& xv = x.value();
    const dnnl::memory::desc md = desc_of(xv);
    auto& e = cache.get(fmt::format("{}:{}:{}", int(alg), alpha, key_of(md)), [&] {
        try {
            dnnl::eltwise_forward::primitive_desc fpd(
                {dnnl::prop_kind::forward_training, alg, md, alpha, 0.0f}, engine());
            dnnl::eltwise_backward::primitive_desc bpd({alg, md, md, alpha, 0.0f}, engine(), fpd);
            return EltwiseEntry{fpd, dnnl::eltwise_forward(fpd), bpd, dnnl::eltwise_backward(bpd)};
        } catch (const dnnl::error& err) { rethrow(name, err); }
    });
    Tensor y = tensor_for(xv.shape(), e.fwd_pd.dst_desc());
    execute(name, e.fwd, {{DNNL_ARG_SRC, mem(xv)}, {DNNL_ARG_DST, mem(y)}});
    Tensor saved = use_dst ? y : xv;
    return Var(y, {x},
               [&e, saved, use_dst, name](std::vector<Var>& in, const Tensor& g) {
                   Tensor gd = to_desc(g, e.bwd_pd.diff_dst_desc());
                   Tensor dx = tensor_for(saved.shape(), e.bwd_pd.diff_src_desc());
                   execute(name, e.bwd,
                           {{use_dst ? DNNL_ARG_DST : DNNL_ARG_SRC, mem(saved, e.bwd_pd.src_desc())},
                            {DNNL_ARG_DIFF_DST, mem(gd)},
                            {DNNL_ARG_DIFF_SRC, mem(dx)}});
                   in[0].add_grad(dx);
               },
               name);
}

}  // namespace

Var relu(const Var& x) { return eltwise(x, algorithm::eltwise_relu_use_dst_for_bwd, 0.0f, true, "relu"); }
Var leaky_relu(const Var& x, float slope) {
    return eltwise(x, algorithm::eltwise_relu, slope, false, "leaky_relu");
}
Var sigmoid(const Var& x) {
    return eltwise(x, algorithm::eltwise_logistic_use_dst_for_bwd, 0.0f, true, "sigmoid");
}
Var tanh(const Var& x) { return eltwise(x, algorithm::eltwise_tanh_use_dst_for_bwd, 0.0f, true, "tanh"); }
Var softplus(const Var& x) { return eltwise(x, algorithm::eltwise_soft_relu, 0.0f, false, "softplus"); }
Var log_sigmoid(const Var& x) { return eltwise(x, algorithm::eltwise_logsigmoid, 0.0f, false, "log_sigmoid"); }
Var exp(const Var& x) { return eltwise(x, algorithm::eltwise_exp_use_dst_for_bwd, 0.0f, true, "exp"); }
Var log(const Var& x) { return eltwise(x, algorithm::eltwise_log, 0.0f, false, "log"); }

}  // namespace infomax::ops
