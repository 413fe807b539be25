#include "ops/kernels.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "infomax/runtime/error.hpp"

namespace infomax::kernels {

constexpr std::int64_t kGrain = 1 << 14;   // elements per task
constexpr std::int64_t kChunk = 1 << 14;   // elements per partial sum (fixed: deterministic)

std::vector<std::int64_t> strides_of(const Shape& s) {
    std::vector<std::int64_t> st(s.size());
    std::int64_t acc = 1;
    for (std::size_t i = s.size(); i-- > 0;) {
        st[i] = acc;
        acc *= s[i];
    }
    return st;
}

std::int64_t wrap_axis(std::int64_t axis, std::int64_t rank, const char* op) {
    if (axis < -rank || axis >= rank)
        throw ShapeError(fmt::format("{}: axis {} out of range for a tensor of rank {}", op, axis, rank));
    return axis < 0 ? axis + rank : axis;
}

Shape broadcast_shape(const Shape& a, const Shape& b, const char* op) {
    const std::size_t r = std::max(a.size(), b.size());
    Shape out(r);
    for (std::size_t i = 0; i < r; ++i) {
        const std::int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
        const std::int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
        if (da != db && da != 1 && db != 1)
            throw ShapeError(fmt::format("{}: shapes {} and {} do not broadcast (dimension {}: {} vs {})", op,
                                         to_string(a), to_string(b), i, da, db));
        out[i] = da == 1 ? db : da;
    }
    return out;
}

namespace {

// Strides of `in` seen from `out` (right-aligned; 0 on broadcast dims).
std::vector<std::int64_t> broadcast_strides(const Shape& in, const Shape& out) {
    auto st = strides_of(in);
    std::vector<std::int64_t> r(out.size(), 0);
    const std::size_t off = out.size() - in.size();
    for (std::size_t i = 0; i < in.size(); ++i) r[off + i] = in[i] == 1 ? 0 : st[i];
    return r;
}

// Calls f(out_offset, in_offsets..., n, last_strides...) for each row of `out`
// (rows = all dims but the last), in parallel over rows.
template <std::size_t K, class F>
void for_rows(const Shape& out, const std::array<std::vector<std::int64_t>, K>& in_strides, F&& f) {
    const std::size_t r = out.size();
    const std::int64_t L = r == 0 ? 1 : out[r - 1];
    const std::int64_t rows = L == 0 ? 0 : numel(out) / L;
    std::array<std::int64_t, K> last{};
    for (std::size_t k = 0; k < K; ++k) last[k] = r == 0 ? 0 : in_strides[k][r - 1];
    parallel_for(rows, std::max<std::int64_t>(1, kGrain / std::max<std::int64_t>(L, 1)),
                 [&](std::int64_t b, std::int64_t e) {
                     for (std::int64_t row = b; row < e; ++row) {
                         std::array<std::int64_t, K> off{};
                         std::int64_t q = row;
                         for (std::size_t d = r == 0 ? 0 : r - 1; d-- > 0;) {
                             const std::int64_t i = q % out[d];
                             q /= out[d];
                             for (std::size_t k = 0; k < K; ++k) off[k] += i * in_strides[k][d];
                         }
                         f(row * L, off, L, last);
                     }
                 });
}

template <class Op>
void binary_loop(const float* a, const float* b, float* o, const Shape& out, const Shape& sa, const Shape& sb,
                 Op op) {
    std::array<std::vector<std::int64_t>, 2> st{broadcast_strides(sa, out), broadcast_strides(sb, out)};
    for_rows<2>(out, st, [&](std::int64_t oo, const std::array<std::int64_t, 2>& off, std::int64_t L,
                             const std::array<std::int64_t, 2>& last) {
        const float* pa = a + off[0];
        const float* pb = b + off[1];
        float* po = o + oo;
        if (last[0] == 1 && last[1] == 1)
            for (std::int64_t i = 0; i < L; ++i) po[i] = op(pa[i], pb[i]);
        else if (last[0] == 1 && last[1] == 0)
            for (std::int64_t i = 0; i < L; ++i) po[i] = op(pa[i], pb[0]);
        else if (last[0] == 0 && last[1] == 1)
            for (std::int64_t i = 0; i < L; ++i) po[i] = op(pa[0], pb[i]);
        else
            for (std::int64_t i = 0; i < L; ++i) po[i] = op(pa[i * last[0]], pb[i * last[1]]);
    });
}

template <class Op>
Tensor binary_op(const Tensor& a, const Tensor& b, Op op, bool zero_preserving, const char* opname) {
    // Same shape and layout: one flat loop over the stored elements, any layout
    // (only for ops that keep blocked padding at zero).
    if (a.shape() == b.shape() && a.same_layout(b) && (a.is_plain() || zero_preserving)) {
        Tensor o = Tensor::empty_like_layout(a.shape(), a.layout());
        const float* pa = a.data();
        const float* pb = b.data();
        float* po = o.data();
        parallel_for(static_cast<std::int64_t>(a.bytes() / 4), kGrain, [&](std::int64_t s, std::int64_t e) {
            for (std::int64_t i = s; i < e; ++i) po[i] = op(pa[i], pb[i]);
        });
        return o;
    }
    Shape out = broadcast_shape(a.shape(), b.shape(), opname);
    Tensor ap = a.plain(), bp = b.plain();
    Tensor o = Tensor::empty(out);
    binary_loop(ap.data(), bp.data(), o.data(), out, ap.shape(), bp.shape(), op);
    return o;
}

}  // namespace

Tensor binary(const Tensor& a, const Tensor& b, BinOp op, const char* opname) {
    switch (op) {
        case BinOp::add: return binary_op(a, b, [](float x, float y) { return x + y; }, true, opname);
        case BinOp::sub: return binary_op(a, b, [](float x, float y) { return x - y; }, true, opname);
        case BinOp::mul: return binary_op(a, b, [](float x, float y) { return x * y; }, true, opname);
        case BinOp::div: return binary_op(a, b, [](float x, float y) { return x / y; }, false, opname);
    }
    return {};
}

Tensor affine(const Tensor& x, float scale, float shift) {
    const Tensor src = shift == 0.0f ? x : x.plain();
    Tensor o = Tensor::empty_like_layout(src.shape(), src.layout());
    const float* a = src.data();
    float* po = o.data();
    parallel_for(static_cast<std::int64_t>(src.bytes() / 4), kGrain, [&](std::int64_t s, std::int64_t e) {
        for (std::int64_t i = s; i < e; ++i) po[i] = a[i] * scale + shift;
    });
    return o;
}

Tensor broadcast(const Tensor& x, const Shape& shape) {
    Shape out = broadcast_shape(x.shape(), shape, "broadcast_to");
    if (out != shape)
        throw ShapeError(fmt::format("broadcast_to: cannot broadcast shape {} to {}", to_string(x.shape()),
                                     to_string(shape)));
    if (x.shape() == shape) return x;
    Tensor xp = x.plain();
    Tensor o = Tensor::empty(shape);
    const float* a = xp.data();
    float* po = o.data();
    std::array<std::vector<std::int64_t>, 1> st{broadcast_strides(xp.shape(), shape)};
    for_rows<1>(shape, st, [&](std::int64_t oo, const std::array<std::int64_t, 1>& off, std::int64_t L,
                               const std::array<std::int64_t, 1>& last) {
        for (std::int64_t i = 0; i < L; ++i) po[oo + i] = a[off[0] + i * last[0]];
    });
    return o;
}

Tensor permute(const Tensor& x, const std::vector<std::int64_t>& dims) {
    Tensor xp = x.plain();
    const auto& s = xp.shape();
    auto st = strides_of(s);
    Shape out(dims.size());
    std::array<std::vector<std::int64_t>, 1> pst{std::vector<std::int64_t>(dims.size())};
    for (std::size_t d = 0; d < dims.size(); ++d) {
        out[d] = s[dims[d]];
        pst[0][d] = st[dims[d]];
    }
    Tensor o = Tensor::empty(out);
    const float* a = xp.data();
    float* po = o.data();
    for_rows<1>(out, pst, [&](std::int64_t oo, const std::array<std::int64_t, 1>& off, std::int64_t L,
                              const std::array<std::int64_t, 1>& last) {
        for (std::int64_t i = 0; i < L; ++i) po[oo + i] = a[off[0] + i * last[0]];
    });
    return o;
}

Tensor reduce_sum(const Tensor& x, const std::vector<bool>& reduced) {
    Tensor xp = x.plain();
    const Shape& s = xp.shape();
    Shape out = s;
    for (std::size_t d = 0; d < s.size(); ++d)
        if (reduced[d]) out[d] = 1;
    // Merge neighbouring dims of the same kind; drop size-1 dims.
    std::vector<std::int64_t> md;
    std::vector<bool> mr;
    for (std::size_t d = 0; d < s.size(); ++d) {
        if (s[d] == 1) continue;
        if (!md.empty() && mr.back() == reduced[d])
            md.back() *= s[d];
        else {
            md.push_back(s[d]);
            mr.push_back(reduced[d]);
        }
    }
    Tensor o = Tensor::empty(out);
    const float* a = xp.data();
    float* po = o.data();
    const std::int64_t n = xp.numel();
    if (std::find(mr.begin(), mr.end(), true) == mr.end()) {  // nothing to reduce
        std::copy(a, a + n, po);
        return o;
    }
    if (md.size() == 1) {  // everything reduced: fixed chunks, partials summed in order
        const std::int64_t chunks = (n + kChunk - 1) / kChunk;
        std::vector<double> part(chunks);
        parallel_for(chunks, 1, [&](std::int64_t b, std::int64_t e) {
            for (std::int64_t c = b; c < e; ++c) {
                double acc = 0;
                for (std::int64_t i = c * kChunk, end = std::min(n, i + kChunk); i < end; ++i) acc += a[i];
                part[c] = acc;
            }
        });
        double acc = 0;
        for (double p : part) acc += p;
        po[0] = static_cast<float>(acc);
        return o;
    }
    // General case: each output element sums its reduced positions (odometer).
    const std::size_t r = md.size();
    auto mst = strides_of(md);
    std::vector<std::int64_t> kd, ks, rd, rs;
    for (std::size_t d = 0; d < r; ++d) {
        (mr[d] ? rd : kd).push_back(md[d]);
        (mr[d] ? rs : ks).push_back(mst[d]);
    }
    const std::int64_t outs = numel(out), red = n / std::max<std::int64_t>(outs, 1);
    parallel_for(outs, std::max<std::int64_t>(1, kGrain / std::max<std::int64_t>(red, 1)),
                 [&](std::int64_t b, std::int64_t e) {
                     std::vector<std::int64_t> idx(rd.size());
                     for (std::int64_t t = b; t < e; ++t) {
                         std::int64_t base = 0, q = t;
                         for (std::size_t d = kd.size(); d-- > 0;) {
                             base += (q % kd[d]) * ks[d];
                             q /= kd[d];
                         }
                         std::fill(idx.begin(), idx.end(), 0);
                         std::int64_t off = 0;
                         double acc = 0;
                         const std::int64_t inner = rd.back(), inner_s = rs.back();
                         for (std::int64_t done = 0; done < red; done += inner) {
                             const float* p = a + base + off;
                             for (std::int64_t i = 0; i < inner; ++i) acc += p[i * inner_s];
                             for (std::size_t d = rd.size() - 1; d-- > 0;) {  // advance outer reduced dims
                                 off += rs[d];
                                 if (++idx[d] < rd[d]) break;
                                 off -= rs[d] * rd[d];
                                 idx[d] = 0;
                             }
                         }
                         po[t] = static_cast<float>(acc);
                     }
                 });
    return o;
}

Tensor sum_to(const Tensor& g, const Shape& target) {
    if (g.shape() == target) return g;
    const Shape& s = g.shape();
    if (target.size() > s.size())
        throw ShapeError(fmt::format("sum_to: cannot reduce shape {} to {}", to_string(s), to_string(target)));
    const std::size_t off = s.size() - target.size();
    std::vector<bool> red(s.size(), false);
    for (std::size_t d = 0; d < s.size(); ++d) {
        const std::int64_t t = d < off ? 1 : target[d - off];
        if (t != s[d] && t != 1)
            throw ShapeError(fmt::format("sum_to: cannot reduce shape {} to {}", to_string(s), to_string(target)));
        red[d] = t == 1 && s[d] != 1;
    }
    return reduce_sum(g, red).view(target);
}

double sum_squares(const Tensor& x) {
    const float* a = x.data();
    const std::int64_t n = static_cast<std::int64_t>(x.bytes() / 4);
    const std::int64_t chunks = (n + kChunk - 1) / kChunk;
    std::vector<double> part(chunks);
    parallel_for(chunks, 1, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t c = b; c < e; ++c) {
            double acc = 0;
            for (std::int64_t i = c * kChunk, end = std::min(n, i + kChunk); i < end; ++i) acc += double(a[i]) * a[i];
            part[c] = acc;
        }
    });
    double acc = 0;
    for (double p : part) acc += p;
    return acc;
}

}  // namespace infomax::kernels
