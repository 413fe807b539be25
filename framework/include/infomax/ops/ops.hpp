// The ops. Each is a free function that computes its result and records its
// backward; code composed from them gets gradients without writing a backward.
//
// Heavy ops (conv2d, linear, matmul, batch_norm, max_pool2d and the unary
// activations) run on oneDNN primitives, cached per shape, and accept inputs in
// any oneDNN layout; the rest run on TBB and work on plain data (a blocked input
// is reordered once, at that edge). Shape errors name the op and the shapes.
#pragma once

#include <cstdint>
#include <vector>

#include "infomax/autograd/var.hpp"

namespace infomax {
class Rng;
}

namespace infomax::ops {

// ---- unary activations (oneDNN eltwise) -------------------------------------
Var relu(const Var& x);
Var leaky_relu(const Var& x, float negative_slope = 0.01f);
Var sigmoid(const Var& x);
Var tanh(const Var& x);
Var softplus(const Var& x);    // log(1 + e^x)
Var log_sigmoid(const Var& x); // -softplus(-x)
Var exp(const Var& x);
Var log(const Var& x);

// ---- elementwise arithmetic with NumPy broadcasting (TBB) -------------------
Var add(const Var& a, const Var& b);
Var sub(const Var& a, const Var& b);
Var mul(const Var& a, const Var& b);
Var div(const Var& a, const Var& b);
Var add(const Var& a, float s);
Var mul(const Var& a, float s);
Var rsub(float s, const Var& a);  // s - a
Var rdiv(float s, const Var& a);  // s / a
Var neg(const Var& a);

// ---- reductions (TBB; deterministic for any thread count) -------------------
// Empty axes = all axes. Negative axes count from the end.
Var sum(const Var& x, std::vector<std::int64_t> axes = {}, bool keepdim = false);
Var mean(const Var& x, std::vector<std::int64_t> axes = {}, bool keepdim = false);
Var logsumexp(const Var& x, std::int64_t axis, bool keepdim = false);

// ---- shapes and indexing (TBB) ----------------------------------------------
Var reshape(const Var& x, Shape shape);  // one dimension may be -1
Var flatten(const Var& x, std::int64_t start_dim = 1);
Var permute(const Var& x, std::vector<std::int64_t> dims);
Var concat(const std::vector<Var>& xs, std::int64_t axis);
// Broadcast x to `shape` (NumPy rules); backward sums over the broadcast axes.
Var broadcast_to(const Var& x, Shape shape);
// A vector per sample (N, C) tiled over a grid: (N, C, h, w).
Var tile_spatial(const Var& y, std::int64_t h, std::int64_t w);
// out[i] = x[(i - shift) mod n] along `axis` (torch.roll); shift 1 along the
// batch pairs each sample with its neighbour, the seeds' negative sampling.
Var roll(const Var& x, std::int64_t shift, std::int64_t axis = 0);
// out = x taken at `index` along `axis` (repeats allowed; backward scatter-adds).
Var index_select(const Var& x, std::int64_t axis, const std::vector<std::int64_t>& index);

// ---- heavy layers (oneDNN) --------------------------------------------------
// x (N, C, H, W), weight (O, C, KH, KW), bias (O) or undefined.
Var conv2d(const Var& x, const Var& weight, const Var& bias,
           std::int64_t stride = 1, std::int64_t padding = 0);
Var conv2d(const Var& x, const Var& weight, const Var& bias,
           std::vector<std::int64_t> stride, std::vector<std::int64_t> padding);
// x (N, I), weight (O, I), bias (O) or undefined. out = x W^T + b.
Var linear(const Var& x, const Var& weight, const Var& bias);
// (..., M, K) x (..., K, N) -> (..., M, N); batch dims broadcast (equal or 1).
Var matmul(const Var& a, const Var& b);
// x (N, C) or (N, C, H, W); gamma, beta (C). In training the batch statistics
// normalise and running_mean/var (plain (C) tensors) are updated in place:
// r = (1 - momentum) r + momentum * batch (variance unbiased, as PyTorch).
// In inference the running statistics normalise.
Var batch_norm(const Var& x, const Var& gamma, const Var& beta, Tensor& running_mean,
               Tensor& running_var, bool training, float momentum = 0.1f, float eps = 1e-5f);
Var max_pool2d(const Var& x, std::int64_t kernel, std::int64_t stride = 0,
               std::int64_t padding = 0);  // stride 0 = kernel

// ---- regularisation (TBB) ---------------------------------------------------
// Zeroes each element with probability p and scales the rest by 1/(1-p);
// identity when !training. The mask comes from one draw of rng.
Var dropout(const Var& x, float p, bool training, Rng& rng);

// ---- compositions (no backward of their own) --------------------------------
Var log_softmax(const Var& x, std::int64_t axis = -1);
// Mean negative log-likelihood of integer labels under softmax(logits), logits (N, K).
Var cross_entropy(const Var& logits, const std::vector<std::int64_t>& labels);

}  // namespace infomax::ops

namespace infomax {
inline Var operator+(const Var& a, const Var& b) { return ops::add(a, b); }
inline Var operator-(const Var& a, const Var& b) { return ops::sub(a, b); }
inline Var operator*(const Var& a, const Var& b) { return ops::mul(a, b); }
inline Var operator/(const Var& a, const Var& b) { return ops::div(a, b); }
inline Var operator+(const Var& a, float s) { return ops::add(a, s); }
inline Var operator+(float s, const Var& a) { return ops::add(a, s); }
inline Var operator-(const Var& a, float s) { return ops::add(a, -s); }
inline Var operator-(float s, const Var& a) { return ops::rsub(s, a); }
inline Var operator*(const Var& a, float s) { return ops::mul(a, s); }
inline Var operator*(float s, const Var& a) { return ops::mul(a, s); }
inline Var operator/(const Var& a, float s) { return ops::mul(a, 1.0f / s); }
inline Var operator/(float s, const Var& a) { return ops::rdiv(s, a); }
inline Var operator-(const Var& a) { return ops::neg(a); }
}  // namespace infomax
