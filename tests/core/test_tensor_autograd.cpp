// Tensors, layouts and the autograd engine.
#include "core/grad_check.hpp"
#include "infomax/ops/ops.hpp"
#include "infomax/runtime/error.hpp"

using namespace infomax;
using infomax::testing::random_tensor;

TEST_CASE("tensors: construction, views, clones", "[tensor]") {
    Tensor t = Tensor::from({2, 3}, {1, 2, 3, 4, 5, 6});
    CHECK(t.numel() == 6);
    CHECK(t.size(-1) == 3);
    CHECK(t.is_plain());
    Tensor v = t.view({3, 2});
    v.data()[0] = 10;
    CHECK(t.to_vector()[0] == 10);  // views share storage
    Tensor c = t.clone();
    c.data()[1] = 20;
    CHECK(t.to_vector()[1] == 2);  // clones do not
    CHECK(reinterpret_cast<std::uintptr_t>(t.data()) % 64 == 0);
    CHECK_THROWS_WITH(Tensor::from({2, 2}, {1, 2, 3}), "Tensor::from: 3 values for shape [2, 2] (4 elements)");
    CHECK_THROWS_WITH(t.view({4}), "cannot view shape [2, 3] as [4]: 6 vs 4 elements");
    CHECK_THROWS_WITH(t.size(2), "dimension 2 out of range for shape [2, 3]");
    CHECK_THROWS_WITH(t.item(), "item() needs a tensor of one element, got shape [2, 3]");
    CHECK_THROWS_WITH(Tensor::empty({2}, DType::bf16), "bf16 tensors are not supported yet: use f32");
}

TEST_CASE("blocked layouts reorder to plain with the same logical values", "[tensor][layout]") {
    Rng rng(1);
    Tensor x = random_tensor({2, 3, 6, 6}, rng), w = random_tensor({16, 3, 3, 3}, rng);
    Tensor y = ops::conv2d(Var(x), Var(w), Var(), 1, 1).value();
    CHECK_FALSE(y.is_plain());  // oneDNN chose a blocked format for 16 output channels
    Tensor p = y.plain();
    CHECK(p.is_plain());
    CHECK(p.to_vector() == y.to_vector());
    CHECK(ops::flatten(Var(y)).value().is_plain());
}

TEST_CASE("gradients accumulate when a value is used twice", "[autograd]") {
    Var x(Tensor::from({2}, {3, 4}), true);
    Var y = ops::sum(x * x + x);  // dy/dx = 2x + 1
    y.backward();
    CHECK(x.grad().to_vector() == std::vector<float>{7, 9});
    Var z = ops::sum(x * 2.0f);
    z.backward();  // accumulates until zero_grad
    CHECK(x.grad().to_vector() == std::vector<float>{9, 11});
    x.zero_grad();
    CHECK_FALSE(x.grad().defined());
}

TEST_CASE("a diamond graph sums both paths", "[autograd]") {
    Var x(Tensor::from({1}, {2}), true);
    Var a = ops::exp(x), b = a * a, c = a + b;  // c = e^x + e^2x
    ops::sum(c).backward();
    CHECK(x.grad().item() == Approx(std::exp(2.0) + 2 * std::exp(4.0)).epsilon(1e-5));
}

TEST_CASE("no-grad mode and detach record no graph", "[autograd]") {
    Var x(Tensor::from({2}, {1, 2}), true);
    {
        NoGradGuard g;
        CHECK_FALSE((x * 2.0f).requires_grad());
    }
    CHECK((x * 2.0f).requires_grad());
    CHECK_FALSE(x.detach().requires_grad());
    Var c(Tensor::from({2}, {1, 2}));
    CHECK_FALSE((c * 2.0f).requires_grad());
}

TEST_CASE("backward errors are explicit", "[autograd]") {
    Var x(Tensor::from({2}, {1, 2}), true);
    CHECK_THROWS_WITH((x * 2.0f).backward(),
                      "backward() without a gradient needs a one-element output, got shape [2]; pass the output "
                      "gradient explicitly");
    Var c(Tensor::from({1}, {1}));
    CHECK_THROWS_WITH((c * 2.0f).backward(),
                      "backward() on a Var that does not require grad (op mul_scalar): no input or parameter of it "
                      "requires grad");
}

TEST_CASE("the graph is freed after backward unless retained", "[autograd]") {
    Var x(Tensor::from({1}, {3}), true);
    Var y = ops::sum(x * x);
    y.backward(true);
    y.backward(false);  // retained once: a second pass works and accumulates
    CHECK(x.grad().item() == 12.0f);
}

TEST_CASE("a long chain does not overflow the stack", "[autograd]") {
    Var x(Tensor::from({1}, {1}), true);
    Var h = x;
    for (int i = 0; i < 20000; ++i) h = h + 0.0f;
    ops::sum(h).backward();
    CHECK(x.grad().item() == 1.0f);
}

TEST_CASE("gradient of a blocked value has the value's layout", "[autograd][layout]") {
    Rng rng(2);
    Var x(random_tensor({2, 3, 6, 6}, rng), true);
    Var w(random_tensor({16, 3, 3, 3}, rng), true);
    Var y = ops::conv2d(x, w, Var(), 1, 1);
    Var m = ops::relu(y);
    ops::sum(ops::flatten(m)).backward(true);  // flatten's plain grad flows into a blocked value
    CHECK(w.grad().is_plain());
    CHECK(x.grad().shape() == x.shape());
}
