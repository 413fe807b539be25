// From a spec file to a model: validation against the experiment schema and
// the parts' schemas, and shape checks when the model is built.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "config/document.hpp"
#include "experiment/load_spec.hpp"
#include "infomax/experiment/model.hpp"

using namespace infomax;
namespace fs = std::filesystem;

namespace {

struct SpecFile {
    SpecFile(const std::string& name, const std::string& text)
        : path((fs::temp_directory_path() / ("infomax-test-" + std::to_string(::getpid()) + "-" + name)).string()) {
        std::ofstream(path) << text;
    }
    ~SpecFile() { fs::remove(path); }
    std::string path;
};

const char* kDim = R"(name: t
kind: dim
seed: 3
data: {type: idx, batch_size: 64}
encoder: {type: small_conv28}
objectives:
  global: {weight: 0.5, estimator: jsd, discriminator: {type: global_concat, hidden: [16]}}
  local: {weight: 1.0, estimator: infonce, discriminator: {type: local_dot, hidden: [16], embed: 8}}
prior: {weight: 0.1, distribution: uniform, discriminator: {type: prior_mlp, hidden: [16]}}
)";

std::string spec_error(const std::string& file, const std::vector<std::string>& overrides = {}) {
    Registry r;
    r.load_defaults();
    try {
        Model m = build_model(Experiment::from(load_spec(file, overrides, r)), r);
        training_steps(m, Experiment::from(load_spec(file, overrides, r)));
    } catch (const config::SpecError& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

TEST_CASE("a DIM spec builds a model with inferred shapes", "[model]") {
    SpecFile f("dim.yaml", kDim);
    Registry r;
    r.load_defaults();
    auto doc = load_spec(f.path, {}, r);
    Model m = build_model(Experiment::from(doc), r);
    CHECK(m.local_shape == Shape{256, 5, 5});
    CHECK(m.global_shape == Shape{32});
    REQUIRE(m.objectives.size() == 2);
    CHECK(m.objectives[0].name == "global");
    CHECK(m.objectives[0].negatives == "roll");
    CHECK(m.objectives[1].negatives == "all");  // InfoNCE's default
    CHECK(m.objectives[1].estimator->quantity() == "mi_infonce");
    REQUIRE(m.prior);
    CHECK(m.prior->weight == Approx(0.1f));
    CHECK(config::dump(doc).find("ema_decay") == std::string::npos);
    // defaults of the parts are filled in the resolved spec
    CHECK(config::dump(doc).find("activation: relu") != std::string::npos);
}

TEST_CASE("every estimator pairs with every pair critic in mi_estimation", "[model]") {
    for (const char* est : {"jsd", "dv", "infonce", "nwj"})
        for (const char* critic : {"joint", "separable"}) {
            SpecFile f("mi.yaml", std::string("name: mi\nkind: mi_estimation\ndata: {type: gaussian, dim: 5, size: 100}\n"
                                              "objectives:\n  mi: {estimator: ") +
                                      est + ", discriminator: {type: " + critic + ", critic_layers: [8]}}\n");
            Registry r;
            r.load_defaults();
            Model m = build_model(Experiment::from(load_spec(f.path, {}, r)), r);
            CHECK(m.local_shape == Shape{5});
            CHECK(m.objectives.at(0).discriminator_type == critic);
        }
}

TEST_CASE("spec errors point at the file, line and column", "[model][errors]") {
    SpecFile f("bad.yaml", R"(name: t
kind: dim
data: {type: idx}
encoder: {type: small_conv28}
objectives:
  global: {estimator: jds, discriminator: {type: global_concat, hiden: [16]}}
)");
    CHECK(spec_error(f.path) ==
          f.path + ":6:23: objectives.global.estimator.type: unknown estimator 'jds' (did you mean 'jsd'?); known: dv, "
                   "hellinger, infonce, interpolated, jsd, nwj, pearson, reverse_kl, smile, tuba\n" +
          f.path + ":6:65: objectives.global.discriminator.hiden: unknown key 'hiden' (did you mean 'hidden'?); known "
                   "keys: activation, convs, hidden");
}

TEST_CASE("a value from the command line is reported as such", "[model][errors]") {
    SpecFile f("dim.yaml", kDim);
    CHECK(spec_error(f.path, {"objectives.global.weight=abc"}) ==
          "command line argument 1 (objectives.global.weight=abc): objectives.global.weight: expected a number, found "
          "\"abc\"");
}

TEST_CASE("shape mismatches are found when the model is built", "[model][errors]") {
    SpecFile f("shape.yaml", R"(name: t
kind: dim
data: {type: idx}
encoder:
  type: layer_stack
  layers:
    - conv: {out: 8, kernel: 3}
    - relu
    - tap: local
    - linear: {out: 4}
objectives:
  global: {estimator: jsd, discriminator: global_concat}
)");
    CHECK(spec_error(f.path) == f.path + ":10:7: encoder.layers[3]: linear needs a vector; here the shape is [8, 26, "
                                         "26] (add - flatten before it)");
    SpecFile g("critic.yaml", R"(name: t
kind: dim
data: {type: idx}
encoder: {type: small_conv28}
objectives:
  global: {estimator: jsd, discriminator: {type: global_concat, convs: [{out: 4, kernel: 9}]}}
)");
    CHECK(spec_error(g.path) == g.path + ":6:90: objectives.global.discriminator.convs[0].kernel: kernel 9 is larger "
                                         "than the 5x5 feature map");
    SpecFile h("notap.yaml", R"(name: t
kind: dim
data: {type: idx}
encoder: {type: layer_stack, layers: [flatten, {linear: {out: 4}}]}
objectives:
  local: {estimator: jsd, discriminator: local_concat_conv}
)");
    CHECK(spec_error(h.path) ==
          h.path + ":4:10: encoder: encoder 'layer_stack' has no local tap: add `- tap: local` where M is taken");
}

TEST_CASE("a spec that is not a map of settings is a spec error, not a crash", "[model][errors]") {
    SpecFile list("list.yaml", "- a\n- b\n");
    CHECK(spec_error(list.path) == list.path + ":1:1: expected a map of settings (name: ..., kind: ..., ...), found a list");
    SpecFile scalar("scalar.yaml", "just text\n");
    CHECK(spec_error(scalar.path) ==
          scalar.path + ":1:1: expected a map of settings (name: ..., kind: ..., ...), found a single value");
}

TEST_CASE("override problems and spec problems are reported together", "[model][errors]") {
    SpecFile f("dim.yaml", kDim);
    CHECK(spec_error(f.path, {"optimizer.lr_rate=3", "objectives.global.estimator=jds", "seed=-1"}) ==
          "command line argument 1 (optimizer.lr_rate=3): optimizer.lr_rate: unknown key 'lr_rate' (did you mean "
          "'lr'?); known keys: betas, clip_grad_norm, eps, lr, momentum, type, weight_decay\n"
          "command line argument 2 (objectives.global.estimator=jds): objectives.global.estimator.type: unknown "
          "estimator 'jds' (did you mean 'jsd'?); known: dv, hellinger, infonce, interpolated, jsd, nwj, pearson, reverse_kl, smile, tuba\n"
          "command line argument 3 (seed=-1): seed: expected an integer >= 0, found -1");
}
