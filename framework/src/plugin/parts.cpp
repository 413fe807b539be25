// Shared behaviour of parts: the default pairwise scoring and negative sampling.
#include <fmt/format.h>

#include <limits>
#include <numeric>

#include "infomax/ops/ops.hpp"
#include "infomax/plugin/parts.hpp"
#include "infomax/runtime/error.hpp"

namespace infomax {

double Estimator::ceiling(std::int64_t) const { return std::numeric_limits<double>::infinity(); }

Var Discriminator::pairs(const Var&, const Var&) {
    throw Error(fmt::format("{} scores single inputs (a prior discriminator), not pairs", describe()));
}

Var Discriminator::score(const Var&) {
    throw Error(fmt::format("{} scores pairs, not single inputs: it cannot be a prior discriminator", describe()));
}

Var Discriminator::all_pairs(const Var& a, const Var& b) {
    // Row r = i * Na + j pairs b_i with a_j.
    const std::int64_t na = a.size(0), nb = b.size(0);
    std::vector<std::int64_t> ia, ib;
    for (std::int64_t i = 0; i < nb; ++i)
        for (std::int64_t j = 0; j < na; ++j) {
            ia.push_back(j);
            ib.push_back(i);
        }
    Var s = pairs(ops::index_select(a, 0, ia), ops::index_select(b, 0, ib));
    return ops::reshape(s, {nb, na, s.size(1)});
}

std::vector<std::int64_t> Dataset::labels(const std::string& split, const std::vector<std::int64_t>&) const {
    throw Error(fmt::format("{}: the {} split has no labels", describe(), split));
}

Tensor Dataset::pair(const std::string&, const std::vector<std::int64_t>&) const {
    throw Error(fmt::format("{} has no second variable z: it is not paired data", describe()));
}

double Dataset::true_mi(const std::string&, std::int64_t) const { return std::numeric_limits<double>::quiet_NaN(); }

const std::vector<std::string>& negative_sampling_names() {
    static const std::vector<std::string> n{"all", "permutation", "roll", "shuffle_locations"};
    return n;
}

namespace {

// A random permutation with no fixed point (Sattolo's algorithm: one cycle).
std::vector<std::int64_t> derangement(std::int64_t n, Rng& rng) {
    std::vector<std::int64_t> p(n);
    std::iota(p.begin(), p.end(), 0);
    for (std::int64_t i = n - 1; i > 0; --i) std::swap(p[i], p[rng.below(i)]);
    return p;
}

}  // namespace

Scores make_scores(Discriminator& d, const Var& a, const Var& b, const std::string& negatives, Rng& rng,
                   std::int64_t count) {
    return make_scores(d, a, b, negatives, rng, count, 0, a.size(0));
}

Scores make_scores(Discriminator& d, const Var& a, const Var& b, const std::string& negatives, Rng& rng,
                   std::int64_t count, std::int64_t first, std::int64_t last) {
    const std::int64_t n = a.size(0);
    if (count < 1) throw Error(fmt::format("scores: {} negative samples per sample: need at least 1", count));
    if (count > 1 && negatives != "roll" && negatives != "permutation")
        throw Error(fmt::format("negative_samples {} needs negatives roll or permutation; {} makes its own", count,
                                negatives));
    if (count >= n)
        throw ShapeError(fmt::format("scores: {} negative samples per sample need a batch of more than {}", count, count));
    if (b.size(0) != n)
        throw ShapeError(fmt::format("scores: the two sides have batch sizes {} and {}", n, b.size(0)));
    if (n < 2) throw ShapeError("scores: negative samples need a batch of at least 2");
    if (first < 0 || last > n || first >= last)
        throw ShapeError(fmt::format("scores: rows [{}, {}) of a batch of {}", first, last, n));
    const bool whole = first == 0 && last == n;
    const std::int64_t m = last - first;
    std::vector<std::int64_t> mine(m);
    std::iota(mine.begin(), mine.end(), first);
    auto rows = [&](const Var& v) { return whole ? v : ops::index_select(v, 0, mine); };
    const Var b_rows = rows(b);
    if (negatives == "all") {
        Var s = d.all_pairs(a, b_rows);  // (m, n, P): row i pairs b_i with every a_j
        if (s.dim() != 3 || s.size(0) != m || s.size(1) != n)
            throw ShapeError(fmt::format("scores: the discriminator scored all pairs of {} and {} samples as shape {}: "
                                         "all-pair scores must be (N_b, N_a, P)",
                                         m, n, to_string(s.shape())));
        const std::int64_t p = s.size(2);
        Var flat = ops::reshape(s, {m * n, p});
        std::vector<std::int64_t> diag, off;
        for (std::int64_t i = 0; i < m; ++i)
            for (std::int64_t j = 0; j < n; ++j) (first + i == j ? diag : off).push_back(i * n + j);
        return {ops::index_select(flat, 0, diag), ops::reshape(ops::index_select(flat, 0, off), {m, (n - 1) * p})};
    }
    Var pos = d.pairs(rows(a), b_rows);
    if (pos.dim() != 2 || pos.size(0) != m)
        throw ShapeError(fmt::format("scores: the discriminator scored {} pairs as shape {}: pair scores must be (N, P), "
                                     "one row per pair",
                                     m, to_string(pos.shape())));
    if ((negatives == "roll" || negatives == "permutation") && count > 1) {
        // count mismatched copies of a against b, scored in one call: (M, count * P).
        std::vector<std::int64_t> ia, ib;
        for (std::int64_t k = 1; k <= count; ++k) {
            const auto perm = negatives == "roll" ? std::vector<std::int64_t>{} : derangement(n, rng);
            for (std::int64_t i = first; i < last; ++i) {
                ia.push_back(negatives == "roll" ? (i - k + n) % n : perm[i]);
                ib.push_back(i);
            }
        }
        Var s = d.pairs(ops::index_select(a, 0, ia), ops::index_select(b, 0, ib));  // (count * M, P), k-major
        const std::int64_t p = s.size(1);
        Var neg = ops::reshape(ops::permute(ops::reshape(s, {count, m, p}), {1, 0, 2}), {m, count * p});
        return {pos, neg};
    }
    Var shuffled;
    if (negatives == "roll") {
        if (whole) {
            shuffled = ops::roll(a, 1, 0);
        } else {
            std::vector<std::int64_t> prev(m);
            for (std::int64_t i = 0; i < m; ++i) prev[i] = (first + i - 1 + n) % n;
            shuffled = ops::index_select(a, 0, prev);
        }
    } else if (negatives == "permutation") {
        const auto perm = derangement(n, rng);
        shuffled = ops::index_select(a, 0, whole ? perm : std::vector<std::int64_t>(perm.begin() + first, perm.begin() + last));
    } else if (negatives == "shuffle_locations") {
        if (a.dim() != 4)
            throw ShapeError(fmt::format("shuffle_locations needs a local feature map (N, C, H, W), got {}",
                                         to_string(a.shape())));
        // Each location takes its features from an independently chosen other sample.
        const std::int64_t c = a.size(1), h = a.size(2), w = a.size(3), l = h * w;
        Var all_rows = ops::reshape(ops::permute(ops::reshape(a, {n, c, l}), {0, 2, 1}), {n * l, c});
        std::vector<std::int64_t> idx(n * l);
        for (std::int64_t loc = 0; loc < l; ++loc) {
            auto perm = derangement(n, rng);
            for (std::int64_t i = 0; i < n; ++i) idx[i * l + loc] = perm[i] * l + loc;
        }
        if (!whole) idx = std::vector<std::int64_t>(idx.begin() + first * l, idx.begin() + last * l);
        Var picked = ops::reshape(ops::index_select(all_rows, 0, idx), {m, l, c});
        shuffled = ops::reshape(ops::permute(picked, {0, 2, 1}), {m, c, h, w});
    } else {
        throw Error(fmt::format("unknown negative sampling '{}' (known: {})", negatives,
                                fmt::join(negative_sampling_names(), ", ")));
    }
    return {pos, d.pairs(shuffled, b_rows)};
}

}  // namespace infomax
