// Encoders: a declarative layer stack with named taps, and presets of the
// seed models built from the same stack.
//
//   encoder:
//     type: layer_stack
//     input: [1, 28, 28]
//     init: glorot_uniform
//     layers:
//       - conv: {out: 32, kernel: 6, stride: 5}
//       - relu
//       - tap: local        # M
//       - flatten
//       - linear: {out: 32}
//       - tap: global       # y (the last output when no global tap is named)
#include <fmt/format.h>

#include "infomax/ops/ops.hpp"
#include "infomax/plugin/plugin.hpp"
#include "infomax/plugin/registry.hpp"
#include "infomax/runtime/error.hpp"

using namespace infomax;

namespace {

struct LayerSpec {
    std::string kind;  // conv, linear, batch_norm, relu, leaky_relu, sigmoid, tanh, softplus, max_pool, flatten, dropout, tap
    std::int64_t out = 0, kernel = 0, stride = 1, padding = 0;
    float p = 0.0f, slope = 0.01f;
    std::string tap;
};

class LayerStack final : public Encoder {
public:
    // From the spec's `layers:` list.
    LayerStack(const config::Params& p, BuildContext& c) {
        std::vector<LayerSpec> specs;
        std::vector<config::Params> where;
        const auto n = p.size("layers");
        for (std::size_t i = 0; i < n; ++i) {
            config::Params item = p.item("layers", i);
            where.push_back(item);
            specs.push_back(parse_layer(item));
        }
        build(specs, where, input_of(p, c), init_of(p, c), *c.rng, p);
    }
    // A preset: fixed layers, errors reported against the preset's params.
    LayerStack(const std::vector<LayerSpec>& specs, const Shape& input, nn::Init init, Rng& rng,
               const config::Params& p) {
        build(specs, std::vector<config::Params>(specs.size(), p), input, init, rng, p);
    }

    Features encode(const Var& x) override {
        if (x.dim() != static_cast<std::int64_t>(input_.size()) + 1 ||
            Shape(x.shape().begin() + 1, x.shape().end()) != input_)
            throw ShapeError(fmt::format("encoder: expected input (N, {}), got {}", fmt::join(input_, ", "),
                                         to_string(x.shape())));
        Features f;
        Var h = x;
        for (std::size_t i = 0; i < steps_.size(); ++i) {
            if (!steps_[i].tap.empty()) {
                f.taps.emplace_back(steps_[i].tap, h);
                if (steps_[i].tap == "local") f.local = h;
                if (steps_[i].tap == "global") f.global = h;
            } else {
                h = steps_[i].module->forward(h);
            }
        }
        if (!f.global.defined()) f.global = h;
        return f;
    }
    std::string describe() const override { return description_; }

private:
    struct Step {
        std::shared_ptr<nn::Module> module;
        std::string tap;
    };

    static Shape input_of(const config::Params& p, const BuildContext& c) {
        if (p.has("input")) {
            auto v = p.integers("input");
            if (v.size() != 3 && v.size() != 1)
                p.fail("input", fmt::format("expected [channels, height, width] or [dim], found {} numbers", v.size()));
            if (!c.input_shape.empty() && Shape(v.begin(), v.end()) != c.input_shape)
                p.fail("input", fmt::format("the data has shape {}, the encoder expects {}", to_string(c.input_shape),
                                            to_string(Shape(v.begin(), v.end()))));
            return Shape(v.begin(), v.end());
        }
        if (c.input_shape.size() != 3 && c.input_shape.size() != 1)
            p.fail("input", "give the input shape [channels, height, width] or [dim]");
        return c.input_shape;
    }
    static nn::Init init_of(const config::Params& p, const BuildContext& c) {
        if (!p.has("init")) return c.init;
        return nn::parse_init(p.string("init"));
    }

    static LayerSpec parse_layer(const config::Params& item) {
        LayerSpec s;
        if (item.is_scalar()) {
            s.kind = item.text();
            static const std::vector<std::string> bare{"relu", "leaky_relu", "sigmoid", "tanh", "softplus", "flatten",
                                                       "batch_norm"};
            if (std::find(bare.begin(), bare.end(), s.kind) == bare.end())
                item.fail("", config::unknown_name("layer", s.kind, layer_names()) +
                                  (s.kind == "conv" || s.kind == "linear" || s.kind == "tap"
                                       ? fmt::format(" ('{}' needs parameters: - {}: {{...}})", s.kind, s.kind)
                                       : ""));
            return s;
        }
        if (!item.is_map() || item.keys().size() != 1)
            item.fail("", "expected a layer: a name (- relu) or a map with one key (- conv: {out: 32, kernel: 3})");
        s.kind = item.keys().front();
        if (s.kind == "tap") {
            s.tap = item.string("tap");
            return s;
        }
        const config::Params a = item.child(s.kind);
        if (s.kind == "conv") {
            s.out = a.integer("out");
            s.kernel = a.integer("kernel");
            s.stride = a.has("stride") ? a.integer("stride") : 1;
            s.padding = a.has("padding") ? a.integer("padding") : 0;
        } else if (s.kind == "linear") {
            s.out = a.integer("out");
        } else if (s.kind == "max_pool") {
            s.kernel = a.integer("kernel");
            s.stride = a.has("stride") ? a.integer("stride") : s.kernel;
            s.padding = a.has("padding") ? a.integer("padding") : 0;
        } else if (s.kind == "dropout") {
            s.p = static_cast<float>(a.number("p"));
        } else if (s.kind == "leaky_relu") {
            s.slope = static_cast<float>(a.number("slope"));
        } else {
            item.fail("", config::unknown_name("layer", s.kind, layer_names()));
        }
        return s;
    }
    static const std::vector<std::string>& layer_names() {
        static const std::vector<std::string> n{"batch_norm", "conv",    "dropout", "flatten", "leaky_relu", "linear",
                                                "max_pool",   "relu",    "sigmoid", "softplus", "tanh",      "tap"};
        return n;
    }

    void build(const std::vector<LayerSpec>& specs, const std::vector<config::Params>& where, const Shape& input,
               nn::Init init, Rng& rng, const config::Params& p) {
        input_ = input;
        Shape s = input;  // per-sample shape as layers are added
        std::vector<std::string> parts;
        for (std::size_t i = 0; i < specs.size(); ++i) {
            const LayerSpec& l = specs[i];
            const config::Params& at = where[i];
            std::shared_ptr<nn::Module> m;
            if (l.kind == "tap") {
                for (const auto& st : steps_)
                    if (st.tap == l.tap) at.fail("tap", fmt::format("tap '{}' is named twice", l.tap));
                if (l.tap == "local" && s.size() != 3)
                    at.fail("tap", fmt::format("the local tap needs a feature map (C, H, W); here the shape is {}",
                                               to_string(s)));
                if (l.tap == "global" && s.size() != 1)
                    at.fail("tap", fmt::format("the global tap needs a vector; here the shape is {} (add - flatten "
                                               "and a linear layer before it)",
                                               to_string(s)));
                steps_.push_back({nullptr, l.tap});
                parts.push_back("tap " + l.tap);
                continue;
            }
            if (l.kind == "conv" || l.kind == "max_pool") {
                if (s.size() != 3)
                    at.fail("", fmt::format("{} needs a feature map (C, H, W); here the shape is {}", l.kind, to_string(s)));
                if (s[1] + 2 * l.padding < l.kernel || s[2] + 2 * l.padding < l.kernel)
                    at.fail("", fmt::format("kernel {} is larger than the {}x{} input of this layer (with padding {})",
                                            l.kernel, s[1], s[2], l.padding));
            }
            if (l.kind == "conv") {
                m = std::make_shared<nn::Conv2d>(s[0], l.out, l.kernel, rng, l.stride, l.padding, true, init);
                s = {l.out, (s[1] + 2 * l.padding - l.kernel) / l.stride + 1, (s[2] + 2 * l.padding - l.kernel) / l.stride + 1};
            } else if (l.kind == "max_pool") {
                m = std::make_shared<nn::MaxPool2d>(l.kernel, l.stride, l.padding);
                s = {s[0], (s[1] + 2 * l.padding - l.kernel) / l.stride + 1, (s[2] + 2 * l.padding - l.kernel) / l.stride + 1};
            } else if (l.kind == "linear") {
                if (s.size() != 1)
                    at.fail("", fmt::format("linear needs a vector; here the shape is {} (add - flatten before it)",
                                            to_string(s)));
                m = std::make_shared<nn::Linear>(s[0], l.out, rng, true, init);
                s = {l.out};
            } else if (l.kind == "batch_norm") {
                m = std::make_shared<nn::BatchNorm>(s[0]);
            } else if (l.kind == "flatten") {
                m = std::make_shared<nn::Flatten>();
                s = {numel(s)};
            } else if (l.kind == "dropout") {
                m = std::make_shared<nn::Dropout>(l.p, Rng(rng.next_u64()));
            } else {
                m = std::make_shared<nn::Act>(nn::parse_activation(l.kind), l.slope);
            }
            add_module(std::to_string(steps_.size()), m);
            steps_.push_back({m, ""});
            parts.push_back(m->describe());
        }
        if (steps_.empty()) p.fail("layers", "an encoder needs at least one layer");
        description_ = fmt::format("layer_stack({})", fmt::join(parts, ", "));
    }

    Shape input_;
    std::vector<Step> steps_;
    std::string description_;
};

const char* kPresetSchema =
    "type: object\nadditionalProperties: false\nproperties:\n"
    "  init: {type: string, enum: [pytorch_default, glorot_uniform]}\n"
    "  input: {type: array, items: {type: integer, minimum: 1}, minItems: 3, maxItems: 3}\n";

LayerSpec conv(std::int64_t out, std::int64_t k, std::int64_t stride = 1, std::int64_t pad = 0) {
    LayerSpec s;
    s.kind = "conv";
    s.out = out;
    s.kernel = k;
    s.stride = stride;
    s.padding = pad;
    return s;
}
LayerSpec linear(std::int64_t out) {
    LayerSpec s;
    s.kind = "linear";
    s.out = out;
    return s;
}
LayerSpec layer(const char* kind) {
    LayerSpec s;
    s.kind = kind;
    return s;
}
LayerSpec tap(const char* name) {
    LayerSpec s;
    s.kind = "tap";
    s.tap = name;
    return s;
}

nn::Init preset_init(const config::Params& p, nn::Init source) {
    return p.has("init") ? nn::parse_init(p.string("init")) : source;
}
Shape preset_input(const config::Params& p, const Shape& source) {
    if (!p.has("input")) return source;
    auto v = p.integers("input");
    return Shape(v.begin(), v.end());
}

// A preset: a fixed layer stack with the input shape and the init of the
// model it comes from (both can be overridden by the params `input`, `init`).
template <class Source>
class Preset final : public Encoder {
public:
    Preset(const config::Params& p, BuildContext& c)
        : stack_(std::make_shared<LayerStack>(Source::layers(), preset_input(p, Source::input()),
                                              preset_init(p, Source::init), *c.rng, p)) {
        add_module("stack", stack_);
    }
    Features encode(const Var& x) override { return stack_->encode(x); }
    std::string describe() const override { return std::string(Source::name) + " " + stack_->describe(); }

private:
    std::shared_ptr<LayerStack> stack_;
};

// The TensorFlow DIM reference (28x28x1): Keras defaults, Glorot-uniform weights and
// zero biases. M = 5x5x256, y = 32.
struct SmallConv28 {
    static constexpr const char* name = "small_conv28";
    static constexpr nn::Init init = nn::Init::glorot_uniform;
    static Shape input() { return {1, 28, 28}; }
    static std::vector<LayerSpec> layers() {
        return {conv(32, 6, 5), layer("relu"),   conv(64, 1), layer("relu"), conv(128, 1),
                layer("relu"),  conv(256, 1),    layer("relu"), tap("local"), layer("flatten"),
                linear(256),    layer("relu"),   linear(32),  tap("global")};
    }
};

// The PyTorch reference (PyTorch, 32x32x3): PyTorch default init. M = 26x26x128 (after the
// second conv and its batchnorm), y = 64.
struct BnConv32 {
    static constexpr const char* name = "bn_conv32";
    static constexpr nn::Init init = nn::Init::pytorch_default;
    static Shape input() { return {3, 32, 32}; }
    static std::vector<LayerSpec> layers() {
        return {conv(64, 4),         layer("relu"), conv(128, 4),       layer("batch_norm"), layer("relu"),
                tap("local"),        conv(256, 4),  layer("batch_norm"), layer("relu"),      conv(512, 4),
                layer("batch_norm"), layer("relu"), layer("flatten"),    linear(64),         tap("global")};
    }
};

// The DIM paper's DCGAN-style 32x32 encoder: 4x4 stride-2 convs 64-128-256,
// fc 1024, y = 64; M = 8x8x128.
struct Dcgan32 {
    static constexpr const char* name = "dcgan32";
    static constexpr nn::Init init = nn::Init::pytorch_default;
    static Shape input() { return {3, 32, 32}; }
    static std::vector<LayerSpec> layers() {
        return {conv(64, 4, 2, 1),   layer("relu"),      conv(128, 4, 2, 1), layer("batch_norm"), layer("relu"),
                tap("local"),        conv(256, 4, 2, 1), layer("batch_norm"), layer("relu"),      layer("flatten"),
                linear(1024),        layer("batch_norm"), layer("relu"),      linear(64),         tap("global")};
    }
};

}  // namespace

INFOMAX_PLUGIN(Encoder, LayerStack, "layer_stack", "1.1.0",
               "layers declared in the spec, with taps for M (local) and y (global)",
               R"yaml(type: object
additionalProperties: false
required: [layers]
properties:
  input:
    type: array
    items: {type: integer, minimum: 1}
    minItems: 1
    maxItems: 3
    description: "[channels, height, width], or [dim] for vectors (a GAN generator's noise); defaults to the data's shape"
  init:
    type: string
    enum: [pytorch_default, glorot_uniform]
    description: parameter initialiser (default pytorch_default)
  layers:
    type: array
    minItems: 1
    items:
      anyOf:
        - type: string
          enum: [relu, leaky_relu, sigmoid, tanh, softplus, flatten, batch_norm]
        - type: object
          additionalProperties: false
          properties:
            conv:
              type: object
              additionalProperties: false
              required: [out, kernel]
              properties:
                out: {type: integer, minimum: 1}
                kernel: {type: integer, minimum: 1}
                stride: {type: integer, minimum: 1, default: 1}
                padding: {type: integer, minimum: 0, default: 0}
            linear:
              type: object
              additionalProperties: false
              required: [out]
              properties:
                out: {type: integer, minimum: 1}
            max_pool:
              type: object
              additionalProperties: false
              required: [kernel]
              properties:
                kernel: {type: integer, minimum: 1}
                stride: {type: integer, minimum: 1}
                padding: {type: integer, minimum: 0, default: 0}
            dropout:
              type: object
              additionalProperties: false
              required: [p]
              properties:
                p: {type: number, minimum: 0, exclusiveMaximum: 1}
            leaky_relu:
              type: object
              additionalProperties: false
              properties:
                slope: {type: number, default: 0.01}
            tap: {type: string, minLength: 1}
)yaml")
INFOMAX_PLUGIN(Encoder, Preset<SmallConv28>, "small_conv28", "1.0.0",
               "the small 28x28 encoder of the TensorFlow DIM reference: conv 6/5, three 1x1 convs (M 5x5x256), fc 256, "
               "y 32; Glorot init",
               kPresetSchema)
INFOMAX_PLUGIN(Encoder, Preset<BnConv32>, "bn_conv32", "1.0.0",
               "the 32x32 encoder of the PyTorch DIM reference: four 4x4 convs with batchnorm (M 26x26x128), y 64; "
               "PyTorch init",
               kPresetSchema)
// Their former names, so specs and run directories written before the rename load (and reproduce).
INFOMAX_PLUGIN(Encoder, Preset<SmallConv28>, "seed000", "1.0.0", "former name of small_conv28", kPresetSchema)
INFOMAX_PLUGIN(Encoder, Preset<BnConv32>, "seed002", "1.0.0", "former name of bn_conv32", kPresetSchema)
INFOMAX_PLUGIN(Encoder, Preset<Dcgan32>, "dcgan32", "1.0.0",
               "the DIM paper's DCGAN-style 32x32 encoder: 4x4/2 convs 64-128-256 (M 8x8x128), fc 1024, y 64",
               kPresetSchema)
