#include "infomax/nn/init.hpp"

#include <fmt/format.h>

#include <cmath>

#include "infomax/runtime/error.hpp"
#include "infomax/tensor/random.hpp"

namespace infomax::nn {

Init parse_init(const std::string& name) {
    if (name == "pytorch_default") return Init::pytorch_default;
    if (name == "glorot_uniform") return Init::glorot_uniform;
    throw Error(fmt::format("unknown init '{}' (known: glorot_uniform, pytorch_default)", name));
}

const char* to_string(Init init) { return init == Init::pytorch_default ? "pytorch_default" : "glorot_uniform"; }

void init_parameters(Tensor& weight, Tensor* bias, std::int64_t fan_in, std::int64_t fan_out, Init init, Rng& rng) {
    float* w = weight.data();
    const std::int64_t n = weight.numel();
    const float bound_b = 1.0f / std::sqrt(static_cast<float>(fan_in));
    if (init == Init::pytorch_default) {
        // kaiming_uniform with a = sqrt(5): gain sqrt(2 / (1 + 5)), bound gain * sqrt(3 / fan_in).
        const float bound = std::sqrt(6.0f / ((1.0f + 5.0f) * static_cast<float>(fan_in)));
        for (std::int64_t i = 0; i < n; ++i) w[i] = rng.uniform(-bound, bound);
        if (bias)
            for (std::int64_t i = 0; i < bias->numel(); ++i) bias->data()[i] = rng.uniform(-bound_b, bound_b);
    } else {
        const float bound = std::sqrt(6.0f / static_cast<float>(fan_in + fan_out));
        for (std::int64_t i = 0; i < n; ++i) w[i] = rng.uniform(-bound, bound);
        if (bias) bias->fill(0.0f);
    }
}

}  // namespace infomax::nn
