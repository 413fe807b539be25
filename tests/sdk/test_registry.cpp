// The registry: loading, the errors for bad libraries, building, lifetimes.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "config/document.hpp"
#include "experiment/load_spec.hpp"
#include "infomax/ops/ops.hpp"
#include "infomax/plugin/registry.hpp"
#include "infomax/version.hpp"

using namespace infomax;
namespace fs = std::filesystem;

namespace {
std::string canon(const char* p) { return fs::weakly_canonical(p).string(); }

config::Document params_doc(const std::string& yaml) { return config::parse(yaml, "params.yaml"); }
}  // namespace

TEST_CASE("a plugin library registers its parts", "[plugin]") {
    Registry r;
    r.load_library(TEST_GOOD);
    const PartEntry* e = r.find("estimator", "test_const");
    REQUIRE(e != nullptr);
    CHECK(e->version == "0.1.0");
    CHECK(e->description == "returns a constant");
    CHECK(e->file == canon(TEST_GOOD));
    CHECK(r.names("estimator") == std::vector<std::string>{"test_const", "test_throws"});
    r.load_library(TEST_GOOD);  // loading the same file again is harmless
    CHECK(r.entries().size() == 2);
}

TEST_CASE("built-in plugins are found in the built-in folder", "[plugin]") {
    Registry r;
    r.load_defaults();
    CHECK(r.names("estimator") == std::vector<std::string>{"dv", "hellinger", "infonce", "interpolated", "jsd", "nwj", "pearson", "reverse_kl", "smile", "tuba"});
    CHECK(r.names("discriminator") ==
          std::vector<std::string>{"global_concat", "joint", "local_concat_conv", "local_dot", "prior_mlp", "separable"});
    CHECK(r.names("encoder") == std::vector<std::string>{"bn_conv32", "dcgan32", "layer_stack", "seed000", "seed002", "small_conv28"});
    CHECK(r.names("prior") == std::vector<std::string>{"normal", "uniform"});
    for (const auto* e : r.entries()) CHECK(fs::path(e->file).parent_path() == fs::path(Registry::builtin_directory()));
}

TEST_CASE("loading errors name the file and the problem", "[plugin]") {
    Registry r;
    CHECK_THROWS_WITH(r.load_library("/nonexistent/x.so"), "plugin '/nonexistent/x.so': no such file");
    CHECK_THROWS_WITH(r.load_library(TEST_NOT_A_PLUGIN),
                      std::string("'") + TEST_NOT_A_PLUGIN +
                          "' is not an infomax plugin: it exports no infomax_plugin_v1 entry point (build it with "
                          "infomax_add_plugin)");
    CHECK_THROWS_WITH(r.load_library(TEST_OLD_ABI),
                      std::string("plugin '") + TEST_OLD_ABI + "' was built for infomax plugin ABI 0 (infomax test), "
                          "this infomax " + version() + " has ABI " + std::to_string(kAbiVersion) + ": rebuild the plugin against this version");
    const fs::path junk = fs::temp_directory_path() / "infomax-junk-plugin.so";
    std::ofstream(junk) << std::string(256, 'x');  // long enough to be read as a header
    CHECK_THROWS_WITH(r.load_library(junk.string()),
                      Catch::StartsWith("cannot load plugin '" + junk.string() + "': ") &&
                          Catch::Contains("invalid ELF header"));
    fs::remove(junk);
    CHECK_THROWS_WITH(r.load_directory("/nonexistent/plugins"), "plugin folder '/nonexistent/plugins' does not exist");
    r.load_library(TEST_GOOD);
    CHECK_THROWS_WITH(r.load_library(TEST_DUPLICATE), "estimator 'test_const' is defined twice: in '" +
                                                          canon(TEST_GOOD) + "' and in '" + canon(TEST_DUPLICATE) + "'");
    CHECK(r.find("estimator", "test_const")->version == "0.1.0");  // the first one stays
}

TEST_CASE("parts are built by name, with their params", "[plugin]") {
    Registry r;
    r.load_library(TEST_GOOD);
    auto doc = params_doc("est: {type: test_const, value: 2.5}\nbad: {type: test_throws}\nunknown: {type: test_cnst}\n");
    BuildContext ctx;
    auto est = r.create_as<Estimator>("estimator", "test_const", config::Params(doc, "est"), ctx);
    REQUIRE(est);
    Scores s{Var(Tensor::zeros({2, 1})), Var(Tensor::zeros({2, 1}))};
    CHECK(est->bound(s).value.item() == 2.5f);
    CHECK_THROWS_WITH(r.create("estimator", "test_throws", config::Params(doc, "bad"), ctx),
                      "estimator 'test_throws' (from '" + canon(TEST_GOOD) + "') failed to build: out of coffee");
    CHECK_THROWS_WITH(r.create("estimator", "test_cnst", config::Params(doc, "unknown"), ctx),
                      "params.yaml:3:17: unknown.type: unknown estimator 'test_cnst' (did you mean 'test_const'?); "
                      "known: test_const, test_throws");
}

TEST_CASE("objects made by a plugin keep its library loaded", "[plugin]") {
    std::shared_ptr<Estimator> est;
    {
        Registry r;
        r.load_library(TEST_GOOD);
        auto doc = params_doc("est: {type: test_const, value: 4}\n");
        BuildContext ctx;
        est = r.create_as<Estimator>("estimator", "test_const", config::Params(doc, "est"), ctx);
    }  // the registry is gone; the library must not be
    Scores s{Var(Tensor::zeros({2, 1})), Var(Tensor::zeros({2, 1}))};
    CHECK(est->bound(s).value.item() == 4.0f);  // virtual call into the plugin's code
    CHECK(est->quantity() == "test_const");
}

TEST_CASE("unknown names get a did-you-mean and the known list", "[plugin]") {
    CHECK(config::unknown_name("estimator", "jds", {"nwj", "jsd", "dv", "infonce"}) ==
          "unknown estimator 'jds' (did you mean 'jsd'?); known: dv, infonce, jsd, nwj");
    CHECK(config::unknown_name("estimator", "zzzzzz", {"jsd"}) == "unknown estimator 'zzzzzz'; known: jsd");
}
