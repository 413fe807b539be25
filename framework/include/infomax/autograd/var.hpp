// Var: a tensor plus what reverse-mode differentiation needs.
//
// A Var is a cheap handle (shared node). An op computes its result and returns
// Var(result, {inputs...}, backward_fn); the graph exists only through those
// inputs, there is no global tape. backward() sorts the graph topologically,
// walks it in reverse and frees it. Rules every op follows:
//  - backward_fn receives the node's inputs and the gradient of its output and
//    calls inputs[i].add_grad(g) only for inputs that requires_grad();
//  - gradients accumulate; a Var's grad always has the same shape and physical
//    layout as its value (add_grad reorders if needed);
//  - the optimizer (or zero_grad) clears parameter gradients once per step.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "infomax/tensor/tensor.hpp"

namespace infomax {

class Var;
using BackwardFn = std::function<void(std::vector<Var>& inputs, const Tensor& grad_out)>;

class Var {
public:
    Var() = default;
    // A leaf: data or a parameter.
    explicit Var(Tensor value, bool requires_grad = false);
    // The result of an op. It requires grad when any input does (and grad
    // recording is on); otherwise inputs and backward are dropped at once.
    Var(Tensor value, std::vector<Var> inputs, BackwardFn backward, const char* op);

    bool defined() const { return n_ != nullptr; }
    const Tensor& value() const;
    Tensor& value();
    const Shape& shape() const { return value().shape(); }
    std::int64_t size(std::int64_t d) const { return value().size(d); }
    std::int64_t dim() const { return value().dim(); }
    std::int64_t numel() const { return value().numel(); }
    float item() const { return value().item(); }
    const char* op() const;

    bool requires_grad() const;
    void set_requires_grad(bool r);
    bool is_leaf() const;

    // Gradient so far (undefined until something flows in).
    const Tensor& grad() const;
    void add_grad(const Tensor& g);
    void zero_grad();

    // Reverse pass from this Var. Without an argument the output must hold one
    // element and is seeded with 1. The graph is freed unless retain_graph.
    void backward(bool retain_graph = false);
    void backward(const Tensor& grad_out, bool retain_graph = false);

    // Same value, cut from the graph.
    Var detach() const;

    // Identity of the node (for parameter maps, optimizer state).
    const void* id() const { return n_.get(); }

private:
    struct Node;
    std::shared_ptr<Node> n_;
};

// While alive, backward() on this thread calls `ready(leaf)` for each leaf
// that requires grad (a parameter) as soon as no node left in the pass adds
// to its gradient, in the order that happens: gradient communication can
// start while the rest of the pass runs (data-parallel training).
class GradReadyHook {
public:
    explicit GradReadyHook(std::function<void(const Var& leaf)> ready);
    ~GradReadyHook();
    GradReadyHook(const GradReadyHook&) = delete;
    GradReadyHook& operator=(const GradReadyHook&) = delete;

private:
    std::function<void(const Var&)>* prev_;
    std::function<void(const Var&)> ready_;
};

// While alive, ops on this thread record no graph (inference, evaluation).
class NoGradGuard {
public:
    NoGradGuard();
    ~NoGradGuard();
    NoGradGuard(const NoGradGuard&) = delete;
    NoGradGuard& operator=(const NoGradGuard&) = delete;

private:
    bool prev_;
};
bool grad_enabled();

}  // namespace infomax
