// Specs: parsing with origins, extends, overrides, schema validation with
// exact messages, x-plugin parts, and Params.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "config/document.hpp"
#include "config/internal.hpp"

using namespace infomax::config;
namespace fs = std::filesystem;

namespace {

// A directory of its own per test case, removed afterwards.
struct TempDir {
    TempDir() {
        static int counter = 0;
        path = fs::temp_directory_path() /
               ("infomax-config-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        fs::create_directories(path);
    }
    ~TempDir() { fs::remove_all(path); }
    std::string write(const std::string& name, const std::string& text) const {
        const fs::path p = path / name;
        fs::create_directories(p.parent_path());
        std::ofstream(p) << text;
        return p.string();
    }
    std::string str(const std::string& name) const { return (path / name).string(); }
    fs::path path;
};

std::vector<std::string> lines(const std::vector<Diagnostic>& ds) {
    std::vector<std::string> out;
    for (const auto& d : ds) out.push_back(d.to_string());
    return out;
}

// The diagnostics of the SpecError that `f` throws (fails the test if none).
template <class F>
std::vector<std::string> spec_errors(F&& f) {
    try {
        f();
    } catch (const SpecError& e) {
        auto out = lines(e.diagnostics());
        std::string joined;
        for (const auto& l : out) joined += (joined.empty() ? "" : "\n") + l;
        CHECK(std::string(e.what()) == joined);
        return out;
    }
    FAIL("no SpecError thrown");
    return {};
}

std::string scalar_at(const Document& doc, const std::string& a, const std::string& b) {
    return doc.root[a][b].as<std::string>();
}

const char* kTrainSchema = R"(
type: object
additionalProperties: false
required: [model, optimizer, data]
properties:
  seed: {type: integer, default: 0}
  data: {type: object}
  model:
    type: object
    additionalProperties: false
    required: [width]
    properties:
      width: {type: integer, minimum: 1, maximum: 8}
      depth: {type: integer, minimum: 1}
      act: {enum: [relu, gelu, tanh]}
  optimizer:
    $ref: "#/$defs/optimizer"
  steps: {type: integer, exclusiveMinimum: 0}
  name: {type: string}
  scale: {type: [number, string]}
$defs:
  optimizer:
    type: object
    additionalProperties: false
    required: [type]
    properties:
      type: {enum: [adam, sgd]}
      lr: {type: number, exclusiveMinimum: 0, default: 0.001}
      betas: {type: array, items: {type: number}, minItems: 2, maxItems: 2}
      weight_decay: {type: number, minimum: 0, default: 0}
)";

}  // namespace

TEST_CASE("parse records where every node was written", "[config]") {
    const Document doc = parse(
        "optimizer:\n"
        "  type: adam\n"
        "  lr: 0.001\n"
        "layers:\n"
        "  - conv: {out: 32}\n"
        "  - 64\n"
        "empty:\n"
        "nothing: ~\n",
        "spec.yaml");
    CHECK(doc.origin_of("").to_string() == "spec.yaml:1:1");
    CHECK(doc.origin_of("optimizer").to_string() == "spec.yaml:2:3");
    CHECK(doc.origin_of("optimizer.lr").to_string() == "spec.yaml:3:7");
    CHECK(doc.key_origins.at("optimizer.lr").to_string() == "spec.yaml:3:3");
    CHECK(doc.origin_of("layers[0].conv").to_string() == "spec.yaml:5:11");
    CHECK(doc.origin_of("layers[0].conv.out").to_string() == "spec.yaml:5:17");
    CHECK(doc.origin_of("layers[1]").to_string() == "spec.yaml:6:5");
    // An empty value sits at its key, not at the next line where yaml-cpp marks it.
    CHECK(doc.origin_of("empty").to_string() == "spec.yaml:7:1");
    CHECK(doc.origin_of("nothing").to_string() == "spec.yaml:8:10");
    // Nearest ancestor for paths without an entry.
    CHECK(doc.origin_of("optimizer.lr.deeper").to_string() == "spec.yaml:3:7");
    CHECK(doc.origin_of("optimizer.missing").to_string() == "spec.yaml:2:3");
    CHECK(scalar_at(doc, "optimizer", "type") == "adam");

    Origin arg;
    arg.argument = 2;
    arg.text = "optimizer.lr=abc";
    CHECK(arg.to_string() == "command line argument 2 (optimizer.lr=abc)");
    CHECK(Origin{}.to_string() == "default");
    CHECK(Diagnostic{arg, "optimizer.lr", "expected a number, found \"abc\""}.to_string() ==
          "command line argument 2 (optimizer.lr=abc): optimizer.lr: expected a number, found \"abc\"");
}

TEST_CASE("YAML syntax errors name file, line and column", "[config]") {
    CHECK(spec_errors([] { parse("a: 1\nb: [1, 2\nc: 3\n", "bad.yaml"); }) ==
          std::vector<std::string>{"bad.yaml:3:2: end of sequence flow not found"});
    TempDir dir;
    const std::string f = dir.write("bad.yaml", "model:\n  width: 1\n   depth: 2\n");
    CHECK(spec_errors([&] { load(f); }) == std::vector<std::string>{f + ":3:9: illegal map value"});
    CHECK(spec_errors([&] { load(dir.str("none.yaml")); }) == std::vector<std::string>{dir.str("none.yaml") + ": no such file"});
    CHECK(spec_errors([] { parse("a: 1\nb: 2\na: 3\n", "dup.yaml"); }) ==
          std::vector<std::string>{"dup.yaml:3:1: a: duplicate key 'a' (first written at line 1); remove one of them"});
}

TEST_CASE("validate reports every problem at once, with exact messages", "[config]") {
    const Schema schema = Schema::from_yaml(kTrainSchema);
    Document doc = parse(
        "model:\n"
        "  width: 9\n"
        "  depth: 2.5\n"
        "  act: relu\n"
        "optimizer:\n"
        "  type: adom\n"
        "  lr: -1\n"
        "  lr_rate: 3\n"
        "steps: 0\n"
        "name: \"3\"\n"
        "scale: true\n"
        "seedd: 1\n",
        "spec.yaml");
    CHECK(lines(validate(doc, schema)) ==
          std::vector<std::string>{
              "spec.yaml:1:1: missing required key 'data'",
              "spec.yaml:2:10: model.width: expected an integer >= 1 and <= 8, found 9",
              "spec.yaml:3:10: model.depth: expected an integer, found 2.5",
              "spec.yaml:6:9: optimizer.type: expected one of adam, sgd, found \"adom\" (did you mean 'adam'?)",
              "spec.yaml:7:7: optimizer.lr: expected a number > 0, found -1",
              "spec.yaml:8:3: optimizer.lr_rate: unknown key 'lr_rate' (did you mean 'lr'?); known keys: betas, lr, "
              "type, weight_decay",
              "spec.yaml:9:8: steps: expected an integer > 0, found 0",
              "spec.yaml:11:8: scale: expected a number or a string, found true",
              "spec.yaml:12:1: seedd: unknown key 'seedd' (did you mean 'seed'?); known keys: data, model, name, "
              "optimizer, scale, seed, steps",
          });
}

TEST_CASE("did you mean is left out when nothing is close", "[config]") {
    const Schema schema = Schema::from_yaml(kTrainSchema);
    Document doc = parse("model: {width: 2, act: sigmoid}\noptimizer: {type: adam}\ndata: {}\nzzz: 1\n", "s.yaml");
    CHECK(lines(validate(doc, schema)) ==
          std::vector<std::string>{
              "s.yaml:1:24: model.act: expected one of relu, gelu, tanh, found \"sigmoid\"",
              "s.yaml:4:1: zzz: unknown key 'zzz'; known keys: data, model, name, optimizer, scale, seed, steps",
          });
}

TEST_CASE("scalars are typed like YAML 1.2's core schema", "[config]") {
    const Schema schema = Schema::from_yaml(R"(
type: object
properties:
  n: {type: number}
  i: {type: integer}
  s: {type: string}
  b: {type: boolean}
  z: {type: "null"}
)");
    auto check = [&](const std::string& text) {
        Document doc = parse(text, "t.yaml");
        auto out = lines(validate(doc, schema));
        return out.empty() ? std::string() : out.front();
    };
    for (const char* ok : {"n: 3", "n: -3", "n: 1e-4", "n: .5", "n: 2.0", "n: 0x1F", "i: 42",
                           "i: -7", "i: +7", "s: abc", "s: '3'", "s: \"true\"", "s: ''", "b: true", "b: False",
                           "z: null", "z: ~", "z:"})
        CHECK(check(ok).empty());
    CHECK(check("n: \"3\"") == "t.yaml:1:4: n: expected a number, found \"3\"");
    CHECK(check("n: abc") == "t.yaml:1:4: n: expected a number, found \"abc\"");
    CHECK(check("i: 3.0") == "t.yaml:1:4: i: expected an integer, found 3.0");
    CHECK(check("i: 1e3") == "t.yaml:1:4: i: expected an integer, found 1e3");
    CHECK(check("s: 3") == "t.yaml:1:4: s: expected a string, found 3");
    CHECK(check("s: true") == "t.yaml:1:4: s: expected a string, found true");
    CHECK(check("s: null") == "t.yaml:1:4: s: expected a string, found null");
    CHECK(check("s: {a: 1}") == "t.yaml:1:4: s: expected a string, found a map");
    CHECK(check("s: [1]") == "t.yaml:1:4: s: expected a string, found a list");
    CHECK(check("b: yes") == "t.yaml:1:4: b: expected a boolean, found \"yes\"");
    CHECK(check("z: 0") == "t.yaml:1:4: z: expected null, found 0");
    // .nan and .inf are YAML numbers, but no setting can use them.
    CHECK(check("n: .nan") == "t.yaml:1:4: n: expected a finite number, found .nan");
    CHECK(check("n: -.inf") == "t.yaml:1:4: n: expected a finite number, found -.inf");
}

TEST_CASE("plain scalars are classified without a regex, as YAML 1.2's core schema's regexes would", "[config]") {
    // The schema's own regexes (https://yaml.org/spec/1.2.2/#1023-core-schema),
    // here only as the reference: in the product they overflowed the stack.
    const std::regex integer(R"([-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)");
    const std::regex floating(
        R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))");
    const std::string alphabet = "09+-.eExoaf";
    std::size_t compared = 0;
    std::vector<std::string> words{""};
    for (int length = 1; length <= 5; ++length) {
        std::vector<std::string> longer;
        for (const auto& w : words)
            for (char c : alphabet) longer.push_back(w + c);
        words = longer;
        for (const auto& w : words) {
            const auto want = std::regex_match(w, integer)    ? detail::Kind::Integer
                              : std::regex_match(w, floating) ? detail::Kind::Float
                                                              : detail::Kind::String;
            const auto got = detail::plain_kind(w);
            if (got == detail::Kind::Null || got == detail::Kind::Boolean) continue;
            INFO(w);
            REQUIRE(got == want);
            ++compared;
        }
    }
    CHECK(compared > 160000);
    for (const char* special : {".inf", "-.Inf", "+.INF", ".nan", ".NaN", ".NAN"})
        CHECK(detail::plain_kind(special) == detail::Kind::Float);
    CHECK(detail::plain_kind("-.nan") == detail::Kind::String);
    CHECK(detail::plain_kind("0x1F") == detail::Kind::Integer);
    CHECK(detail::plain_kind("0o17") == detail::Kind::Integer);
    CHECK(detail::plain_kind("0o8") == detail::Kind::String);
}

TEST_CASE("a value of 30 000 characters is classified and cut in every message", "[config]") {
    const Schema schema = Schema::from_yaml(
        "type: object\nadditionalProperties: false\nproperties:\n  i: {type: integer}\n  s: {type: string}\n");
    const std::string digits(30000, '7');
    auto first = [&](const std::string& text) {
        Document doc = parse(text, "t.yaml");
        return lines(validate(doc, schema)).at(0);
    };
    CHECK(first("i: " + digits) == "t.yaml:1:4: i: expected an integer from -9223372036854775808 to 9223372036854775807, "
                                   "found " + std::string(60, '7') + "... (30000 characters)");
    CHECK(first("s: " + digits) == "t.yaml:1:4: s: expected a string, found " + std::string(60, '7') + "... (30000 characters)");
    CHECK(first("i: " + digits + ".5") == "t.yaml:1:4: i: expected an integer, found " + std::string(60, '7') +
                                              "... (30002 characters)");
    CHECK(first("? " + digits + "\n: 1").size() < 500);  // an unknown key of 30 000 characters
}

TEST_CASE("range, length, list and pattern keywords", "[config]") {
    const Schema schema = Schema::from_yaml(R"(
type: object
properties:
  a: {type: number, minimum: 0}
  b: {type: number, maximum: 1, exclusiveMinimum: 0}
  c: {type: integer, exclusiveMaximum: 10}
  d: {type: string, minLength: 3, pattern: "^[a-z]+$"}
  e: {type: array, minItems: 2, items: {type: integer, minimum: 1}}
  f: {const: jsd}
)");
    Document doc = parse("a: -0.5\nb: 0\nc: 10\nd: Ab\ne: [0]\nf: dv\n", "r.yaml");
    CHECK(lines(validate(doc, schema)) ==
          std::vector<std::string>{
              "r.yaml:1:4: a: expected a number >= 0, found -0.5",
              "r.yaml:2:4: b: expected a number > 0 and <= 1, found 0",
              "r.yaml:3:4: c: expected an integer < 10, found 10",
              "r.yaml:4:4: d: expected a string of at least 3 characters, found \"Ab\"",
              "r.yaml:4:4: d: expected a string matching '^[a-z]+$', found \"Ab\"",
              "r.yaml:5:4: e: expected a list of at least 2 items, found 1 item",
              "r.yaml:5:5: e[0]: expected an integer >= 1, found 0",
              "r.yaml:6:4: f: expected jsd, found \"dv\"",
          });
}

TEST_CASE("oneOf and anyOf report the closest branch", "[config]") {
    const Schema schema = Schema::from_yaml(R"(
type: object
properties:
  workers:
    oneOf:
      - {type: integer, minimum: 1}
      - {const: auto}
  size:
    anyOf:
      - $ref: "#/$defs/pair"
      - {type: integer}
$defs:
  pair: {type: array, items: {type: integer}, minItems: 2, maxItems: 2}
)");
    auto run = [&](const std::string& text) {
        Document doc = parse(text, "o.yaml");
        return lines(validate(doc, schema));
    };
    CHECK(run("workers: 3\nsize: [2, 3]\n").empty());
    CHECK(run("workers: auto\nsize: 4\n").empty());
    CHECK(run("workers: 0") == std::vector<std::string>{"o.yaml:1:10: workers: expected an integer >= 1, found 0"});
    CHECK(run("workers: autoo") == std::vector<std::string>{"o.yaml:1:10: workers: expected auto, found \"autoo\""});
    CHECK(run("workers: true") ==
          std::vector<std::string>{"o.yaml:1:10: workers: expected an integer or a string, found true"});
    CHECK(run("size: [1, x]") == std::vector<std::string>{"o.yaml:1:11: size[1]: expected an integer, found \"x\""});
    CHECK(run("size: abc") == std::vector<std::string>{"o.yaml:1:7: size: expected a list or an integer, found \"abc\""});
}

TEST_CASE("defaults are filled in and shown by dump", "[config]") {
    const Schema schema = Schema::from_yaml(kTrainSchema);
    Document doc = parse("model:\n  width: 4\noptimizer:\n  type: adam\ndata: {}\nname: \"3\"\nsteps: 10\n", "d.yaml");
    CHECK(validate(doc, schema).empty());
    CHECK(doc.origin_of("optimizer.lr").to_string() == "default");
    CHECK(doc.origin_of("seed").to_string() == "default");
    CHECK(doc.origin_of("optimizer.type").to_string() == "d.yaml:4:9");
    CHECK(dump(doc) ==
          "model:\n"
          "  width: 4\n"
          "optimizer:\n"
          "  type: adam\n"
          "  lr: 0.001\n"
          "  weight_decay: 0\n"
          "data: {}\n"
          "name: \"3\"\n"
          "steps: 10\n"
          "seed: 0\n");
    // The dump reads back to the same document.
    Document again = parse(dump(doc), "again.yaml");
    CHECK(validate(again, schema).empty());
    CHECK(dump(again) == dump(doc));
    CHECK(again.root["name"].Tag() == "!");
}

TEST_CASE("extends merges maps deeply, replaces lists, and keeps origins", "[config]") {
    TempDir dir;
    dir.write("base/common.yaml",
              "optimizer:\n"
              "  type: adam\n"
              "  lr: 0.001\n"
              "  betas: [0.9, 0.999]\n"
              "model:\n"
              "  width: 4\n"
              "  layers: [1, 2, 3]\n");
    dir.write("base/small.yaml", "model:\n  width: 2\nseed: 7\n");
    const std::string run = dir.write("exp/run.yaml",
                                      "extends: [../base/common.yaml, ../base/small.yaml]\n"
                                      "optimizer:\n"
                                      "  lr: 0.01\n"
                                      "model:\n"
                                      "  layers: [5]\n"
                                      "name: run\n");
    const Document doc = load(run);
    const std::string common = (dir.path / "base/common.yaml").string();
    const std::string small = (dir.path / "base/small.yaml").string();
    CHECK(dump(doc) ==
          "optimizer:\n"
          "  type: adam\n"
          "  lr: 0.01\n"
          "  betas: [0.9, 0.999]\n"
          "model:\n"
          "  width: 2\n"
          "  layers: [5]\n"
          "seed: 7\n"
          "name: run\n");
    CHECK(doc.origin_of("optimizer.type").to_string() == common + ":2:9");
    CHECK(doc.origin_of("optimizer.betas[1]").to_string() == common + ":4:16");
    CHECK(doc.origin_of("optimizer.lr").to_string() == run + ":3:7");
    CHECK(doc.origin_of("model.width").to_string() == small + ":2:10");
    CHECK(doc.origin_of("model.layers").to_string() == run + ":5:11");
    CHECK(doc.origin_of("model.layers[0]").to_string() == run + ":5:12");
    CHECK(doc.origins.count("model.layers[1]") == 0);  // the base's longer list is gone, origins too
    CHECK(doc.origins.count("extends") == 0);
    CHECK_FALSE(doc.root["extends"].IsDefined());
}

TEST_CASE("extends errors: cycles and missing files", "[config]") {
    TempDir dir;
    const std::string a = dir.write("a.yaml", "extends: b.yaml\nx: 1\n");
    const std::string b = dir.write("b.yaml", "extends: a.yaml\ny: 2\n");
    CHECK(spec_errors([&] { load(a); }) ==
          std::vector<std::string>{b + ":1:10: extends: extends cycle: " + a + " -> " + b + " -> " + a});
    const std::string self = dir.write("self.yaml", "extends: [self.yaml]\n");
    CHECK(spec_errors([&] { load(self); }) ==
          std::vector<std::string>{self + ":1:11: extends[0]: extends cycle: " + self + " -> " + self});
    const std::string lost = dir.write("lost.yaml", "x: 1\nextends: base.yaml\n");
    CHECK(spec_errors([&] { load(lost); }) ==
          std::vector<std::string>{lost + ":2:10: extends: cannot read 'base.yaml': no such file"});
    const std::string odd = dir.write("odd.yaml", "extends: {a: 1}\n");
    CHECK(spec_errors([&] { load(odd); }) ==
          std::vector<std::string>{odd + ":1:10: extends: expected a file name or a list of file names, found a map"});
}

TEST_CASE("overrides set, add, upsert and delete, with origins", "[config]") {
    TempDir dir;
    const std::string f = dir.write("spec.yaml", "optimizer:\n  type: adam\n  lr: 0.001\nlayers: [1, 2, 3]\n");
    const Document doc = load(f, {"optimizer.lr=0.01", "+optimizer.eps=1e-8", "++optimizer.type=sgd", "++model.width=4",
                                  "~layers.0", "layers[1]=[7, 8]", "+layers.2={out: 3}"});
    CHECK(dump(doc) ==
          "optimizer:\n"
          "  type: sgd\n"
          "  lr: 0.01\n"
          "  eps: 1e-8\n"
          "layers:\n"
          "  - 2\n"
          "  - [7, 8]\n"
          "  - out: 3\n"
          "model:\n"
          "  width: 4\n");
    CHECK(doc.origin_of("optimizer.lr").to_string() == "command line argument 1 (optimizer.lr=0.01)");
    CHECK(doc.origin_of("optimizer.eps").to_string() == "command line argument 2 (+optimizer.eps=1e-8)");
    CHECK(doc.origin_of("optimizer.type").to_string() == "command line argument 3 (++optimizer.type=sgd)");
    CHECK(doc.origin_of("model").to_string() == "command line argument 4 (++model.width=4)");
    CHECK(doc.origin_of("layers[0]").to_string() == f + ":4:13");  // was layers[1] before the delete
    CHECK(doc.origin_of("layers[1][0]").to_string() == "command line argument 6 (layers[1]=[7, 8])");
    CHECK(doc.origin_of("layers[2].out").to_string() == "command line argument 7 (+layers.2={out: 3})");
    CHECK(doc.origin_of("optimizer").to_string() == f + ":2:3");
    CHECK(doc.root["optimizer"]["eps"].Tag() == "?");

    const Document quoted = load(f, {"optimizer.type='3'"});
    CHECK(quoted.root["optimizer"]["type"].Tag() == "!");
}

TEST_CASE("override errors are all collected", "[config]") {
    TempDir dir;
    const std::string f = dir.write("spec.yaml", "optimizer:\n  type: adam\n  lr: 0.001\nlayers: [1, 2]\n");
    const std::string form = "expected key.path=value, +key.path=value, ++key.path=value or ~key.path";
    CHECK(spec_errors([&] {
              load(f, {"optimizer.lr", "optimizer.momentum=0.9", "+optimizer.lr=1", "~optimizer.nope", "=3", "~a=b",
                       "model.width=4", "layers.5=1", "+optimizer.lr.x=1"});
          }) ==
          std::vector<std::string>{
              "command line argument 1 (optimizer.lr): " + form,
              "command line argument 3 (+optimizer.lr=1): optimizer.lr: key 'optimizer.lr' already exists (use "
              "optimizer.lr=... or ++optimizer.lr=... to change it)",
              "command line argument 4 (~optimizer.nope): optimizer.nope: no key 'optimizer.nope' to delete",
              "command line argument 5 (=3): " + form,
              "command line argument 6 (~a=b): " + form,
              "command line argument 8 (layers.5=1): layers[5]: no key 'layers.5' to override (use +layers.5=... to "
              "add it)",
              "command line argument 9 (+optimizer.lr.x=1): optimizer.lr: cannot set 'optimizer.lr.x': "
              "'optimizer.lr' is a number, not a map",
          });
}

TEST_CASE("a wrongly typed override is reported at its argument", "[config]") {
    TempDir dir;
    const std::string f = dir.write("spec.yaml", "model: {width: 2}\noptimizer:\n  type: adam\n  lr: 0.001\ndata: {}\n");
    Document doc = load(f, {"model.width=3", "optimizer.lr=abc"});
    CHECK(lines(validate(doc, Schema::from_yaml(kTrainSchema))) ==
          std::vector<std::string>{
              "command line argument 2 (optimizer.lr=abc): optimizer.lr: expected a number, found \"abc\""});
}

namespace {

// A fake registry: estimators jsd (one param), dv, infonce, nwj; optimizer adam.
struct FakeRegistry {
    Schema jsd = Schema::from_yaml(R"(
type: object
additionalProperties: false
properties:
  temperature: {type: number, exclusiveMinimum: 0, default: 1.0}
)");
    Schema empty = Schema::from_yaml("type: object\nadditionalProperties: false\n");
    Schema adam = Schema::from_yaml(R"(
type: object
additionalProperties: false
properties:
  lr: {type: number, default: 0.001}
  betas: {type: array, items: {type: number}}
  weight_decay: {type: number, default: 0}
)");
    PluginSchemaLookup lookup() {
        return [this](const std::string& kind, const std::string& name, std::vector<std::string>* known) -> const Schema* {
            if (kind == "estimator") {
                if (known) *known = {"nwj", "jsd", "infonce", "dv"};
                if (name == "jsd") return &jsd;
                if (name == "dv" || name == "infonce" || name == "nwj") return &empty;
            } else if (kind == "optimizer") {
                if (known) *known = {"adam"};
                if (name == "adam") return &adam;
            }
            return nullptr;
        };
    }
};

const char* kPluginSchema = R"(
type: object
additionalProperties: false
properties:
  estimator:
    x-plugin: estimator
    type: object
    required: [type]
    properties:
      type: {type: string}
      weight: {type: number, default: 1}
  optimizer:
    x-plugin: optimizer
    type: object
    properties:
      type: {type: string}
)";

}  // namespace

TEST_CASE("x-plugin parts are looked up and validated by their own schema", "[config]") {
    FakeRegistry registry;
    const Schema schema = Schema::from_yaml(kPluginSchema);
    auto run = [&](const std::string& text) {
        Document doc = parse(text, "p.yaml");
        return lines(validate(doc, schema, registry.lookup()));
    };

    SECTION("a bare name becomes a map with the part's defaults") {
        Document doc = parse("estimator: jsd\n", "p.yaml");
        CHECK(validate(doc, schema, registry.lookup()).empty());
        CHECK(dump(doc) ==
              "estimator:\n"
              "  type: jsd\n"
              "  weight: 1\n"
              "  temperature: 1.0\n");
        CHECK(doc.origin_of("estimator.type").to_string() == "p.yaml:1:12");
        CHECK(doc.origin_of("estimator.temperature").to_string() == "default");
    }
    SECTION("known parts with their params") {
        CHECK(run("estimator: {type: jsd, temperature: 0.5, weight: 2}\noptimizer: {type: adam, lr: 0.1}\n").empty());
        CHECK(run("estimator:\n  type: dv\n").empty());
    }
    SECTION("unknown part names") {
        CHECK(run("estimator:\n  type: jds\n") ==
              std::vector<std::string>{
                  "p.yaml:2:9: estimator.type: unknown estimator 'jds' (did you mean 'jsd'?); known: dv, infonce, jsd, nwj"});
        CHECK(run("estimator: jds\n") ==
              std::vector<std::string>{
                  "p.yaml:1:12: estimator.type: unknown estimator 'jds' (did you mean 'jsd'?); known: dv, infonce, jsd, nwj"});
        CHECK(run("estimator: {type: mine}\n") ==
              std::vector<std::string>{"p.yaml:1:19: estimator.type: unknown estimator 'mine'; known: dv, infonce, jsd, nwj"});
    }
    SECTION("the part's params are checked") {
        CHECK(run("estimator:\n  type: jsd\n  temprature: 2\n  temperature: -1\n") ==
              std::vector<std::string>{
                  "p.yaml:3:3: estimator.temprature: unknown key 'temprature' (did you mean 'temperature'?); known keys: "
                  "temperature",
                  "p.yaml:4:16: estimator.temperature: expected a number > 0, found -1",
              });
        CHECK(run("optimizer:\n  type: adam\n  lr_rate: 3\n") ==
              std::vector<std::string>{"p.yaml:3:3: optimizer.lr_rate: unknown key 'lr_rate' (did you mean 'lr'?); "
                                       "known keys: betas, lr, weight_decay"});
        CHECK(run("estimator: {weight: 2}\n") ==
              std::vector<std::string>{"p.yaml:1:12: estimator: missing required key 'type'"});
        CHECK(run("estimator: 3\n") == std::vector<std::string>{"p.yaml:1:12: estimator: expected a map, found 3"});
    }
    SECTION("without a registry only the outer schema applies") {
        Document doc = parse("estimator: {type: anything, extra: 1}\n", "p.yaml");
        CHECK(validate(doc, schema).empty());
    }
}

TEST_CASE("Params reads typed values and fails at their origin", "[config]") {
    const Document doc = parse(
        "model:\n"
        "  width: 4\n"
        "  lr: 1e-3\n"
        "  name: enc\n"
        "  relu: true\n"
        "  sizes: [1, 2, 3]\n"
        "  tags: [a, b]\n"
        "  bad: abc\n"
        "  badlist: [1, x]\n"
        "  layers:\n"
        "    - {out: 8}\n"
        "    - {out: 16}\n",
        "p.yaml");
    const Params root(doc, "");
    CHECK(root.keys() == std::vector<std::string>{"model"});
    const Params p = root.child("model");
    CHECK(p.path() == "model");
    CHECK(p.has("width"));
    CHECK_FALSE(p.has("depth"));
    CHECK(p.number("lr") == Approx(1e-3));
    CHECK(p.number("width") == 4.0);
    CHECK(p.integer("width") == 4);
    CHECK(p.string("name") == "enc");
    CHECK(p.boolean("relu"));
    CHECK(p.integers("sizes") == std::vector<std::int64_t>{1, 2, 3});
    CHECK(p.strings("tags") == std::vector<std::string>{"a", "b"});
    const auto layers = p.list("layers");
    REQUIRE(layers.size() == 2);
    CHECK(layers[1].path() == "model.layers[1]");
    CHECK(layers[1].integer("out") == 16);
    CHECK(p.keys() == std::vector<std::string>{"width", "lr", "name", "relu", "sizes", "tags", "bad", "badlist", "layers"});

    CHECK(spec_errors([&] { p.number("bad"); }) ==
          std::vector<std::string>{"p.yaml:8:8: model.bad: expected a number, found \"abc\""});
    CHECK(spec_errors([&] { p.number("depth"); }) ==
          std::vector<std::string>{"p.yaml:2:3: model: missing required key 'depth'"});
    CHECK(spec_errors([&] { p.integer("lr"); }) ==
          std::vector<std::string>{"p.yaml:3:7: model.lr: expected an integer, found 1e-3"});
    CHECK(spec_errors([&] { p.string("width"); }) ==
          std::vector<std::string>{"p.yaml:2:10: model.width: expected a string, found 4"});
    CHECK(spec_errors([&] { p.boolean("name"); }) ==
          std::vector<std::string>{"p.yaml:4:9: model.name: expected a boolean, found \"enc\""});
    CHECK(spec_errors([&] { p.integers("badlist"); }) ==
          std::vector<std::string>{"p.yaml:9:16: model.badlist[1]: expected an integer, found \"x\""});
    CHECK(spec_errors([&] { p.strings("sizes"); }) ==
          std::vector<std::string>{"p.yaml:6:11: model.sizes[0]: expected a string, found 1"});
    CHECK(spec_errors([&] { p.child("width"); }) ==
          std::vector<std::string>{"p.yaml:2:10: model.width: expected a map, found 4"});
    CHECK(spec_errors([&] { p.list("sizes"); }) ==
          std::vector<std::string>{"p.yaml:6:11: model.sizes[0]: expected a map, found 1"});
    CHECK(spec_errors([&] { p.fail("width", "must be even"); }) ==
          std::vector<std::string>{"p.yaml:2:10: model.width: must be even"});
    CHECK(spec_errors([&] { p.fail("", "needs a width or a depth"); }) ==
          std::vector<std::string>{"p.yaml:2:3: model: needs a width or a depth"});
}

TEST_CASE("schemas load from files and report their own syntax errors", "[config]") {
    TempDir dir;
    const std::string f = dir.write("s.yaml", "type: object\nproperties:\n  a: {type: integer\n");
    CHECK(spec_errors([&] { Schema::from_file(f); }).size() == 1);
    const std::string good = dir.write("good.yaml", "type: object\nproperties:\n  a: {type: integer}\n");
    const Schema s = Schema::from_file(good);
    Document doc = parse("a: x\n", "d.yaml");
    CHECK(lines(validate(doc, s)) == std::vector<std::string>{"d.yaml:1:4: a: expected an integer, found \"x\""});
    Document unresolved = parse("a: 1\n", "d.yaml");
    CHECK(lines(validate(unresolved, Schema::from_yaml("properties:\n  a: {$ref: '#/$defs/nope'}\n"))) ==
          std::vector<std::string>{"d.yaml:1:4: a: schema error: cannot resolve $ref '#/$defs/nope' (expected #/$defs/name)"});
}

TEST_CASE("anchors are unshared, so an override changes one place only", "[config]") {
    TempDir dir;
    const std::string f = dir.write("a.yaml", "a: &opt {lr: 1}\nb: *opt\nc: {x: 1}\n");
    const Document doc = load(f, {"a.lr=2", "~c.x"});
    CHECK(dump(doc) == "a:\n  lr: 2\nb:\n  lr: 1\nc: {}\n");
    CHECK(doc.origin_of("b.lr").to_string() == f + ":1:14");  // an alias points where its value was written
    CHECK(doc.origins.count("c.x") == 0);
}

TEST_CASE("additionalProperties may be a schema, and validating twice changes nothing", "[config]") {
    const Schema schema = Schema::from_yaml(R"(
type: object
properties:
  seed: {type: integer, default: 1}
additionalProperties: {type: number}
)");
    Document doc = parse("a: 1\nb: x\n", "a.yaml");
    CHECK(lines(validate(doc, schema)) == std::vector<std::string>{"a.yaml:2:4: b: expected a number, found \"x\""});
    const std::string once = dump(doc);
    CHECK(once == "a: 1\nb: x\nseed: 1\n");
    validate(doc, schema);
    CHECK(dump(doc) == once);
}

TEST_CASE("an override's key in dotted form, whatever its spelling", "[config][overrides]") {
    CHECK(override_key("train.steps=10") == "train.steps");
    CHECK(override_key("+encoder.layers[0].conv.out=8") == "encoder.layers.0.conv.out");
    CHECK(override_key("++a.b={x: 1}") == "a.b");
    CHECK(override_key("~eval.probes") == "eval.probes");
    CHECK(override_key("train.steps") == "");   // no value: not an override
    CHECK(override_key("~a.b=1") == "");        // a delete takes no value
    CHECK(override_key("=3") == "");
    CHECK(dotted_key("encoder.layers[2].conv") == "encoder.layers.2.conv");
    CHECK(dotted_key("a..b") == "");
}
