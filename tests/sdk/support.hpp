// Helpers shared by the plugin tests: parts built from YAML as a spec would
// build them, and a scratch directory per test process.
#pragma once

#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "config/document.hpp"
#include "infomax/plugin/registry.hpp"

namespace infomax::test {

// Builds parts from YAML text, validated as a spec would be (x-plugin), so
// defaults are filled in.
struct Parts {
    Parts() { registry.load_defaults(); }
    template <class T>
    std::shared_ptr<T> make(const std::string& kind, const std::string& yaml, BuildContext& ctx) {
        docs.push_back(std::make_unique<config::Document>(config::parse(yaml, "test.yaml")));
        const config::Schema wrapper = config::Schema::from_yaml(
            "type: object\nx-plugin: " + kind + "\nproperties:\n  type: {type: string}\n");
        auto errs = config::validate(*docs.back(), wrapper, registry.schema_lookup());
        INFO((errs.empty() ? "" : errs[0].to_string()));
        REQUIRE(errs.empty());
        const std::string type = docs.back()->root["type"].as<std::string>();
        return registry.create_as<T>(kind, type, config::Params(*docs.back(), ""), ctx);
    }
    Registry registry;
    std::vector<std::unique_ptr<config::Document>> docs;
};

// The tiny DIM spec the run tests share, `steps` steps long (checkpoints
// every 5, a metrics row every 4), with every part that has state: batchnorm
// buffers, DV's moving average, the prior's own optimizer.
inline std::string tiny_dim_spec(const std::filesystem::path& out, int steps = 20) {
    return "name: tiny\nkind: dim\nseed: 7\n"
           "data: {type: synthetic, shape: [1, 12, 12], size: 256, classes: 4, batch_size: 32}\n"
           "encoder:\n  type: layer_stack\n  layers:\n    - conv: {out: 8, kernel: 3}\n    - batch_norm\n    - relu\n"
           "    - tap: local\n    - flatten\n    - linear: {out: 6}\n    - tap: global\n"
           "objectives:\n"
           "  global: {weight: 0.5, estimator: jsd, discriminator: {type: global_concat, hidden: [16]}}\n"
           "  local: {weight: 1.0, estimator: dv, discriminator: {type: local_concat_conv, hidden: [8]}}\n"
           "prior: {weight: 0.1, distribution: uniform, discriminator: {type: prior_mlp, hidden: [8], batch_norm: true}}\n"
           "optimizer: {lr: 1.0e-3}\n"
           "train: {steps: " + std::to_string(steps) + ", checkpoint_every: 5, log_every: 4}\n"
           "eval: {probes: [linear], features: [global, local]}\n"
           "output: {dir: " + out.string() + "}\n";
}

// A fresh directory <tmp>/infomax-<what>-<pid>, removed at the end of the test.
struct TempDir {
    explicit TempDir(const std::string& what)
        : path(std::filesystem::temp_directory_path() / ("infomax-" + what + "-" + std::to_string(::getpid()))) {
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    std::string write(const std::string& name, const std::string& text) const {
        std::ofstream(path / name) << text;
        return (path / name).string();
    }
    std::filesystem::path path;
};

}  // namespace infomax::test
