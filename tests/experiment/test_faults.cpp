// Faults a run must survive without losing or silently changing anything:
// failed writes (a full disk is /dev/full here), torn rows, a second process on
// the same run, an edited resolved.yaml, a run that died before its first
// checkpoint, a run trained longer with --extend.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "infomax/data/files.hpp"
#include "infomax/experiment/run.hpp"
#include "infomax/runtime/error.hpp"
#include "sdk/support.hpp"

using namespace infomax;
namespace fs = std::filesystem;

namespace {

std::string spec(const fs::path& out, int steps = 20) { return test::tiny_dim_spec(out, steps); }

RunResult run(const std::string& file, std::function<void(std::int64_t)> after = {}, std::string resume = "",
              std::vector<std::string> extend = {}) {
    RunOptions o;
    o.spec = resume.empty() ? file : "";
    o.resume = resume;
    o.extend = std::move(extend);
    o.progress = false;
    o.after_step = std::move(after);
    return run_experiment(o);
}

std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// metrics.csv without its timing column (images_per_s, the last).
std::vector<std::string> metric_rows(const std::string& dir) {
    std::ifstream in(fs::path(dir) / "metrics.csv");
    std::vector<std::string> rows;
    for (std::string line; std::getline(in, line);) rows.push_back(line.substr(0, line.rfind(',')));
    return rows;
}

// Every tensor of a checkpoint, as bytes.
std::map<std::string, std::string> tensors(const std::string& dir, int step) {
    auto f = data::read_safetensors((fs::path(dir) / "checkpoints" / fmt::format("step-{:08d}.safetensors", step)).string());
    std::map<std::string, std::string> out;
    for (auto& [k, t] : f.tensors) {
        const auto v = t.to_vector();
        out[k].assign(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
    }
    return out;
}

// The one run directory under `root` other than `except`.
std::string other_dir(const fs::path& root, const std::string& except) {
    for (auto& e : fs::directory_iterator(root))
        if (e.path() != fs::path(except)) return e.path().string();
    return "";
}

}  // namespace

TEST_CASE("a full disk stops the run naming the file, a torn row is cut on resume, which ends as an uninterrupted run",
          "[run][faults]") {
    test::TempDir t("faults");
    const std::string file = t.write("tiny.yaml", spec(t.path / "runs"));
    const auto whole = run(file);
    for (const std::string victim : {"metrics.csv", "metrics.jsonl", "log.txt"}) {
        INFO(victim);
        std::string dir, saved;
        // After step 7 the file's disk is full: the row (and log line) at step 8 cannot be written.
        auto fill_disk = [&](std::int64_t s) {
            if (s != 7) return;
            dir = other_dir(t.path / "runs" / "tiny", whole.dir);
            saved = read(fs::path(dir) / victim);
            fs::remove(fs::path(dir) / victim);
            fs::create_symlink("/dev/full", fs::path(dir) / victim);
        };
        CHECK_THROWS_WITH(run(file, fill_disk),
                          Catch::Matchers::Contains((fs::path(dir) / victim).string() +
                                                    ": cannot write: No space left on device; last good checkpoint: " +
                                                    (fs::path(dir) / "checkpoints/step-00000005.safetensors").string()));
        // The space comes back, and the file ends in the row the process died writing.
        fs::remove(fs::path(dir) / victim);
        const std::string torn = victim == "metrics.csv" ? "8,0.25,1.5" : victim == "metrics.jsonl" ? "{\"step\":8,\"ep" : "";
        std::ofstream(fs::path(dir) / victim, std::ios::binary) << saved << torn;
        const auto resumed = run("", {}, dir);
        CHECK(resumed.steps == 20);
        CHECK(metric_rows(dir) == metric_rows(whole.dir));
        CHECK(tensors(dir, 20) == tensors(whole.dir, 20));
        const std::string log = read(fs::path(dir) / "log.txt");
        if (!torn.empty())
            CHECK(log.find("notice: " + (fs::path(dir) / victim).string() +
                           (victim == "metrics.csv" ? ":3" : ":2") + ": the last row was cut short (the process died writing it): removed") != std::string::npos);
        else
            CHECK(log.find("error: ") == std::string::npos);  // log.txt could not take it
        fs::remove_all(dir);
    }
}

TEST_CASE("a damaged row before the last is an error naming the file and line, never a parse error", "[run][faults]") {
    test::TempDir t("faults");
    const std::string file = t.write("tiny.yaml", spec(t.path / "runs"));
    CHECK_THROWS(run(file, [](std::int64_t s) {
        if (s == 13) throw Error("simulated failure");
    }));
    const std::string dir = other_dir(t.path / "runs" / "tiny", "");
    std::string csv = read(fs::path(dir) / "metrics.csv");
    csv.replace(csv.find("\n8,"), 3, "\nx,");
    std::ofstream(fs::path(dir) / "metrics.csv", std::ios::binary) << csv;
    CHECK_THROWS_WITH(run("", {}, dir), Catch::Matchers::StartsWith((fs::path(dir) / "metrics.csv").string() +
                                                                    ":3: a damaged row ('x,") &&
                                            Catch::Matchers::EndsWith("') before the last one: the file was edited or "
                                                                      "corrupted; remove the row, or start the run again"));
}

TEST_CASE("a second process on a run is refused with the holder's process and host", "[run][faults]") {
    test::TempDir t("faults");
    const std::string file = t.write("tiny.yaml", spec(t.path / "runs"));
    std::string refused;
    const auto r = run(file, [&](std::int64_t s) {
        if (s != 6) return;
        const std::string dir = other_dir(t.path / "runs" / "tiny", "");
        try {
            run("", {}, dir);
        } catch (const Error& e) {
            refused = e.what();
        }
    });
    char host[256] = {0};
    gethostname(host, sizeof host - 1);
    CHECK_THAT(refused, Catch::Matchers::StartsWith(r.dir + ": the run is in use by process " + std::to_string(getpid()) +
                                                    " on " + host + " since "));
    CHECK(r.steps == 20);
    // The claim goes with the run: now the directory is free (and finished).
    CHECK_THROWS_WITH(run("", {}, r.dir), Catch::Matchers::StartsWith(r.dir + ": this run is complete (20 of 20 steps)"));
    // Four rows, each once: the refused resume wrote nothing.
    CHECK(metric_rows(r.dir).size() == 6);
}

TEST_CASE("a run that died before its first checkpoint is continued from the start in its directory", "[run][faults]") {
    test::TempDir t("faults");
    const std::string file = t.write("tiny.yaml", spec(t.path / "runs"));
    const auto whole = run(file);
    CHECK_THROWS_WITH(run(file, [](std::int64_t s) {
                          if (s == 5) throw Error("simulated failure");  // before step 5's checkpoint
                      }),
                      "simulated failure; last good checkpoint: none");
    const std::string dir = other_dir(t.path / "runs" / "tiny", whole.dir);
    REQUIRE(metric_rows(dir).size() == 2);  // the header and step 4's row
    std::ofstream(fs::path(dir) / "leftover.json.tmp-999999") << "half a file";  // an interrupted write's remains
    fs::create_directories(fs::path(dir) / "features");  // and an export killed midway
    std::ofstream(fs::path(dir) / "features" / "train-global.npy.tmp-999999") << "half an export";
    const auto resumed = run("", {}, dir);
    CHECK(resumed.steps == 20);
    CHECK(metric_rows(dir) == metric_rows(whole.dir));
    CHECK(tensors(dir, 20) == tensors(whole.dir, 20));
    CHECK_FALSE(fs::exists(fs::path(dir) / "leftover.json.tmp-999999"));
    CHECK_FALSE(fs::exists(fs::path(dir) / "features" / "train-global.npy.tmp-999999"));
    CHECK(read(fs::path(dir) / "log.txt").find("notice: the run stopped before its first checkpoint: training again from "
                                               "step 0 in this directory") != std::string::npos);
}

TEST_CASE("an edited resolved.yaml is refused, --extend trains longer and records the change", "[run][faults]") {
    test::TempDir t("faults");
    const auto direct = run(t.write("long.yaml", spec(t.path / "direct", 28)));
    const std::string file = t.write("tiny.yaml", spec(t.path / "runs"));
    const auto r = run(file);
    const fs::path resolved = fs::path(r.dir) / "resolved.yaml";
    const std::string original = read(resolved);
    std::string edited = original;
    edited.replace(edited.find("lr: 1.0e-3"), 10, "lr: 2.0e-3");
    std::ofstream(resolved, std::ios::binary) << edited;
    CHECK_THROWS_WITH(run("", {}, r.dir), Catch::Matchers::StartsWith(
                                              resolved.string() + ": resolved.yaml was changed after the run started"));
    CHECK_THROWS_WITH(run("", {}, r.dir, {"train.steps=28"}), Catch::Matchers::Contains("was changed after the run started"));
    std::ofstream(resolved, std::ios::binary) << original;
    // Only the length of training may change.
    CHECK_THROWS_WITH(run("", {}, r.dir, {"optimizer.lr=0.01"}),
                      Catch::Matchers::Contains("--extend changes only how long a run trains"));
    CHECK_THROWS_WITH(run("", {}, r.dir, {"train.steps=12"}),
                      r.dir + ": the run has trained 20 steps: --extend must give at least that many (it gives 12)");
    const std::string first_results = read(fs::path(r.dir) / "results.json");
    const auto longer = run("", {}, r.dir, {"train.steps=28"});
    CHECK(longer.steps == 28);
    CHECK(read(fs::path(r.dir) / "results-step-20.json") == first_results);  // kept, not overwritten
    CHECK(fs::exists(fs::path(r.dir) / "results.json"));
    const auto m = nlohmann::json::parse(read(fs::path(r.dir) / "manifest.json"));
    REQUIRE(m["extended"].size() == 1);
    CHECK(m["extended"][0]["at_step"] == 20);
    CHECK(m["extended"][0]["overrides"] == nlohmann::json::array({"train.steps=28"}));
    CHECK(m["resolved_hash"] == resolved_hash(read(resolved)));
    // The same as a run asked for 28 steps from the start.
    CHECK(tensors(r.dir, 28) == tensors(direct.dir, 28));
    CHECK(metric_rows(r.dir) == metric_rows(direct.dir));
    // And it still resumes: the new resolved.yaml is the run's now.
    CHECK_THROWS_WITH(run("", {}, r.dir), Catch::Matchers::StartsWith(r.dir + ": this run is complete (28 of 28 steps)"));
}

TEST_CASE("an --extend cut between its manifest and its resolved.yaml is finished by the same command", "[run][faults]") {
    test::TempDir t("faults");
    const auto direct = run(t.write("long.yaml", spec(t.path / "direct", 28)));
    // B shows what a whole --extend writes; A is left as a kill after the
    // manifest and before resolved.yaml would leave it.
    const auto b = run(t.write("b.yaml", spec(t.path / "b")));
    run("", {}, b.dir, {"train.steps=28"});
    const auto a = run(t.write("a.yaml", spec(t.path / "a")));
    const fs::path dir(a.dir);
    fs::rename(dir / "results.json", dir / "results-step-20.json");
    auto m = nlohmann::json::parse(read(dir / "manifest.json"));
    const std::string before = m["resolved_hash"];
    m["extended"] = nlohmann::json::array(
        {{{"at_step", 20}, {"time", "2026-12-08T00:00:00+0000"}, {"overrides", {"train.steps=28"}}, {"resolved_hash_before", before}}});
    m["resolved_hash"] = resolved_hash(read(fs::path(b.dir) / "resolved.yaml"));
    std::ofstream(dir / "manifest.json") << m.dump(2);
    // Not an edit: said as a cut --extend, with the command that finishes it.
    CHECK_THROWS_WITH(run("", {}, a.dir), a.dir + ": an --extend was cut before it rewrote resolved.yaml: run the same "
                                                   "infomax run --resume " + a.dir + " --extend ... again to finish it");
    const auto longer = run("", {}, a.dir, {"train.steps=28"});
    CHECK(longer.steps == 28);
    const auto after = nlohmann::json::parse(read(dir / "manifest.json"));
    REQUIRE(after["extended"].size() == 1);  // the cut one replaced, not doubled
    CHECK(after["extended"][0]["resolved_hash_before"] == before);
    CHECK(after["resolved_hash"] == resolved_hash(read(dir / "resolved.yaml")));
    CHECK(tensors(a.dir, 28) == tensors(direct.dir, 28));
    CHECK(metric_rows(a.dir) == metric_rows(direct.dir));
}

TEST_CASE("a NaN that appears in training stops the run before it is saved", "[run][faults]") {
    test::TempDir t("faults");
    std::string s = spec(t.path / "runs");
    s.replace(s.find("lr: 1.0e-3"), 10, "lr: 1.0e+39");  // inf as a float: the first update makes parameters inf
    CHECK_THROWS_WITH(run(t.write("nan.yaml", s)),
                      Catch::Matchers::Matches("step 1: parameter '.*' holds NaN or infinite values: training diverged "
                                               "\\(lower optim.lr, or check the data\\); nothing of this step was saved; "
                                               "last good checkpoint: none"));
}
