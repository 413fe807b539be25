// Modules: parameters, buffers and a forward function. Layers built from ops;
// a Sequential chains them. Parameters are plain row-major tensors, so the
// optimizer and checkpoints see ordinary (O, I) / (O, C, KH, KW) arrays.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "infomax/autograd/var.hpp"
#include "infomax/nn/init.hpp"
#include "infomax/tensor/random.hpp"

namespace infomax::nn {

struct NamedParameter {
    std::string name;
    Var var;
};
struct NamedBuffer {
    std::string name;
    Tensor* tensor;
};

class Module {
public:
    virtual ~Module() = default;
    virtual Var forward(const Var& x) = 0;
    Var operator()(const Var& x) { return forward(x); }
    // One line, e.g. "conv2d(1->32, kernel 6, stride 5)".
    virtual std::string describe() const = 0;

    // Every parameter and buffer of this module and its children, with dotted names.
    std::vector<NamedParameter> parameters();
    std::vector<Var> parameter_vars();
    std::vector<NamedBuffer> buffers();

    // Training or inference mode, for this module and its children.
    virtual void train(bool on = true);
    bool training() const { return training_; }

protected:
    // Registers a child: its parameters are named "<name>.<param>" and train()
    // reaches it. Returns the child for convenience.
    template <class M>
    std::shared_ptr<M> add_module(std::string name, std::shared_ptr<M> m) {
        m->train(training_);
        children_.emplace_back(std::move(name), m);
        return m;
    }
    // Adds own parameters/buffers (override in leaf layers); the default
    // collects the registered children.
    virtual void collect(const std::string& prefix, std::vector<NamedParameter>* params,
                         std::vector<NamedBuffer>* buffers);
    bool training_ = true;
    std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

class Linear : public Module {
public:
    Linear(std::int64_t in, std::int64_t out, Rng& rng, bool bias = true, Init init = Init::pytorch_default);
    Var forward(const Var& x) override;
    std::string describe() const override;
    Var weight, bias;

protected:
    void collect(const std::string& p, std::vector<NamedParameter>* ps, std::vector<NamedBuffer>*) override;
};

class Conv2d : public Module {
public:
    Conv2d(std::int64_t in, std::int64_t out, std::int64_t kernel, Rng& rng, std::int64_t stride = 1,
           std::int64_t padding = 0, bool bias = true, Init init = Init::pytorch_default);
    Var forward(const Var& x) override;
    std::string describe() const override;
    Var weight, bias;
    std::int64_t stride, padding;

protected:
    void collect(const std::string& p, std::vector<NamedParameter>* ps, std::vector<NamedBuffer>*) override;
};

// Batch normalisation over (N, C) or (N, C, H, W): gamma = 1, beta = 0.
class BatchNorm : public Module {
public:
    explicit BatchNorm(std::int64_t channels, float momentum = 0.1f, float eps = 1e-5f);
    Var forward(const Var& x) override;
    std::string describe() const override;
    Var gamma, beta;
    Tensor running_mean, running_var;
    float momentum, eps;

protected:
    void collect(const std::string& p, std::vector<NamedParameter>* ps, std::vector<NamedBuffer>* bs) override;
};

enum class Activation { relu, leaky_relu, sigmoid, tanh, softplus };
Activation parse_activation(const std::string& name);  // "relu", "leaky_relu", "sigmoid", "tanh", "softplus"
const std::vector<std::string>& activation_names();
class Act : public Module {
public:
    explicit Act(Activation kind, float slope = 0.01f) : kind(kind), slope(slope) {}
    Var forward(const Var& x) override;
    std::string describe() const override;
    Activation kind;
    float slope;
};

class MaxPool2d : public Module {
public:
    explicit MaxPool2d(std::int64_t kernel, std::int64_t stride = 0, std::int64_t padding = 0)
        : kernel(kernel), stride(stride), padding(padding) {}
    Var forward(const Var& x) override;
    std::string describe() const override;
    std::int64_t kernel, stride, padding;
};

class Flatten : public Module {
public:
    Var forward(const Var& x) override;
    std::string describe() const override { return "flatten"; }
};

// Its random stream's state is a buffer ("rng_state", the 4 state words as 8
// raw 32-bit values), so a checkpoint restores the masks a resumed run draws.
class Dropout : public Module {
public:
    Dropout(float p, Rng rng);
    Var forward(const Var& x) override;
    std::string describe() const override;
    float p;

protected:
    void collect(const std::string& p, std::vector<NamedParameter>*, std::vector<NamedBuffer>* bs) override;

private:
    Tensor rng_state_;  // (8): the stream's state, bit for bit
};

class Sequential : public Module {
public:
    Sequential() = default;
    Sequential& add(std::shared_ptr<Module> m);
    template <class M, class... Args>
    Sequential& emplace(Args&&... args) {
        return add(std::make_shared<M>(std::forward<Args>(args)...));
    }
    Var forward(const Var& x) override;
    std::string describe() const override;
    std::shared_ptr<Module> child(std::size_t i) const { return children_.at(i).second; }
    std::size_t size() const { return children_.size(); }
};

// in -> hidden[0] -> ... -> hidden[k-1] -> out, the activation after every
// hidden layer (not after the last); with batch_norm, hidden linears have no
// bias and a BatchNorm before the activation (the TensorFlow reference's prior discriminator).
std::shared_ptr<Sequential> make_mlp(std::int64_t in, const std::vector<std::int64_t>& hidden, std::int64_t out,
                                     Activation act, Rng& rng, Init init = Init::pytorch_default,
                                     bool batch_norm = false);
// The same with 1x1 convolutions: a per-location MLP over channels.
std::shared_ptr<Sequential> make_conv1x1_mlp(std::int64_t in, const std::vector<std::int64_t>& hidden,
                                             std::int64_t out, Activation act, Rng& rng,
                                             Init init = Init::pytorch_default);

}  // namespace infomax::nn
