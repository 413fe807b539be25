// The experiment layer: the typed experiment, the session's one precedence
// rule, plugin authors' mistakes named as theirs, and the sgd optimizer.
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "config/document.hpp"
#include "experiment/runner.hpp"
#include "infomax/data/files.hpp"
#include "infomax/eval/probes.hpp"
#include "infomax/experiment/experiment.hpp"
#include "infomax/experiment/model.hpp"
#include "infomax/experiment/run.hpp"
#include "infomax/experiment/session.hpp"
#include "infomax/experiment/suite.hpp"
#include "infomax/plugin/registry.hpp"
#include "infomax/runtime/threads.hpp"
#include "sdk/support.hpp"

using namespace infomax;
namespace fs = std::filesystem;

namespace {

std::string tiny(const fs::path& out, const std::string& extra = "") {
    return "name: tiny\nkind: dim\nseed: 3\n"
           "data: {type: synthetic, shape: [1, 8, 8], size: 128, classes: 4, batch_size: 16}\n"
           "encoder:\n  type: layer_stack\n  layers:\n    - conv: {out: 4, kernel: 3}\n    - relu\n    - tap: local\n"
           "    - flatten\n    - linear: {out: 5}\n    - tap: global\n"
           "objectives:\n  global: {weight: 0.5, estimator: jsd, discriminator: {type: global_concat, hidden: [8]}}\n"
           "output: {dir: " + out.string() + "}\n" + extra;
}

std::string canon(const char* p) { return fs::weakly_canonical(p).string(); }

}  // namespace

TEST_CASE("the typed experiment takes its defaults from the schema and keeps origins", "[experiment]") {
    test::TempDir t("experiment-test");
    const std::string file = t.write("e.yaml", tiny(t.path / "runs"));
    Session session;
    const Experiment e = session.load(file);
    CHECK(e.kind == Kind::dim);
    CHECK(e.seed == 3);
    CHECK(e.data.part.type == "synthetic");
    CHECK(e.data.batch_size == 16);
    REQUIRE(e.objectives.size() == 1);
    CHECK(e.objectives[0].weight == 0.5);
    CHECK_FALSE(e.objectives[0].negatives);  // the estimator's default
    // Sections the spec does not write come from the schema's defaults.
    CHECK(e.train.epochs == 1);
    CHECK(e.train.log_every == 50);
    CHECK_FALSE(e.train.steps);
    CHECK(e.train.threads == 0);
    CHECK(e.optimizer.type == "adam");
    CHECK(e.optimizer.lr == 1e-4);
    CHECK(e.optimizer.beta1 == 0.9);
    CHECK(e.optimizer.beta2 == 0.999);
    CHECK(e.eval.probes == std::vector<std::string>{"linear"});
    CHECK(e.eval.features == std::vector<std::string>{"global"});
    CHECK(e.eval.linear_max_iter == 1000);
    // ... without changing the resolved spec (its hash names run directories).
    CHECK(e.resolved_yaml.find("log_every") == std::string::npos);
    CHECK(e.where("objectives.global.weight") == file + ":15:20");
    CHECK_THROWS_WITH(e.fail("train.steps", "no"), file + ":1:1: train.steps: no");  // absent: the nearest written place
}

TEST_CASE("threads: the command line wins over the spec, which wins over the default", "[experiment][threads]") {
    test::TempDir t("experiment-test");
    const std::string plain = t.write("plain.yaml", tiny(t.path / "runs"));
    const std::string two = t.write("two.yaml", tiny(t.path / "runs", "train: {threads: 2, steps: 2}\n"));
    Session none, one({1, {}});
    CHECK(none.threads_for(none.load(plain)) == default_threads());
    CHECK(none.threads_for(none.load(two)) == 2);
    CHECK(one.threads_for(one.load(two)) == 1);
    // Through a run: the manifest records what the run used.
    RunOptions o;
    o.spec = two;
    o.threads = 1;
    o.progress = false;
    const RunResult r = run_experiment(o);
    CHECK(nlohmann::json::parse(std::ifstream(fs::path(r.dir) / "manifest.json"))["threads"] == 1);
    o.threads = 0;
    const RunResult r2 = run_experiment(o);
    CHECK(nlohmann::json::parse(std::ifstream(fs::path(r2.dir) / "manifest.json"))["threads"] == 2);
    set_threads(1);
}

TEST_CASE("a plugin author's mistakes are named as the plugin's, with its library", "[experiment][plugin]") {
    test::TempDir t("experiment-test");
    {  // a misspelt schema keyword: the library is refused whole
        Registry r;
        CHECK_THROWS_WITH(r.load_library(TEST_BAD_KEYWORD),
                          "plugin '" + std::string(TEST_BAD_KEYWORD) +
                              "': the params schema of estimator 'test_typo' is invalid: estimator 'test_typo' params "
                              "schema:3:25: properties.value.defualt: unknown schema keyword 'defualt' (did you mean "
                              "'default'?)");
        CHECK(r.entries().empty());
        CHECK_THROWS_WITH(r.load_library(TEST_BAD_NAME),
                          "plugin '" + std::string(TEST_BAD_NAME) +
                              "': estimator 'Test-Upper' is not a registry name: use lowercase letters, digits and '_', "
                              "starting with a letter (at most 64), e.g. 'test_upper'");
        CHECK(r.entries().empty());
    }
    auto spec = [&](const std::string& estimator) {
        std::string s = tiny(t.path / "runs");
        s.replace(s.find("estimator: jsd"), 14, "estimator: " + estimator);
        return t.write("p.yaml", s + "plugins: [" + TEST_AUTHOR_MISTAKES + "]\n");
    };
    auto build = [&](const std::string& file) {
        Session s;
        build_model(s.load(file), s.registry());
    };
    const std::string lib = canon(TEST_AUTHOR_MISTAKES);
    CHECK_THROWS_WITH(build(spec("test_undeclared")),
                      "estimator 'test_undeclared' (from '" + lib +
                          "') reads the param 'gain', which its params schema does not declare: the plugin must declare "
                          "it (with a default, or as required); this is not a problem of the spec");
    {  // pair scores of the wrong shape: found in the dry run, at the discriminator
        std::string s = tiny(t.path / "runs");
        const std::string from = "discriminator: {type: global_concat, hidden: [8]}";
        s.replace(s.find(from), from.size(), "discriminator: test_flat_scores");
        const std::string f = t.write("d.yaml", s + "plugins: [" + TEST_AUTHOR_MISTAKES + "]\n");
        CHECK_THROWS_WITH(build(f), f + ":15:56: objectives.global.discriminator: discriminator 'test_flat_scores' does not fit "
                                        "inputs of shapes [4, 6, 6] and [5]: scores: the discriminator scored 2 pairs as shape "
                                        "[288]: pair scores must be (N, P), one row per pair");
    }
    const std::string file = spec("test_vector_bound");
    CHECK_THROWS_WITH(build(file), file + ":15:36: objectives.global.estimator: estimator 'test_vector_bound' (" + lib +
                                       ") returned a bound of shape [2] (loss [2]): a bound must be a scalar; the plugin "
                                       "is wrong, not this spec");
}

TEST_CASE("sgd with momentum trains, checkpoints its momentum, and resumes bitwise", "[experiment][optim]") {
    test::TempDir t("experiment-test");
    const std::string file = t.write(
        "sgd.yaml", tiny(t.path / "runs", "optimizer: {type: sgd, lr: 0.01, momentum: 0.9}\n"
                                          "train: {steps: 12, checkpoint_every: 4, log_every: 4}\n"
                                          "eval: {probes: [linear], features: [global], linear_max_iter: 5}\n"));
    RunOptions o;
    o.spec = file;
    o.threads = 1;
    o.progress = false;
    const RunResult whole = run_experiment(o);
    o.after_step = [](std::int64_t s) {
        if (s == 6) request_stop();
    };
    const RunResult cut = run_experiment(o);
    REQUIRE(cut.interrupted);
    RunOptions again;
    again.resume = cut.dir;
    again.threads = 1;
    again.progress = false;
    CHECK(run_experiment(again).steps == 12);
    auto read = [](const std::string& dir) { return data::read_safetensors(dir + "/checkpoints/step-00000012.safetensors"); };
    const auto a = read(whole.dir), b = read(cut.dir);
    CHECK(a.tensors.count("sgd/momentum/encoder.0.weight") == 1);
    CHECK(a.metadata.at("sgd_steps") == "12");
    REQUIRE(a.tensors.size() == b.tensors.size());
    for (const auto& [name, ta] : a.tensors) {
        const auto va = ta.to_vector(), vb = b.tensors.at(name).to_vector();
        INFO(name);
        REQUIRE(va.size() == vb.size());
        CHECK(std::memcmp(va.data(), vb.data(), va.size() * sizeof(float)) == 0);
    }
}

TEST_CASE("the dry run leaves an estimator's state as it was (DV's moving average)", "[experiment]") {
    test::TempDir t("experiment-test");
    std::string s = tiny(t.path / "runs");
    s.replace(s.find("estimator: jsd"), 14, "estimator: {type: dv, ema_decay: 0.9}");
    Session session;
    const Experiment e = session.load(t.write("dv.yaml", s));
    Model m = build_model(e, session.registry());
    // No batch has been seen: the first training step starts the average.
    CHECK(m.objectives.at(0).estimator->state() == std::vector<double>{-1.0});
}

TEST_CASE("every probe the schema offers is run by name, in one order, and no other", "[experiment][probes]") {
    const YAML::Node names = config::schema_node(experiment_schema())["$defs"]["eval"]["properties"]["probes"]["items"]["enum"];
    REQUIRE(names.size() == eval::probes().size());
    for (std::size_t i = 0; i < names.size(); ++i) CHECK(names[i].as<std::string>() == eval::probes()[i].name);
    CHECK_THROWS_WITH(eval::run_probe("svm", {}, {}, 2), "unknown probe 'svm'; known: linear, mlp, knn");
}

TEST_CASE("one thread limit: the schemas' maximum is the command line's", "[experiment][threads]") {
    const YAML::Node run = config::schema_node(experiment_schema())["$defs"]["train"]["properties"]["threads"];
    CHECK(run["maximum"].as<int>() == kMaxThreads);
    const YAML::Node suite = YAML::LoadFile(suite_schema_path())["properties"]["threads_per_run"];
    CHECK(suite["maximum"].as<int>() == kMaxThreads);
}

TEST_CASE("every kind has a name, a runner and its place in the schema's kind enum, in one order", "[experiment][kinds]") {
    const YAML::Node kinds = config::schema_node(experiment_schema())["properties"]["kind"]["enum"];
    REQUIRE(kinds.size() == kKinds.size());
    for (std::size_t i = 0; i < kKinds.size(); ++i) {
        INFO(to_string(kKinds[i]));
        CHECK(kinds[i].as<std::string>() == to_string(kKinds[i]));
        CHECK(detail::make_runner(kKinds[i]) != nullptr);
    }
}
