#include "infomax/autograd/var.hpp"

#include <fmt/format.h>

#include <unordered_map>
#include <unordered_set>

#include "backend/onednn/context.hpp"
#include "infomax/runtime/error.hpp"
#include "ops/kernels.hpp"

namespace infomax {

struct Var::Node {
    Tensor value;
    Tensor grad;
    bool requires_grad = false;
    std::vector<Var> inputs;
    BackwardFn backward;
    const char* op = "leaf";
};

namespace {
thread_local bool g_grad_enabled = true;
thread_local std::function<void(const Var&)>* g_grad_ready = nullptr;
}  // namespace

GradReadyHook::GradReadyHook(std::function<void(const Var&)> ready) : prev_(g_grad_ready), ready_(std::move(ready)) {
    g_grad_ready = &ready_;
}
GradReadyHook::~GradReadyHook() { g_grad_ready = prev_; }

NoGradGuard::NoGradGuard() : prev_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = prev_; }
bool grad_enabled() { return g_grad_enabled; }

Var::Var(Tensor value, bool requires_grad) : n_(std::make_shared<Node>()) {
    n_->value = std::move(value);
    n_->requires_grad = requires_grad;
}

Var::Var(Tensor value, std::vector<Var> inputs, BackwardFn backward, const char* op)
    : n_(std::make_shared<Node>()) {
    n_->value = std::move(value);
    n_->op = op;
    bool any = false;
    for (const auto& in : inputs) any = any || (in.defined() && in.requires_grad());
    if (any && g_grad_enabled) {
        n_->requires_grad = true;
        n_->inputs = std::move(inputs);
        n_->backward = std::move(backward);
    }
}

static void need(const std::shared_ptr<void>& n) {
    if (!n) throw Error("use of an undefined Var");
}

const Tensor& Var::value() const { need(n_); return n_->value; }
Tensor& Var::value() { need(n_); return n_->value; }
const char* Var::op() const { need(n_); return n_->op; }
bool Var::requires_grad() const { return n_ && n_->requires_grad; }
void Var::set_requires_grad(bool r) {
    need(n_);
    if (!is_leaf()) throw Error("set_requires_grad: only a leaf Var (data or parameter) can change this");
    n_->requires_grad = r;
}
bool Var::is_leaf() const { return n_ && !n_->backward; }
const Tensor& Var::grad() const { need(n_); return n_->grad; }
void Var::zero_grad() { need(n_); n_->grad = Tensor(); }

void Var::add_grad(const Tensor& g) {
    need(n_);
    if (!n_->requires_grad) return;
    if (g.shape() != n_->value.shape())
        throw ShapeError(fmt::format("gradient of shape {} for a value of shape {} (op {})", to_string(g.shape()),
                                     to_string(n_->value.shape()), n_->op));
    // Keep the invariant: grad has the value's physical layout.
    Tensor gg = g.same_layout(n_->value) ? g : detail::to_desc(g, detail::desc_of(n_->value));
    // Never accumulate in place: the incoming tensor may be shared with another
    // input's gradient (add passes the same tensor to both sides).
    n_->grad = n_->grad.defined() ? kernels::add(n_->grad, gg) : gg;
}

void Var::backward(bool retain_graph) {
    need(n_);
    if (numel() != 1)
        throw ShapeError(fmt::format("backward() without a gradient needs a one-element output, got shape {}; "
                                     "pass the output gradient explicitly",
                                     to_string(shape())));
    backward(Tensor::ones(shape()), retain_graph);
}

void Var::backward(const Tensor& grad_out, bool retain_graph) {
    need(n_);
    if (!n_->requires_grad)
        throw Error(fmt::format("backward() on a Var that does not require grad (op {}): no input or parameter "
                                "of it requires grad",
                                n_->op));
    // Iterative DFS post-order (deep graphs must not overflow the stack). The
    // order holds owning pointers: freeing a node's inputs below must not free
    // a node that is still to be visited.
    std::vector<std::shared_ptr<Node>> order;
    std::unordered_set<Node*> seen;
    std::vector<std::pair<std::shared_ptr<Node>, std::size_t>> stack{{n_, 0}};
    seen.insert(n_.get());
    while (!stack.empty()) {
        auto& [node, next] = stack.back();
        if (next < node->inputs.size()) {
            const std::shared_ptr<Node>& child = node->inputs[next++].n_;
            if (child && child->requires_grad && child->backward && seen.insert(child.get()).second)
                stack.emplace_back(child, 0);
        } else {
            order.push_back(std::move(node));
            stack.pop_back();
        }
    }
    add_grad(grad_out);
    // With a GradReadyHook: how many nodes of the pass still add to each leaf.
    std::unordered_map<Node*, int> pending;
    if (g_grad_ready)
        for (const auto& node : order)
            for (const auto& in : node->inputs)
                if (in.n_ && in.n_->requires_grad && !in.n_->backward) ++pending[in.n_.get()];
    auto leaves_done = [&](Node* node) {
        if (!g_grad_ready) return;
        for (const auto& in : node->inputs)
            if (in.n_ && in.n_->requires_grad && !in.n_->backward && --pending[in.n_.get()] == 0) (*g_grad_ready)(in);
    };
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
        Node* node = it->get();
        if (!node->backward) continue;  // leaves keep their grad
        if (!node->grad.defined()) {
            leaves_done(node);
            continue;
        }
        Tensor g = node->grad;
        node->grad = Tensor();  // intermediate grads are not kept (a retained graph starts clean)
        node->backward(node->inputs, g);
        leaves_done(node);
        if (!retain_graph) {
            node->inputs.clear();
            node->backward = nullptr;
        }
    }
}

Var Var::detach() const {
    need(n_);
    return Var(n_->value, false);
}

}  // namespace infomax
