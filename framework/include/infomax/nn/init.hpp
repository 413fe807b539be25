// Parameter initialisation. Each preset names the init of its source model:
// PyTorch's default for the PyTorch reference, Keras' Glorot-uniform for the TensorFlow reference.
#pragma once

#include <cstdint>
#include <string>

#include "infomax/tensor/tensor.hpp"

namespace infomax {
class Rng;
}

namespace infomax::nn {

enum class Init {
    pytorch_default,  // weight kaiming_uniform(a = sqrt 5) = U(+-1/sqrt(fan_in)); bias U(+-1/sqrt(fan_in))
    glorot_uniform,   // weight U(+-sqrt(6 / (fan_in + fan_out))); bias 0 (Keras)
};
Init parse_init(const std::string& name);  // "pytorch_default" | "glorot_uniform"
const char* to_string(Init init);

// Fill weight (fan_in/fan_out computed by the caller) and bias (may be undefined).
void init_parameters(Tensor& weight, Tensor* bias, std::int64_t fan_in, std::int64_t fan_out, Init init, Rng& rng);

}  // namespace infomax::nn
