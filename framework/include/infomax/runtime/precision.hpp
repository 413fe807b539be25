// The compute precision of the heavy ops (conv2d, linear, matmul).
//
// f32: everything in f32. bf16: those ops read their inputs and weights as
// bf16 (converted per call by a oneDNN reorder) and write f32 results and f32
// gradients; parameters, optimizer state, every other op and every loss stay
// f32 ("f32 master weights"). One setting for the process, read by the thread
// that runs the model.
#pragma once

#include <string>

namespace infomax {

enum class Precision { f32, bf16 };

const char* to_string(Precision p);
// "f32" or "bf16"; anything else throws naming the allowed values.
Precision parse_precision(const std::string& s);

Precision precision();
// Throws when bf16 is asked for and the CPU has no bf16 instructions oneDNN
// uses (AVX512_BF16 or AMX): a silent fallback would be a reference kernel,
// hundreds of times slower.
void set_precision(Precision p);
// True when this CPU runs bf16 conv/inner product/matmul natively.
bool bf16_supported();

// Sets a precision for a scope and restores the previous one.
class PrecisionScope {
public:
    explicit PrecisionScope(Precision p) : old_(precision()) { set_precision(p); }
    ~PrecisionScope() { set_precision(old_); }
    PrecisionScope(const PrecisionScope&) = delete;
    PrecisionScope& operator=(const PrecisionScope&) = delete;

private:
    Precision old_;
};

}  // namespace infomax
