// Seeded random streams. Randomness flows from the experiment seed through
// named streams ("init", "data", "negatives", ...), so changing how one part
// draws numbers never reshuffles another.
#pragma once

#include <cstdint>
#include <string_view>

namespace infomax {

class Rng {
public:
    explicit Rng(std::uint64_t seed = 0);
    // A stream derived from (seed, name): independent of every other name.
    Rng(std::uint64_t seed, std::string_view stream);

    std::uint64_t next_u64();
    // Uniform in [0, 1) with 24 random bits (exactly representable in f32).
    float uniform();
    float uniform(float lo, float hi) { return lo + (hi - lo) * uniform(); }
    // Standard normal (Box-Muller, no cached second value: state = 4 words only).
    float normal();
    // Uniform integer in [0, n).
    std::uint64_t below(std::uint64_t n);

    // The whole state, for checkpoints.
    struct State { std::uint64_t s[4]; };
    State state() const;
    void set_state(const State& st);

private:
    std::uint64_t s_[4];
};

// Stateless counter-based hash (splitmix64 finaliser): parallel kernels draw
// element i from mix(key + i), so results do not depend on the thread count.
std::uint64_t mix64(std::uint64_t x);

}  // namespace infomax
