// Shape and indexing ops: values and gradients.
#include "core/grad_check.hpp"
#include "infomax/ops/ops.hpp"
#include "infomax/runtime/error.hpp"

using namespace infomax;
using infomax::testing::check_gradient;
using infomax::testing::random_tensor;

namespace {
Tensor iota(const Shape& s) {
    Tensor t = Tensor::empty(s);
    for (std::int64_t i = 0; i < t.numel(); ++i) t.data()[i] = static_cast<float>(i);
    return t;
}
}  // namespace

TEST_CASE("reshape and flatten", "[ops][shape]") {
    Var x(iota({2, 3, 4}));
    CHECK(ops::reshape(x, {6, -1}).shape() == Shape{6, 4});
    CHECK(ops::flatten(x).shape() == Shape{2, 12});
    CHECK(ops::flatten(x, 0).shape() == Shape{24});
    CHECK(ops::reshape(x, {4, 6}).value().to_vector() == x.value().to_vector());
    CHECK_THROWS_WITH(ops::reshape(x, {5, -1}), "reshape: cannot reshape [2, 3, 4] (24 elements) to [5, -1]");
    CHECK_THROWS_WITH(ops::reshape(x, {-1, -1}), "reshape: more than one -1 in [-1, -1]");
}

TEST_CASE("permute", "[ops][shape]") {
    Var x(iota({2, 3}));
    CHECK(ops::permute(x, {1, 0}).value().to_vector() == std::vector<float>{0, 3, 1, 4, 2, 5});
    Var y(iota({2, 3, 4}));
    Var p = ops::permute(y, {2, 0, 1});
    CHECK(p.shape() == Shape{4, 2, 3});
    CHECK(p.value().to_vector()[1] == 4.0f);  // p[0,0,1] = y[0,1,0]
    CHECK_THROWS_WITH(ops::permute(y, {0, 0, 1}), "permute: dimension 0 appears twice");
}

TEST_CASE("concat", "[ops][shape]") {
    Var a(iota({2, 2})), b(Tensor::full({2, 1}, 9.0f));
    CHECK(ops::concat({a, b}, 1).value().to_vector() == std::vector<float>{0, 1, 9, 2, 3, 9});
    CHECK(ops::concat({a, a}, 0).shape() == Shape{4, 2});
    CHECK_THROWS_WITH(ops::concat({a, Var(iota({3, 1}))}, 1), "concat along axis 1: shape [3, 1] does not match [2, 2]");
}

TEST_CASE("broadcast, tile over a grid, roll and index_select", "[ops][shape]") {
    Var y(iota({2, 3}));
    Var t = ops::tile_spatial(y, 2, 2);
    CHECK(t.shape() == Shape{2, 3, 2, 2});
    auto tv = t.value().to_vector();
    CHECK(tv[4 * 1 + 3] == 1.0f);   // t[0,1,1,1] = y[0,1]
    CHECK(tv[4 * 5 + 0] == 5.0f);   // t[1,2,0,0] = y[1,2]
    Var r = ops::roll(Var(iota({4, 2})), 1, 0);
    CHECK(r.value().to_vector() == std::vector<float>{6, 7, 0, 1, 2, 3, 4, 5});
    Var s = ops::index_select(Var(iota({3, 2})), 0, {2, 0, 2});
    CHECK(s.value().to_vector() == std::vector<float>{4, 5, 0, 1, 4, 5});
    Var c = ops::index_select(Var(iota({2, 3})), 1, {1});
    CHECK(c.value().to_vector() == std::vector<float>{1, 4});
    CHECK_THROWS_WITH(ops::index_select(Var(iota({3, 2})), 0, {3}),
                      "index_select: index 3 out of range for axis 0 of size 3 (shape [3, 2])");
    CHECK(ops::broadcast_to(Var(iota({3})), {2, 3}).value().to_vector() == std::vector<float>{0, 1, 2, 0, 1, 2});
    CHECK_THROWS_WITH(ops::broadcast_to(Var(iota({3})), {3, 2}),
                      "broadcast_to: shapes [3] and [3, 2] do not broadcast (dimension 1: 3 vs 2)");
}

TEST_CASE("shape op gradients", "[ops][shape][grad]") {
    Rng rng(11);
    for (const Shape& s : {Shape{1, 1, 1}, Shape{2, 3, 4}, Shape{3, 5, 1}}) {
        check_gradient("reshape", [](std::vector<Var>& in) { return ops::reshape(in[0], {-1}); },
                       {random_tensor(s, rng)});
        check_gradient("flatten", [](std::vector<Var>& in) { return ops::flatten(in[0]); }, {random_tensor(s, rng)});
        check_gradient("permute", [](std::vector<Var>& in) { return ops::permute(in[0], {2, 0, 1}); },
                       {random_tensor(s, rng)});
        for (std::int64_t ax = 0; ax < 3; ++ax) {
            check_gradient(fmt::format("concat axis {}", ax),
                           [ax](std::vector<Var>& in) { return ops::concat({in[0], in[1], in[0]}, ax); },
                           {random_tensor(s, rng), random_tensor(s, rng)});
            check_gradient(fmt::format("roll axis {}", ax), [ax](std::vector<Var>& in) { return ops::roll(in[0], 1, ax); },
                           {random_tensor(s, rng)});
            const std::int64_t n = s[ax];
            check_gradient(fmt::format("index_select axis {} with repeats", ax),
                           [ax, n](std::vector<Var>& in) { return ops::index_select(in[0], ax, {n - 1, 0, n - 1}); },
                           {random_tensor(s, rng)});
        }
    }
    for (const Shape& s : {Shape{1, 1}, Shape{3, 4}}) {
        check_gradient("broadcast_to", [](std::vector<Var>& in) { return ops::broadcast_to(in[0], {2, in[0].size(0), in[0].size(1)}); },
                       {random_tensor(s, rng)});
        check_gradient("tile_spatial", [](std::vector<Var>& in) { return ops::tile_spatial(in[0], 3, 2); },
                       {random_tensor(s, rng)});
    }
    check_gradient("concat of a blocked conv output and a tiled vector (the local discriminator input)",
                   [](std::vector<Var>& in) {
                       Var m = ops::relu(ops::conv2d(in[0], in[1], Var(), 1, 0));
                       return ops::concat({m, ops::tile_spatial(in[2], m.size(2), m.size(3))}, 1);
                   },
                   {random_tensor({2, 3, 5, 5}, rng), random_tensor({16, 3, 1, 1}, rng), random_tensor({2, 4}, rng)},
                   {.rtol = 2e-2});
}
