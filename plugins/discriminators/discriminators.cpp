// The built-in discriminators (critics). Pair critics score (a, b) = (M, y) in
// DIM or (x, z) in MI estimation; the prior discriminator scores single vectors.
#include <fmt/format.h>

#include "infomax/ops/ops.hpp"
#include "infomax/plugin/plugin.hpp"
#include "infomax/runtime/error.hpp"

using namespace infomax;

namespace {

nn::Activation activation(const config::Params& p) {
    try {
        return nn::parse_activation(p.string("activation"));
    } catch (const Error& e) {
        p.fail("activation", e.what());
    }
}

std::int64_t flat_size(const Shape& s) { return numel(s); }

// Global concat (the TensorFlow and PyTorch references): optional convs over M, flatten, concatenate
// y, MLP to one score. The PyTorch reference uses convs [{out: 64, kernel: 3}, {out: 32,
// kernel: 3}] and hidden [512, 512]; the TensorFlow reference no convs and hidden [128, 16].
class GlobalConcat final : public Discriminator {
public:
    GlobalConcat(const config::Params& p, BuildContext& c) : act_(activation(p)) {
        if (c.local_shape.empty() || c.global_shape.size() != 1)
            p.fail("", "global_concat needs a local input (M or x) and a global vector (y or z)");
        Shape s = c.local_shape;
        convs_ = add_module("convs", std::make_shared<nn::Sequential>());
        const auto convs = p.list("convs");
        for (std::size_t i = 0; i < convs.size(); ++i) {
            if (s.size() != 3) convs[i].fail("", "convs need a local feature map (C, H, W)");
            const auto out = convs[i].integer("out"), k = convs[i].integer("kernel");
            if (k > s[1] || k > s[2])
                convs[i].fail("kernel", fmt::format("kernel {} is larger than the {}x{} feature map", k, s[1], s[2]));
            convs_->emplace<nn::Conv2d>(s[0], out, k, *c.rng, 1, 0, true, c.init);
            if (i + 1 < convs.size()) convs_->emplace<nn::Act>(act_);
            s = {out, s[1] - k + 1, s[2] - k + 1};
        }
        mlp_ = add_module("mlp", nn::make_mlp(flat_size(s) + c.global_shape[0], p.integers("hidden"), 1, act_, *c.rng,
                                              c.init));
    }
    Var pairs(const Var& a, const Var& b) override {
        Var h = convs_->size() ? convs_->forward(a) : a;
        return mlp_->forward(ops::concat({ops::flatten(h), ops::flatten(b)}, 1));
    }
    std::string describe() const override { return "global_concat"; }

private:
    nn::Activation act_;
    std::shared_ptr<nn::Sequential> convs_, mlp_;
};

// Local concat-and-convolve (the TensorFlow reference, DIM paper): tile y over M's grid,
// concatenate channels, 1x1 convolutions to one score per location.
class LocalConcatConv final : public Discriminator {
public:
    LocalConcatConv(const config::Params& p, BuildContext& c) {
        if (c.local_shape.size() != 3 || c.global_shape.size() != 1)
            p.fail("", fmt::format("local_concat_conv needs a local feature map (C, H, W) and a vector y; got {} and {}",
                                   to_string(c.local_shape), to_string(c.global_shape)));
        net_ = add_module("net", nn::make_conv1x1_mlp(c.local_shape[0] + c.global_shape[0], p.integers("hidden"), 1,
                                                      activation(p), *c.rng, c.init));
    }
    Var pairs(const Var& m, const Var& y) override {
        Var s = net_->forward(ops::concat({m, ops::tile_spatial(y, m.size(2), m.size(3))}, 1));
        return ops::reshape(s, {m.size(0), m.size(2) * m.size(3)});
    }
    std::string describe() const override { return "local_concat_conv"; }

private:
    std::shared_ptr<nn::Sequential> net_;
};

// Local encode-and-dot-product (DIM paper, the bound derivation): 1x1 convs embed each
// location of M, an MLP embeds y, the score is their dot product. Scoring all
// pairs is one matrix product.
class LocalDot final : public Discriminator {
public:
    LocalDot(const config::Params& p, BuildContext& c) {
        if (c.local_shape.size() != 3 || c.global_shape.size() != 1)
            p.fail("", fmt::format("local_dot needs a local feature map (C, H, W) and a vector y; got {} and {}",
                                   to_string(c.local_shape), to_string(c.global_shape)));
        const auto e = p.integer("embed");
        const auto hidden = p.integers("hidden");
        const auto act = activation(p);
        local_ = add_module("local", nn::make_conv1x1_mlp(c.local_shape[0], hidden, e, act, *c.rng, c.init));
        global_ = add_module("global", nn::make_mlp(c.global_shape[0], hidden, e, act, *c.rng, c.init));
    }
    Var pairs(const Var& m, const Var& y) override {
        Var lm = local_->forward(m);  // (N, E, H, W)
        Var gy = global_->forward(y);  // (N, E)
        Var prod = lm * ops::reshape(gy, {gy.size(0), gy.size(1), 1, 1});
        return ops::reshape(ops::sum(prod, {1}), {m.size(0), m.size(2) * m.size(3)});
    }
    Var all_pairs(const Var& m, const Var& y) override {
        Var lm = local_->forward(m);  // (Na, E, H, W)
        Var gy = global_->forward(y);  // (Nb, E)
        const std::int64_t na = m.size(0), e = lm.size(1), l = m.size(2) * m.size(3);
        Var cols = ops::reshape(ops::permute(ops::reshape(lm, {na, e, l}), {1, 0, 2}), {e, na * l});
        return ops::reshape(ops::matmul(gy, cols), {y.size(0), na, l});
    }
    std::string describe() const override { return "local_dot"; }

private:
    std::shared_ptr<nn::Sequential> local_, global_;
};

// Prior discriminator (the TensorFlow and PyTorch references): an MLP from y to one score.
class PriorMlp final : public Discriminator {
public:
    PriorMlp(const config::Params& p, BuildContext& c) {
        if (c.global_shape.size() != 1) p.fail("", "prior_mlp needs a vector y");
        mlp_ = add_module("mlp", nn::make_mlp(c.global_shape[0], p.integers("hidden"), 1, activation(p), *c.rng,
                                              c.init, p.boolean("batch_norm")));
    }
    Var score(const Var& y) override { return mlp_->forward(y); }
    std::string describe() const override { return "prior_mlp"; }

private:
    std::shared_ptr<nn::Sequential> mlp_;
};

// Vector critics of the MINE/NWJ library. Joint: an MLP on the concatenation (x, z).
class Joint final : public Discriminator {
public:
    Joint(const config::Params& p, BuildContext& c) {
        mlp_ = add_module("mlp", nn::make_mlp(flat_size(c.local_shape) + flat_size(c.global_shape),
                                              p.integers("critic_layers"), 1, activation(p), *c.rng, c.init));
    }
    Var pairs(const Var& x, const Var& z) override {
        return mlp_->forward(ops::concat({ops::flatten(x), ops::flatten(z)}, 1));
    }
    std::string describe() const override { return "joint"; }

private:
    std::shared_ptr<nn::Sequential> mlp_;
};

// Separable: two MLPs embed x and z; the score is their dot product.
class Separable final : public Discriminator {
public:
    Separable(const config::Params& p, BuildContext& c) {
        const auto layers = p.integers("critic_layers");
        const auto e = p.integer("embed_dim");
        const auto act = activation(p);
        fx_ = add_module("x", nn::make_mlp(flat_size(c.local_shape), layers, e, act, *c.rng, c.init));
        fz_ = add_module("z", nn::make_mlp(flat_size(c.global_shape), layers, e, act, *c.rng, c.init));
    }
    Var pairs(const Var& x, const Var& z) override {
        return ops::sum(fx_->forward(ops::flatten(x)) * fz_->forward(ops::flatten(z)), {1}, true);
    }
    Var all_pairs(const Var& x, const Var& z) override {
        Var s = ops::matmul(fz_->forward(ops::flatten(z)), ops::permute(fx_->forward(ops::flatten(x)), {1, 0}));
        return ops::reshape(s, {z.size(0), x.size(0), 1});
    }
    std::string describe() const override { return "separable"; }

private:
    std::shared_ptr<nn::Sequential> fx_, fz_;
};

}  // namespace

#define ACTIVATION_SCHEMA                                                                                      \
    "  activation: {type: string, enum: [relu, leaky_relu, sigmoid, tanh, softplus], default: relu, description: " \
    "\"activation after each hidden layer\"}\n"
#define WIDTHS(name, def, what)                                                                      \
    "  " name ": {type: array, items: {type: integer, minimum: 1}, default: " def ", description: \"" what \
    "\"}\n"

INFOMAX_PLUGIN(Discriminator, GlobalConcat, "global_concat", "1.0.0",
               "flatten M (after optional convs), concatenate y, MLP to one score (the TensorFlow and PyTorch references)",
               "type: object\nadditionalProperties: false\nproperties:\n" WIDTHS("hidden", "[512, 512]", "widths of the MLP's hidden layers on (M, y)")
               "  convs:\n    type: array\n    default: []\n    description: \"convolutions applied to M before it is flattened (out channels, kernel)\"\n    items:\n      type: object\n"
               "      additionalProperties: false\n      required: [out, kernel]\n      properties:\n"
               "        out: {type: integer, minimum: 1}\n        kernel: {type: integer, minimum: 1}\n"
               ACTIVATION_SCHEMA)
INFOMAX_PLUGIN(Discriminator, LocalConcatConv, "local_concat_conv", "1.0.0",
               "y tiled over M's grid, concatenated, 1x1 convs to a score per location (the TensorFlow reference, DIM)",
               "type: object\nadditionalProperties: false\nproperties:\n"
               WIDTHS("hidden", "[512, 512]", "channels of the hidden 1x1 convolutions on (M, y) at each location")
               ACTIVATION_SCHEMA)
INFOMAX_PLUGIN(Discriminator, LocalDot, "local_dot", "1.0.0",
               "encode-and-dot-product: 1x1 convs on M, MLP on y, dot product per location (DIM, the bound derivation)",
               "type: object\nadditionalProperties: false\nproperties:\n" WIDTHS("hidden", "[512]", "widths of the hidden layers of each embedding (1x1 convs on M, an MLP on y)")
               "  embed: {type: integer, minimum: 1, default: 512, description: \"size of the two embeddings whose dot product is the score\"}\n" ACTIVATION_SCHEMA)
INFOMAX_PLUGIN(Discriminator, PriorMlp, "prior_mlp", "1.0.0", "MLP from y to one score, for prior matching",
               "type: object\nadditionalProperties: false\nproperties:\n" WIDTHS("hidden", "[1000, 200]", "widths of the MLP's hidden layers on y")
               "  batch_norm: {type: boolean, default: false, description: \"batch norm after each hidden layer\"}\n" ACTIVATION_SCHEMA)
INFOMAX_PLUGIN(Discriminator, Joint, "joint", "1.0.0", "MLP on the concatenation (x, z) (the MINE/NWJ library)",
               "type: object\nadditionalProperties: false\nproperties:\n" WIDTHS("critic_layers", "[256, 256, 256]", "widths of the MLP's hidden layers on (x, z)")
               ACTIVATION_SCHEMA)
INFOMAX_PLUGIN(Discriminator, Separable, "separable", "1.0.0", "dot product of two MLP embeddings of x and z (the MINE/NWJ library)",
               "type: object\nadditionalProperties: false\nproperties:\n" WIDTHS("critic_layers", "[256, 256, 256]", "widths of the hidden layers of each embedding MLP (one on x, one on z)")
               "  embed_dim: {type: integer, minimum: 1, default: 32, description: \"size of the two embeddings whose dot product is the score\"}\n" ACTIVATION_SCHEMA)
