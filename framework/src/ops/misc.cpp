// Dropout and compositions of other ops (log_softmax, cross_entropy).
#include <fmt/format.h>

#include "infomax/ops/ops.hpp"
#include "infomax/runtime/error.hpp"
#include "infomax/tensor/random.hpp"
#include "ops/kernels.hpp"

namespace infomax::ops {

Var dropout(const Var& x, float p, bool training, Rng& rng) {
    if (!(p >= 0.0f && p < 1.0f)) throw Error(fmt::format("dropout: p = {} must be in [0, 1)", p));
    if (!training || p == 0.0f) return x;
    // Element i is kept when hash(key + i) >= p: one draw from rng, any thread count.
    const std::uint64_t key = rng.next_u64();
    const float scale = 1.0f / (1.0f - p);
    Tensor xp = x.value().plain();
    Tensor mask = Tensor::empty(xp.shape());
    float* m = mask.data();
    kernels::parallel_for(xp.numel(), 1 << 14, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t i = b; i < e; ++i) {
            const float u = static_cast<float>(mix64(key + static_cast<std::uint64_t>(i)) >> 40) * (1.0f / 16777216.0f);
            m[i] = u >= p ? scale : 0.0f;
        }
    });
    return Var(kernels::mul(xp, mask), {x},
               [mask](std::vector<Var>& in, const Tensor& g) { in[0].add_grad(kernels::mul(g.plain(), mask)); },
               "dropout");
}

Var log_softmax(const Var& x, std::int64_t axis) { return x - logsumexp(x, axis, true); }

Var cross_entropy(const Var& logits, const std::vector<std::int64_t>& labels) {
    if (logits.dim() != 2 || logits.size(0) != static_cast<std::int64_t>(labels.size()))
        throw ShapeError(fmt::format("cross_entropy: expected logits (N, K) and N labels, got {} and {} labels",
                                     to_string(logits.shape()), labels.size()));
    const std::int64_t n = logits.size(0), k = logits.size(1);
    Tensor onehot = Tensor::zeros({n, k});
    for (std::int64_t i = 0; i < n; ++i) {
        if (labels[i] < 0 || labels[i] >= k)
            throw ShapeError(fmt::format("cross_entropy: label {} at position {} is outside [0, {})", labels[i], i, k));
        onehot.data()[i * k + labels[i]] = -1.0f / static_cast<float>(n);
    }
    return sum(log_softmax(logits, 1) * Var(onehot));
}

}  // namespace infomax::ops
