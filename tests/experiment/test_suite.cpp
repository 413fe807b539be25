// Suites, reports and reproduction end to end through the real CLI on small
// synthetic runs: expansion and naming, skipping finished runs, a failed run
// that does not stop the others, equal tables from equal suites, the HTML
// report rendered by headless Chromium, and reproduce's verdicts.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "config/document.hpp"
#include "infomax/report/report.hpp"
#include "experiment/load_spec.hpp"
#include "infomax/experiment/run.hpp"
#include "infomax/experiment/suite.hpp"
#include "infomax/runtime/error.hpp"
#include "infomax/runtime/threads.hpp"
#include "experiment/render.hpp"
#include "sdk/support.hpp"

using namespace infomax;
namespace fs = std::filesystem;

namespace {

std::string read(const fs::path& p) {
    std::ifstream in(p);
    return std::string((std::istreambuf_iterator<char>(in)), {});
}

const char* kSpec =
    "name: tiny\nkind: dim\nseed: 7\n"
    "data: {type: synthetic, shape: [1, 8, 8], size: 128, classes: 3, batch_size: 32}\n"
    "encoder:\n  type: layer_stack\n  layers: [{conv: {out: 4, kernel: 3}}, relu, {tap: local}, flatten, {linear: {out: 4}}]\n"
    "objectives:\n  global: {weight: 1.0, estimator: jsd, discriminator: {type: global_concat, hidden: [8]}}\n"
    "optimizer: {lr: 1.0e-3}\ntrain: {steps: 6, log_every: 2}\neval: {probes: [linear], linear_max_iter: 20}\n";

// Options to run the tiny spec, written into t with its runs under t/runs.
RunOptions tiny_run(const test::TempDir& t) {
    RunOptions o;
    o.spec = t.write("tiny.yaml", std::string(kSpec) + "output: {dir: " + (t.path / "runs").string() + "}\n");
    o.progress = false;
    return o;
}

SuiteResult suite(const std::string& file, const fs::path& out) {
    SuiteOptions o;
    o.file = file;
    o.cli = INFOMAX_CLI;
    o.out = out.string();
    SuiteResult r = run_suite(o);
    write_report(r.dir);  // what `infomax suite` does when the suite ends
    return r;
}

}  // namespace

TEST_CASE("a suite expands, runs, skips what is finished, survives a failed run, and tabulates", "[suite]") {
    test::TempDir t("suite-test");
    t.write("tiny.yaml", kSpec);
    const std::string file = t.write("s.yaml",
        "name: tiny-suite\nbase: tiny.yaml\noverrides: [train.steps=4]\n"
        "sweep:\n  - grid: {objectives.global.weight: [0.5, 1.0]}\n"
        "  - list: [{encoder.layers.4.linear.out: 4}, {data.validation: 500}]\n"
        "seeds: [1, 2]\n"
        "metrics: [probes.global.linear.test_accuracy, {path: held_out.global.value, label: held-out JSD}]\n");
    auto r = suite(file, t.path / "a");
    REQUIRE(r.runs.size() == 8);
    CHECK(r.runs[0].name == "objectives.global.weight=0.5,encoder.layers.4.linear.out=4,seed=1");
    CHECK(r.runs[0].status == "done");
    // data.validation 500 of 128 samples cannot build: those runs fail, the others finish.
    CHECK(r.failed == 4);
    CHECK(r.runs[2].status == "failed");
    CHECK_THAT(r.runs[2].error, Catch::Contains("holds out 500 of only 128 training images"));
    const std::string table = read(fs::path(r.dir) / "table.md");
    CHECK_THAT(table, Catch::Contains("| objectives.global.weight=0.5,encoder.layers.4.linear.out=4 | 2 |"));
    CHECK_THAT(table, Catch::Contains("| held-out JSD |"));
    CHECK_THAT(table, Catch::Contains("Runs without results: objectives.global.weight=0.5,data.validation=500,seed=1 (failed"));
    CHECK_THAT(table, Catch::Contains("**"));  // a best setting is marked
    auto runs = nlohmann::json::parse(read(fs::path(r.dir) / "runs.json"));
    CHECK(runs[0]["seed"] == 1);
    CHECK(fs::exists(fs::path(runs[0]["dir"].get<std::string>()) / "report.html"));

    // Again: the finished runs are skipped, the failed ones tried again, and a
    // run that lost its results (killed during evaluation) resumes from its checkpoint.
    fs::remove(fs::path(runs[0]["dir"].get<std::string>()) / "results.json");
    auto again = suite(file, t.path / "a");
    CHECK(again.runs[0].status == "resumed");
    CHECK(again.runs[0].dir == runs[0]["dir"].get<std::string>());
    CHECK(again.runs[1].status == "finished");
    CHECK(again.runs[2].status == "failed");
    CHECK(read(fs::path(again.dir) / "table.md") == table);

    // A directory of the same run that died before its first checkpoint, with
    // a newer name, is never taken for the finished one (it was: the first
    // match in directory order); a run left with only such a directory is
    // continued in it from the start, and the table does not change.
    const fs::path finished = runs[1]["dir"].get<std::string>();
    const fs::path stale = finished.parent_path() / ("29991231-235959-" + finished.filename().string().substr(16));
    fs::create_directory(stale);
    fs::copy_file(finished / "resolved.yaml", stale / "resolved.yaml");
    const fs::path died = runs[0]["dir"].get<std::string>();
    fs::remove_all(died / "checkpoints");
    fs::remove(died / "results.json");
    auto third = suite(file, t.path / "a");
    CHECK(third.runs[1].status == "finished");
    CHECK(third.runs[1].dir == finished.string());
    CHECK(third.runs[0].status == "resumed");
    CHECK(third.runs[0].dir == died.string());
    CHECK(read(fs::path(third.dir) / "table.md") == table);

    // The same suite elsewhere, from scratch: the same table, bit for bit.
    auto other = suite(file, t.path / "b");
    CHECK(read(fs::path(other.dir) / "table.md") == table);
    CHECK(read(fs::path(other.dir) / "table.csv") == read(fs::path(r.dir) / "table.csv"));

    // Bars and curves name settings by the keys that differ, shortened.
    const std::string bars = read(fs::path(r.dir) / "figures" / "bars-probes.global.linear.test_accuracy.svg");
    CHECK_THAT(bars, Catch::Contains(">weight=0.5 out=4<") && Catch::Contains(">weight=1.0 validation=500<") &&
                         !Catch::Contains("objectives."));
    // The report renders: headless Chromium draws it to a PNG with content.
    CHECK(test::rendered_ink(fs::path(r.dir) / "report.html", t.path) > 0.03);
    // Its figures are standalone SVG files, each well-formed XML.
    CHECK(test::svg_files_well_formed(fs::path(r.dir) / "figures") >= 3);  // two bar charts, a curve at least
}

TEST_CASE("a suite whose runs do not load runs nothing and names each problem", "[suite][errors]") {
    test::TempDir t("suite-test");
    t.write("tiny.yaml", kSpec);
    const std::string file = t.write("s.yaml", "name: bad\nbase: tiny.yaml\nsweep: [{grid: {optimizer.lr_rate: [0.1]}}]\n");
    CHECK_THROWS_WITH(suite(file, t.path / "out"),
                      Catch::Contains("1 of 1 runs do not load; nothing was run") &&
                          Catch::Contains("run 'optimizer.lr_rate=0.1'") && Catch::Contains("unknown key 'lr_rate' (did you mean 'lr'?)"));
    CHECK_FALSE(fs::exists(t.path / "out" / "bad" / "runs.json"));
    const std::string zip = t.write("z.yaml", "name: z\nbase: tiny.yaml\nsweep: [{zip: {seed: [1, 2], train.steps: [3]}}]\n");
    CHECK_THROWS_WITH(suite(zip, t.path / "out"),
                      Catch::Contains("z.yaml:3:") && Catch::Contains("zip lists must have one length: train.steps has 1 values, the first had 2"));
}

TEST_CASE("a suite that would count a run twice, or names what is not there, is refused at its line", "[suite][errors]") {
    test::TempDir t("suite-test");
    t.write("tiny.yaml", kSpec);
    auto refused = [&](const std::string& body) {
        const std::string file = t.write("d.yaml", "name: d\nbase: tiny.yaml\n" + body);
        try {
            suite(file, t.path / "out");
        } catch (const std::exception& e) {
            CHECK_FALSE(fs::exists(t.path / "out"));
            const std::string what = e.what();
            return what.substr(what.find("d.yaml:"));
        }
        return std::string("accepted");
    };
    CHECK(refused("seeds: [1, 2, 2]\n") == "d.yaml:3:15: seeds[2]: 2 is listed twice (as item 1 too): remove one");
    CHECK(refused("sweep: [{grid: {train.steps: [3, 4, 3.0]}}]\n") ==
          "d.yaml:3:37: sweep[0].grid.train.steps[2]: 3.0 is listed twice (as item 0 too): remove one");
    CHECK(refused("sweep: [{list: [{train.steps: 3}, {train.steps: 3}]}]\n") ==
          "d.yaml:3:35: sweep[0].list[1]: a map is listed twice (as item 0 too): remove one");
    CHECK(refused("sweep: [{zip: {train.steps: [3, 3], seed: [1, 1]}}]\n") ==
          "d.yaml:3:8: sweep: runs 1 and 2 are one run (train.steps=3,seed=1): make each setting differ");
    CHECK(refused("sweep: [{grid: {}}]\n") == "d.yaml:3:16: sweep[0].grid: expected a map with at least one key, found an empty map");
    CHECK(refused("sweep: [{grid: {train.steps: [3, 4]}}]\nheatmap: {x: train.steps, y: seed, metric: a}\n") ==
          "d.yaml:4:30: heatmap.y: 'seed' is not swept by this suite, so it has one value; an axis is one of: train.steps");
    CHECK(refused("threads_per_run: 2048\n") == "d.yaml:3:18: threads_per_run: expected an integer >= 1 and <= 1024, found 2048");
    CHECK(refused("seeds: [1" + std::string(30000, '0') + "]\n").starts_with(
        "d.yaml:3:9: seeds[0]: expected an integer from -9223372036854775808 to 9223372036854775807, found 1000"));
    CHECK(refused("sweep: [{list: [{spec: tiny.yaml}, {spec: gone.yaml}]}]\n") ==
          "d.yaml:3:37: sweep[0].list[1].spec: no spec file " + (t.path / "gone.yaml").string() +
              " (a path relative to the suite file's folder, " + t.path.string() + ")");
    const std::string no_base = t.write("n.yaml", "name: n\nseeds: [1]\nbase: missing.yaml\n");
    CHECK_THROWS_WITH(suite(no_base, t.path / "out"),
                      (t.path / "n.yaml").string() + ":3:1: base: no spec file " + (t.path / "missing.yaml").string() +
                          " (a path relative to the suite file's folder, " + t.path.string() + ")");
}

TEST_CASE("a thread count that changed during a run is recorded, and reproduce replays it", "[reproduce]") {
    test::TempDir t("suite-test");
    RunOptions o = tiny_run(t);
    o.thread_schedule = {{0, 1}, {3, 2}};  // as a run that followed the machine's load would have recorded it
    const auto run = run_experiment(o);
    CHECK(read(fs::path(run.dir) / "threads.csv") == "step,threads\n0,1\n3,2\n");
    auto r = reproduce_run({run.dir, {}});
    CHECK(r.match);
    CHECK(read(fs::path(r.new_dir) / "threads.csv") == "step,threads\n0,1\n3,2\n");

    std::ofstream(fs::path(run.dir) / "threads.csv") << "step,threads\n0,1\n3,0\n";
    CHECK_THROWS_WITH(reproduce_run({run.dir, {}}),
                      (fs::path(run.dir) / "threads.csv").string() +
                          ":3: expected 'step,threads' with steps in order and threads >= 1, got '3,0'");
}

TEST_CASE("with nothing fixing the thread count, a small model's run drops to the threads its step can feed", "[reproduce]") {
    // ctest fixes INFOMAX_THREADS=1 for every test; this one needs the default.
    const std::string saved = std::getenv("INFOMAX_THREADS") ? std::getenv("INFOMAX_THREADS") : "";
    unsetenv("INFOMAX_THREADS");
    test::TempDir t("suite-test");
    RunOptions o = tiny_run(t);
    const auto run = run_experiment(o);
    const int cores = default_threads();
    const std::string csv = read(fs::path(run.dir) / "threads.csv");
    auto r = reproduce_run({run.dir, {}});
    if (!saved.empty()) setenv("INFOMAX_THREADS", saved.c_str(), 1);
    // The tiny model's step is far below 15 MFLOP: one thread from step 1 on.
    CHECK(csv == (cores > 1 ? fmt::format("step,threads\n0,{}\n1,1\n", cores) : "step,threads\n0,1\n"));
    CHECK(r.match);
}

TEST_CASE("reproduce proves a match, and names the first difference when there is one", "[reproduce]") {
    test::TempDir t("suite-test");
    RunOptions o = tiny_run(t);
    const auto run = run_experiment(o);
    auto r = reproduce_run({run.dir, {}});
    CHECK(r.match);
    CHECK(r.first_difference.empty());
    CHECK(r.warnings.empty());
    CHECK(fs::path(r.new_dir).parent_path().parent_path() == fs::path(run.dir) / "reproductions");
    // A metric changed by hand is found.
    std::string csv = read(fs::path(run.dir) / "metrics.csv");
    const auto row = csv.find("\n4,");
    REQUIRE(row != std::string::npos);
    const auto epoch_end = csv.find(',', row + 3);  // "\n4," then the epoch, then global.jsd
    csv.insert(epoch_end + 1, "9");
    std::ofstream(fs::path(run.dir) / "metrics.csv") << csv;
    auto bad = reproduce_run({run.dir, {}});
    CHECK_FALSE(bad.match);
    CHECK_THAT(bad.first_difference, Catch::StartsWith("metrics.csv step 4, global.jsd: 9"));
}

TEST_CASE("reproduce refuses an edited resolved.yaml as eval does, and matches a resumed run", "[reproduce]") {
    test::TempDir t("suite-test");
    RunOptions o = tiny_run(t);
    o.after_step = [](std::int64_t s) {
        if (s == 3) request_stop();
    };
    const auto cut = run_experiment(o);
    REQUIRE(cut.interrupted);
    RunOptions again;
    again.resume = cut.dir;
    again.progress = false;
    run_experiment(again);
    CHECK(read(fs::path(cut.dir) / "results.json").find("\"resumed_from_step\": 3") != std::string::npos);
    const auto r = reproduce_run({cut.dir, {}});  // scheduling (resumed at step 3) is not a difference
    CHECK(r.match);
    CHECK(r.first_difference.empty());
    fs::remove_all(fs::path(cut.dir) / "reproductions");
    // --out: elsewhere; a place that cannot take it is said before the run, with the fix.
    ReproduceOptions elsewhere{cut.dir, {}, 0, (t.path / "elsewhere").string()};
    CHECK(reproduce_run(elsewhere).new_dir.starts_with((t.path / "elsewhere").string()));
    std::ofstream(t.path / "a-file") << "not a folder";
    ReproduceOptions blocked{cut.dir, {}, 0, (t.path / "a-file" / "sub").string()};
    CHECK_THROWS_WITH(reproduce_run(blocked), (t.path / "a-file" / "sub").string() +
                                                  ": cannot write the reproduction there (Not a directory): give another "
                                                  "place with --out DIR");
    CHECK_FALSE(fs::exists(fs::path(cut.dir) / "reproductions"));
    const fs::path resolved = fs::path(cut.dir) / "resolved.yaml";
    std::string text = read(resolved);
    text.replace(text.find("lr: 1.0e-3"), 10, "lr: 2.0e-3");
    std::ofstream(resolved, std::ios::binary) << text;
    CHECK_THROWS_WITH(reproduce_run({cut.dir, {}}),
                      Catch::StartsWith(resolved.string() + ": resolved.yaml was changed after the run started"));
    CHECK_FALSE(fs::exists(fs::path(cut.dir) / "reproductions"));
}
