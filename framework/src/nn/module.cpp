#include "infomax/nn/module.hpp"

#include <fmt/format.h>

#include <cstring>

#include "infomax/ops/ops.hpp"
#include "infomax/runtime/error.hpp"

namespace infomax::nn {

std::vector<NamedParameter> Module::parameters() {
    std::vector<NamedParameter> ps;
    collect("", &ps, nullptr);
    return ps;
}

std::vector<Var> Module::parameter_vars() {
    std::vector<Var> vs;
    for (auto& p : parameters()) vs.push_back(p.var);
    return vs;
}

std::vector<NamedBuffer> Module::buffers() {
    std::vector<NamedBuffer> bs;
    collect("", nullptr, &bs);
    return bs;
}

void Module::train(bool on) {
    training_ = on;
    for (auto& [name, c] : children_) c->train(on);
}

void Module::collect(const std::string& p, std::vector<NamedParameter>* ps, std::vector<NamedBuffer>* bs) {
    for (auto& [name, c] : children_) c->collect(p + name + ".", ps, bs);
}

// ---- Linear ----------------------------------------------------------------
Linear::Linear(std::int64_t in, std::int64_t out, Rng& rng, bool with_bias, Init init) {
    Tensor w = Tensor::empty({out, in});
    Tensor b = with_bias ? Tensor::empty({out}) : Tensor();
    init_parameters(w, with_bias ? &b : nullptr, in, out, init, rng);
    weight = Var(w, true);
    if (with_bias) bias = Var(b, true);
}
Var Linear::forward(const Var& x) { return ops::linear(x, weight, bias); }
std::string Linear::describe() const {
    return fmt::format("linear({}->{}{})", weight.size(1), weight.size(0), bias.defined() ? "" : ", no bias");
}
void Linear::collect(const std::string& p, std::vector<NamedParameter>* ps, std::vector<NamedBuffer>*) {
    if (!ps) return;
    ps->push_back({p + "weight", weight});
    if (bias.defined()) ps->push_back({p + "bias", bias});
}

// ---- Conv2d ----------------------------------------------------------------
Conv2d::Conv2d(std::int64_t in, std::int64_t out, std::int64_t kernel, Rng& rng, std::int64_t stride_,
               std::int64_t padding_, bool with_bias, Init init)
    : stride(stride_), padding(padding_) {
    Tensor w = Tensor::empty({out, in, kernel, kernel});
    Tensor b = with_bias ? Tensor::empty({out}) : Tensor();
    init_parameters(w, with_bias ? &b : nullptr, in * kernel * kernel, out * kernel * kernel, init, rng);
    weight = Var(w, true);
    if (with_bias) bias = Var(b, true);
}
Var Conv2d::forward(const Var& x) { return ops::conv2d(x, weight, bias, stride, padding); }
std::string Conv2d::describe() const {
    return fmt::format("conv2d({}->{}, kernel {}, stride {}, padding {})", weight.size(1), weight.size(0),
                       weight.size(2), stride, padding);
}
void Conv2d::collect(const std::string& p, std::vector<NamedParameter>* ps, std::vector<NamedBuffer>*) {
    if (!ps) return;
    ps->push_back({p + "weight", weight});
    if (bias.defined()) ps->push_back({p + "bias", bias});
}

// ---- BatchNorm -------------------------------------------------------------
BatchNorm::BatchNorm(std::int64_t c, float momentum_, float eps_)
    : gamma(Tensor::ones({c}), true),
      beta(Tensor::zeros({c}), true),
      running_mean(Tensor::zeros({c})),
      running_var(Tensor::ones({c})),
      momentum(momentum_),
      eps(eps_) {}
Var BatchNorm::forward(const Var& x) {
    return ops::batch_norm(x, gamma, beta, running_mean, running_var, training_, momentum, eps);
}
std::string BatchNorm::describe() const { return fmt::format("batch_norm({})", gamma.size(0)); }
void BatchNorm::collect(const std::string& p, std::vector<NamedParameter>* ps, std::vector<NamedBuffer>* bs) {
    if (ps) {
        ps->push_back({p + "gamma", gamma});
        ps->push_back({p + "beta", beta});
    }
    if (bs) {
        bs->push_back({p + "running_mean", &running_mean});
        bs->push_back({p + "running_var", &running_var});
    }
}

// ---- stateless layers --------------------------------------------------------
Var Act::forward(const Var& x) {
    switch (kind) {
        case Activation::relu: return ops::relu(x);
        case Activation::leaky_relu: return ops::leaky_relu(x, slope);
        case Activation::sigmoid: return ops::sigmoid(x);
        case Activation::tanh: return ops::tanh(x);
        case Activation::softplus: return ops::softplus(x);
    }
    return x;
}
const std::vector<std::string>& activation_names() {
    static const std::vector<std::string> n{"relu", "leaky_relu", "sigmoid", "tanh", "softplus"};
    return n;
}
Activation parse_activation(const std::string& name) {
    const auto& n = activation_names();
    for (std::size_t i = 0; i < n.size(); ++i)
        if (n[i] == name) return static_cast<Activation>(i);
    throw Error(fmt::format("unknown activation '{}' (known: {})", name, fmt::join(n, ", ")));
}
std::string Act::describe() const { return activation_names()[static_cast<int>(kind)]; }

Var MaxPool2d::forward(const Var& x) { return ops::max_pool2d(x, kernel, stride, padding); }
std::string MaxPool2d::describe() const {
    return fmt::format("max_pool2d(kernel {}, stride {})", kernel, stride ? stride : kernel);
}

Var Flatten::forward(const Var& x) { return ops::flatten(x, 1); }

Dropout::Dropout(float p_, Rng rng) : p(p_), rng_state_(Tensor::zeros({8})) {
    const Rng::State st = rng.state();
    std::memcpy(rng_state_.data(), st.s, sizeof st.s);
}

Var Dropout::forward(const Var& x) {
    if (!training_ || p == 0.0f) return x;
    Rng::State st;
    std::memcpy(st.s, rng_state_.data(), sizeof st.s);
    Rng rng;
    rng.set_state(st);
    Var y = ops::dropout(x, p, training_, rng);
    st = rng.state();
    std::memcpy(rng_state_.data(), st.s, sizeof st.s);
    return y;
}

void Dropout::collect(const std::string& prefix, std::vector<NamedParameter>*, std::vector<NamedBuffer>* bs) {
    if (bs) bs->push_back({prefix + "rng_state", &rng_state_});
}
std::string Dropout::describe() const { return fmt::format("dropout({})", p); }

// ---- Sequential --------------------------------------------------------------
Sequential& Sequential::add(std::shared_ptr<Module> m) {
    add_module(std::to_string(children_.size()), std::move(m));
    return *this;
}
Var Sequential::forward(const Var& x) {
    Var h = x;
    for (auto& [name, c] : children_) h = c->forward(h);
    return h;
}
std::string Sequential::describe() const {
    std::string s = "sequential(";
    for (std::size_t i = 0; i < children_.size(); ++i) s += (i ? ", " : "") + children_[i].second->describe();
    return s + ")";
}

std::shared_ptr<Sequential> make_mlp(std::int64_t in, const std::vector<std::int64_t>& hidden, std::int64_t out,
                                     Activation act, Rng& rng, Init init, bool batch_norm) {
    auto net = std::make_shared<Sequential>();
    std::int64_t width = in;
    for (auto h : hidden) {
        net->emplace<Linear>(width, h, rng, !batch_norm, init);
        if (batch_norm) net->emplace<BatchNorm>(h);
        net->emplace<Act>(act);
        width = h;
    }
    net->emplace<Linear>(width, out, rng, true, init);
    return net;
}

std::shared_ptr<Sequential> make_conv1x1_mlp(std::int64_t in, const std::vector<std::int64_t>& hidden,
                                             std::int64_t out, Activation act, Rng& rng, Init init) {
    auto net = std::make_shared<Sequential>();
    std::int64_t width = in;
    for (auto h : hidden) {
        net->emplace<Conv2d>(width, h, 1, rng, 1, 0, true, init);
        net->emplace<Act>(act);
        width = h;
    }
    net->emplace<Conv2d>(width, out, 1, rng, 1, 0, true, init);
    return net;
}

}  // namespace infomax::nn
