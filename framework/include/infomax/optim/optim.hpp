// Optimizers over parameter Vars (plain tensors, updated in place).
// step() applies one update from the accumulated gradients; zero_grad() clears
// them (call once per step, before backward).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "infomax/autograd/var.hpp"

namespace infomax::optim {

class Optimizer {
public:
    explicit Optimizer(std::vector<Var> params);
    virtual ~Optimizer() = default;
    virtual void step() = 0;
    void zero_grad();
    const std::vector<Var>& params() const { return params_; }
    float lr = 0.0f;
    // What a checkpoint keeps besides the parameters: per name ("m" and "v"
    // for Adam, "momentum" for SGD with momentum) one tensor per parameter,
    // and the number of steps taken.
    virtual std::vector<std::pair<std::string, std::vector<Tensor>*>> state() { return {}; }
    std::int64_t steps() const { return t_; }
    void set_steps(std::int64_t t) { t_ = t; }  // restoring a checkpoint

protected:
    std::vector<Var> params_;
    std::int64_t t_ = 0;  // steps taken
};

struct AdamOptions {
    float lr = 1e-3f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
    float weight_decay = 0.0f;
    bool decoupled_weight_decay = false;  // false: L2 added to the gradient (Adam); true: AdamW
};

// Adam with bias correction, written as PyTorch's torch.optim.Adam.
class Adam : public Optimizer {
public:
    Adam(std::vector<Var> params, AdamOptions opt = {});
    void step() override;
    std::vector<std::pair<std::string, std::vector<Tensor>*>> state() override { return {{"m", &m}, {"v", &v}}; }
    AdamOptions options;
    std::vector<Tensor> m, v;  // first and second moments, one per parameter
};

struct SgdOptions {
    float lr = 1e-2f, momentum = 0.0f, weight_decay = 0.0f;
    bool nesterov = false;
};

// SGD with momentum (PyTorch's form: buf = g on the first step, then
// buf = momentum * buf + g).
class Sgd : public Optimizer {
public:
    Sgd(std::vector<Var> params, SgdOptions opt = {});
    void step() override;
    std::vector<std::pair<std::string, std::vector<Tensor>*>> state() override;
    SgdOptions options;
    std::vector<Tensor> momentum_buffers;  // one per parameter when momentum != 0, else none
};

// Scale all gradients so their global L2 norm is at most max_norm.
// Returns the norm before clipping.
float clip_grad_norm(const std::vector<Var>& params, float max_norm);

}  // namespace infomax::optim
