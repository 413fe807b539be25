// Precision::bf16 for conv2d, linear and matmul. Their f32 forms are checked
// against direct loops and finite differences (test_layer_ops.cpp); here the
// bf16 forms must equal the f32 forms applied to bf16-rounded inputs, weights
// and output gradient (bias, results and gradients stay f32), and must differ
// from plain f32: proof that the bf16 kernels ran.
#include <cmath>
#include <cstring>

#include "core/grad_check.hpp"
#include "infomax/ops/ops.hpp"
#include "infomax/runtime/error.hpp"
#include "infomax/runtime/precision.hpp"

using namespace infomax;
using infomax::testing::random_tensor;

namespace {

// Round to the nearest bf16, ties to even (what oneDNN's f32 -> bf16 reorder does).
Tensor round_bf16(const Tensor& t) {
    Tensor r = t.plain().clone();
    for (std::int64_t i = 0; i < r.numel(); ++i) {
        std::uint32_t u;
        std::memcpy(&u, r.data() + i, 4);
        u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
        std::memcpy(r.data() + i, &u, 4);
    }
    return r;
}

struct Result {
    std::vector<float> y;
    std::vector<std::vector<float>> grads;
};

using Op = std::function<Var(std::vector<Var>&)>;

Result run(const Op& op, const std::vector<Tensor>& inputs, const Tensor& upstream, Precision p) {
    const PrecisionScope scope(p);
    std::vector<Var> in;
    for (const auto& t : inputs) in.emplace_back(t.clone(), true);
    Var y = op(in);
    y.backward(upstream);
    Result r{y.value().to_vector(), {}};
    for (auto& v : in) r.grads.push_back(v.grad().to_vector());
    return r;
}

double max_abs(const std::vector<float>& v) {
    double m = 0;
    for (float x : v) m = std::max(m, double(std::fabs(x)));
    return m;
}

double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
    double m = 0;
    for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, double(std::fabs(a[i] - b[i])));
    return m;
}

// `rounded[i]`: input i is read as bf16 (x, weights), else kept f32 (bias).
void check_bf16(const std::string& name, const Op& op, const std::vector<Tensor>& inputs, const std::vector<bool>& rounded,
                const Shape& out_shape, Rng& rng) {
    INFO(name);
    const Tensor upstream = random_tensor(out_shape, rng);
    std::vector<Tensor> r_inputs;
    for (std::size_t i = 0; i < inputs.size(); ++i) r_inputs.push_back(rounded[i] ? round_bf16(inputs[i]) : inputs[i]);
    const Result want = run(op, r_inputs, round_bf16(upstream), Precision::f32);
    const Result got = run(op, inputs, upstream, Precision::bf16);
    const Result f32 = run(op, inputs, upstream, Precision::f32);
    // Same products, accumulated in f32 in another order: agreement to ~1e-5 of the scale.
    const double tol = 2e-5 * std::max(1.0, max_abs(want.y));
    CHECK(max_diff(got.y, want.y) <= tol);
    CHECK(max_diff(got.y, f32.y) > 10 * tol);  // bf16 rounding is visible: the bf16 kernels ran
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        INFO("gradient of input " << i);
        CHECK(max_diff(got.grads[i], want.grads[i]) <= 2e-5 * std::max(1.0, max_abs(want.grads[i])));
    }
    // Deterministic: the same bits again.
    const Result again = run(op, inputs, upstream, Precision::bf16);
    CHECK(again.y == got.y);
    CHECK(again.grads == got.grads);
}

}  // namespace

TEST_CASE("bf16 conv2d, linear and matmul equal f32 on bf16-rounded operands", "[ops][bf16]") {
    if (!bf16_supported()) {
        // The other half of the contract: asking for bf16 here is refused by name.
        CHECK_THROWS_WITH(set_precision(Precision::bf16),
                          "precision bf16: this CPU has neither AVX512_BF16 nor AMX, so oneDNN would fall back to "
                          "reference kernels; use precision: f32");
        WARN("this CPU has no bf16 instructions: only the refusal was tested");
        return;
    }
    Rng rng(31);
    struct Conv { Shape x, w; int s, p; };
    for (const Conv& c : {Conv{{2, 1, 28, 28}, {32, 1, 6, 6}, 5, 0}, Conv{{2, 3, 9, 7}, {5, 3, 3, 3}, 1, 1},
                          Conv{{3, 32, 5, 5}, {16, 32, 1, 1}, 1, 0}}) {
        const std::int64_t oh = (c.x[2] + 2 * c.p - c.w[2]) / c.s + 1, ow = (c.x[3] + 2 * c.p - c.w[3]) / c.s + 1;
        check_bf16(fmt::format("conv2d x{} w{}", to_string(c.x), to_string(c.w)),
                   [&](std::vector<Var>& in) { return ops::conv2d(in[0], in[1], in[2], c.s, c.p); },
                   {random_tensor(c.x, rng), random_tensor(c.w, rng, 0.3f), random_tensor({c.w[0]}, rng)},
                   {true, true, false}, {c.x[0], c.w[0], oh, ow}, rng);
    }
    for (const auto& [n, i, o] : {std::tuple{1, 7, 3}, {64, 33, 17}, {16, 200, 64}})
        check_bf16(fmt::format("linear {}x{}->{}", n, i, o),
                   [](std::vector<Var>& in) { return ops::linear(in[0], in[1], in[2]); },
                   {random_tensor({n, i}, rng), random_tensor({o, i}, rng), random_tensor({o}, rng)},
                   {true, true, false}, {n, o}, rng);
    for (const auto& [sa, sb, so] : std::vector<std::tuple<Shape, Shape, Shape>>{
             {{3, 40}, {40, 5}, {3, 5}}, {{2, 3, 24}, {2, 24, 5}, {2, 3, 5}}, {{2, 3, 24}, {24, 5}, {2, 3, 5}}})
        check_bf16("matmul " + to_string(sa) + " x " + to_string(sb),
                   [](std::vector<Var>& in) { return ops::matmul(in[0], in[1]); },
                   {random_tensor(sa, rng), random_tensor(sb, rng)}, {true, true}, so, rng);
}

TEST_CASE("precision names parse and bad ones are refused", "[ops][bf16]") {
    CHECK(parse_precision("f32") == Precision::f32);
    CHECK(parse_precision("bf16") == Precision::bf16);
    CHECK_THROWS_WITH(parse_precision("fp16"), "precision 'fp16': expected f32 or bf16");
    CHECK(precision() == Precision::f32);
    {
        const PrecisionScope f32(Precision::f32);
        CHECK(precision() == Precision::f32);
    }
    CHECK(std::string(to_string(Precision::bf16)) == "bf16");
}
