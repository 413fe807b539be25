#include "infomax/tensor/random.hpp"

#include <cmath>

namespace infomax {

std::uint64_t mix64(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static std::uint64_t hash_name(std::string_view s) {  // FNV-1a
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
    return h;
}

Rng::Rng(std::uint64_t seed) {
    std::uint64_t x = seed;
    for (auto& w : s_) w = mix64(x++ * 0x632BE59BD9B4E019ull + 1);
}

Rng::Rng(std::uint64_t seed, std::string_view stream) : Rng(mix64(seed) ^ hash_name(stream)) {}

// xoshiro256** (Blackman & Vigna): fast, 256-bit state, good statistics.
std::uint64_t Rng::next_u64() {
    auto rotl = [](std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); };
    const std::uint64_t r = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return r;
}

float Rng::uniform() { return static_cast<float>(next_u64() >> 40) * (1.0f / 16777216.0f); }

float Rng::normal() {
    // u1 in (0, 1] so the log is finite.
    const double u1 = (static_cast<double>(next_u64() >> 11) + 1.0) * (1.0 / 9007199254740992.0);
    const double u2 = static_cast<double>(next_u64() >> 11) * (1.0 / 9007199254740992.0);
    return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
}

std::uint64_t Rng::below(std::uint64_t n) {
    // Rejection sampling: unbiased for any n.
    const std::uint64_t limit = ~0ull - (~0ull % n);
    std::uint64_t x;
    do x = next_u64();
    while (x >= limit);
    return x % n;
}

Rng::State Rng::state() const { return State{{s_[0], s_[1], s_[2], s_[3]}}; }
void Rng::set_state(const State& st) {
    for (int i = 0; i < 4; ++i) s_[i] = st.s[i];
}

}  // namespace infomax
