#include "infomax/optim/optim.hpp"

#include <fmt/format.h>

#include <cmath>

#include "infomax/runtime/error.hpp"
#include "ops/kernels.hpp"

namespace infomax::optim {

Optimizer::Optimizer(std::vector<Var> params) : params_(std::move(params)) {
    for (auto& p : params_) {
        if (!p.defined() || !p.is_leaf() || !p.requires_grad())
            throw Error("optimizer: every parameter must be a leaf Var that requires grad");
        if (!p.value().is_plain()) throw Error("optimizer: parameters must be plain tensors");
    }
}

void Optimizer::zero_grad() {
    for (auto& p : params_) p.zero_grad();
}

Adam::Adam(std::vector<Var> params, AdamOptions opt) : Optimizer(std::move(params)), options(opt) {
    lr = opt.lr;
    for (auto& p : params_) {
        m.push_back(Tensor::zeros(p.shape()));
        v.push_back(Tensor::zeros(p.shape()));
    }
}

void Adam::step() {
    ++t_;
    const float b1 = options.beta1, b2 = options.beta2, eps = options.eps, wd = options.weight_decay;
    const double bc1 = 1.0 - std::pow(double(b1), double(t_));
    const double bc2 = 1.0 - std::pow(double(b2), double(t_));
    const float step_size = static_cast<float>(lr / bc1);
    const float inv_sqrt_bc2 = static_cast<float>(1.0 / std::sqrt(bc2));
    const bool decoupled = options.decoupled_weight_decay;
    const float lr_ = lr;
    for (std::size_t k = 0; k < params_.size(); ++k) {
        Var& p = params_[k];
        if (!p.grad().defined()) continue;  // unused this step
        Tensor g = p.grad().plain();
        float* w = p.value().data();
        const float* gd = g.data();
        float* mm = m[k].data();
        float* vv = v[k].data();
        kernels::parallel_for(p.numel(), 1 << 14, [&](std::int64_t b, std::int64_t e) {
            for (std::int64_t i = b; i < e; ++i) {
                float gi = gd[i];
                if (wd != 0.0f) {
                    if (decoupled)
                        w[i] *= 1.0f - lr_ * wd;
                    else
                        gi += wd * w[i];
                }
                mm[i] = b1 * mm[i] + (1.0f - b1) * gi;
                vv[i] = b2 * vv[i] + (1.0f - b2) * gi * gi;
                w[i] -= step_size * mm[i] / (std::sqrt(vv[i]) * inv_sqrt_bc2 + eps);
            }
        });
    }
}

Sgd::Sgd(std::vector<Var> params, SgdOptions opt) : Optimizer(std::move(params)), options(opt) {
    lr = opt.lr;
    if (opt.momentum != 0.0f)
        for (const auto& p : params_) momentum_buffers.push_back(Tensor::zeros(p.shape()));
}

std::vector<std::pair<std::string, std::vector<Tensor>*>> Sgd::state() {
    if (momentum_buffers.empty()) return {};
    return {{"momentum", &momentum_buffers}};
}

void Sgd::step() {
    const float mom = options.momentum, wd = options.weight_decay, lr_ = lr;
    const bool nesterov = options.nesterov;
    const bool first = t_ == 0;  // a counter, not an empty buffer: checkpoints restore it
    ++t_;
    for (std::size_t k = 0; k < params_.size(); ++k) {
        Var& p = params_[k];
        if (!p.grad().defined()) continue;
        Tensor g = p.grad().plain();
        float* w = p.value().data();
        const float* gd = g.data();
        float* buf = mom != 0.0f ? momentum_buffers[k].data() : nullptr;
        kernels::parallel_for(p.numel(), 1 << 14, [&](std::int64_t b, std::int64_t e) {
            for (std::int64_t i = b; i < e; ++i) {
                float gi = gd[i] + wd * w[i];
                if (buf) {
                    buf[i] = first ? gi : mom * buf[i] + gi;
                    gi = nesterov ? gi + mom * buf[i] : buf[i];
                }
                w[i] -= lr_ * gi;
            }
        });
    }
}

float clip_grad_norm(const std::vector<Var>& params, float max_norm) {
    double total = 0;
    for (const auto& p : params)
        if (p.grad().defined()) total += kernels::sum_squares(p.grad());
    const float norm = static_cast<float>(std::sqrt(total));
    if (norm > max_norm) {
        const float scale = max_norm / (norm + 1e-6f);
        for (auto p : params)
            if (p.grad().defined()) {
                Tensor g = kernels::affine(p.grad(), scale, 0.0f);
                p.zero_grad();
                p.add_grad(g);
            }
    }
    return norm;
}

}  // namespace infomax::optim
