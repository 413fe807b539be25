// infomax run end to end on small synthetic data: run directories, resume
// that is bitwise equal to an uninterrupted run (Ctrl-C and a crash between
// checkpoints), metrics, non-finite values, nothing made for a bad spec.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <thread>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "experiment/interrupts.hpp"
#include "run_dir/run_dir.hpp"
#include "config/document.hpp"
#include "infomax/data/files.hpp"
#include <cmath>
#include <fstream>
#include <iterator>
#include <set>

#include "infomax/experiment/run.hpp"
#include "infomax/runtime/error.hpp"
#include "sdk/support.hpp"

using namespace infomax;
namespace fs = std::filesystem;

namespace {

std::string spec(const fs::path& out) { return test::tiny_dim_spec(out); }

// What a terminal's Ctrl-C does: SIGINT to the process (not to this thread,
// which blocks it while training), then wait until the run's watcher thread has
// taken it, so the run stops after this very step.
void ctrl_c() {
    kill(getpid(), SIGINT);
    for (int i = 0; i < 5000 && !stop_requested(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    REQUIRE(stop_requested());
}

RunResult run(const std::string& file, std::function<void(std::int64_t)> after = {}, std::string resume = "") {
    RunOptions o;
    o.spec = resume.empty() ? file : "";
    o.resume = resume;
    o.progress = false;
    o.after_step = std::move(after);
    return run_experiment(o);
}

// Every tensor of the final checkpoint (parameters, buffers, Adam moments).
std::map<std::string, std::vector<float>> final_state(const std::string& dir) {
    std::map<std::string, std::vector<float>> out;
    auto f = data::read_safetensors((fs::path(dir) / "checkpoints" / "step-00000020.safetensors").string());
    for (auto& [k, t] : f.tensors) out[k] = t.to_vector();
    out["__meta__"] = {static_cast<float>(f.metadata.size())};
    return out;
}

// metrics.csv without its timing column (images_per_s, the last).
std::vector<std::string> metric_rows(const std::string& dir) {
    std::ifstream in(fs::path(dir) / "metrics.csv");
    std::vector<std::string> rows;
    for (std::string line; std::getline(in, line);) rows.push_back(line.substr(0, line.rfind(',')));
    return rows;
}

bool same_bits(const std::map<std::string, std::vector<float>>& a, const std::map<std::string, std::vector<float>>& b) {
    if (a.size() != b.size()) return false;
    for (const auto& [k, v] : a) {
        auto it = b.find(k);
        if (it == b.end() || it->second.size() != v.size() ||
            std::memcmp(v.data(), it->second.data(), v.size() * sizeof(float)) != 0) {
            UNSCOPED_INFO("differs: " << k);
            return false;
        }
    }
    return true;
}

}  // namespace

TEST_CASE("a run writes its directory and results", "[run]") {
    test::TempDir t("run-test");
    auto r = run(t.write("tiny.yaml", spec(t.path / "runs")));
    CHECK_FALSE(r.interrupted);
    CHECK(r.steps == 20);
    for (const char* f : {"resolved.yaml", "manifest.json", "metrics.csv", "metrics.jsonl", "encoder.safetensors",
                          "results.json", "log.txt", "checkpoints/step-00000020.safetensors"})
        CHECK(fs::exists(fs::path(r.dir) / f));
    CHECK_FALSE(fs::exists(fs::path(r.dir) / "checkpoints/step-00000005.safetensors"));  // the last two are kept
    auto results = nlohmann::json::parse(std::ifstream(fs::path(r.dir) / "results.json"));
    CHECK(results["train"]["steps"] == 20);
    CHECK(results["probes"]["global"]["linear"]["dim"] == 6);
    CHECK(results["probes"]["local"]["linear"]["dim"] == 8 * 10 * 10);
    CHECK(results["held_out"]["local"]["quantity"] == "mi_dv");
    auto manifest = nlohmann::json::parse(std::ifstream(fs::path(r.dir) / "manifest.json"));
    CHECK(manifest["seed"] == 7);
    CHECK(manifest["plugins"].size() > 10);
    std::ifstream csv(fs::path(r.dir) / "metrics.csv");
    std::string header;
    std::getline(csv, header);
    CHECK(header == "step,epoch,global.jsd,global.mi_smile,global.mi_nwj,local.mi_dv,prior.g_loss,prior.d_loss,loss,images_per_s");
    // metrics.jsonl: the step is an integer (a JSON reader gets 4, not 4.0), the epoch a fraction.
    std::ifstream jsonl(fs::path(r.dir) / "metrics.jsonl");
    std::int64_t rows = 0;
    for (std::string line; std::getline(jsonl, line); ++rows) {
        const auto row = nlohmann::json::parse(line);
        CHECK(row["step"].is_number_integer());
        CHECK(row["step"].get<std::int64_t>() == 4 * (rows + 1));
        CHECK(row["epoch"].is_number_float());
    }
    CHECK(rows == 5);
    // A second run never reuses the directory.
    auto r2 = run((t.path / "tiny.yaml").string());
    CHECK(r2.dir != r.dir);
    CHECK(same_bits(final_state(r.dir), final_state(r2.dir)));  // and is the same run, bit for bit
}

TEST_CASE("Ctrl-C checkpoints and stops, and resuming ends bitwise where an uninterrupted run does", "[run][resume]") {
    test::TempDir t("run-test");
    const std::string file = t.write("tiny.yaml", spec(t.path / "runs"));
    auto whole = run(file);
    auto cut = run(file, [](std::int64_t s) {
        if (s == 7) ctrl_c();
    });
    CHECK(cut.interrupted);
    CHECK(cut.steps == 7);
    CHECK(fs::exists(fs::path(cut.dir) / "checkpoints/step-00000007.safetensors"));
    CHECK_FALSE(fs::exists(fs::path(cut.dir) / "results.json"));
    auto resumed = run("", {}, cut.dir);
    CHECK(resumed.dir == cut.dir);
    CHECK(resumed.steps == 20);
    CHECK(same_bits(final_state(whole.dir), final_state(cut.dir)));
    // Stopped at step 7 in the window of steps 5-8: the resumed run completes
    // it, so every row (but the timing) is the uninterrupted run's.
    CHECK(metric_rows(cut.dir) == metric_rows(whole.dir));
    CHECK_THROWS_WITH(run("", {}, cut.dir), cut.dir + ": this run is complete (20 of 20 steps); evaluate it again with: "
                                                      "infomax eval " + cut.dir + " (or train it longer: infomax run "
                                                      "--resume " + cut.dir + " --extend train.steps=N)");
    // Trained to the end but no results (killed during evaluation): resuming evaluates.
    fs::remove(fs::path(cut.dir) / "results.json");
    auto finished = run("", {}, cut.dir);
    CHECK(finished.steps == 20);
    CHECK(fs::exists(fs::path(cut.dir) / "results.json"));
}

// With no thread count set, the run follows its size and the load and writes
// threads.csv; resumed, it continues with the count it had at the checkpoint
// (the first resumed step used the session's default before, and the bits differed).
TEST_CASE("resuming a run whose thread count nothing fixed ends bitwise too", "[run][resume]") {
    const char* env = std::getenv("INFOMAX_THREADS");
    const std::string saved = env ? env : "";
    unsetenv("INFOMAX_THREADS");
    test::TempDir t("run-test");
    const std::string file = t.write("tiny.yaml", spec(t.path / "runs"));
    auto whole = run(file);
    auto cut = run(file, [](std::int64_t s) {
        if (s == 7) ctrl_c();
    });
    auto resumed = run("", {}, cut.dir);
    if (!saved.empty()) setenv("INFOMAX_THREADS", saved.c_str(), 1);
    CHECK(resumed.steps == 20);
    CHECK(same_bits(final_state(whole.dir), final_state(cut.dir)));
}

TEST_CASE("a crash loses only the steps since the last checkpoint", "[run][resume]") {
    test::TempDir t("run-test");
    const std::string file = t.write("tiny.yaml", spec(t.path / "runs"));
    auto whole = run(file);
    std::string crashed_dir;
    CHECK_THROWS_WITH(run(file, [](std::int64_t s) {
                          if (s == 13) throw std::runtime_error("simulated crash");
                      }),
                      // Not an infomax Error: still internal (exit 2), but it names where to continue from.
                      Catch::Matchers::StartsWith("simulated crash; last good checkpoint: ") &&
                          Catch::Matchers::EndsWith("checkpoints/step-00000010.safetensors"));
    for (auto& e : fs::directory_iterator(t.path / "runs" / "tiny"))
        if (e.path() != fs::path(whole.dir)) crashed_dir = e.path().string();
    REQUIRE(fs::exists(fs::path(crashed_dir) / "checkpoints/step-00000010.safetensors"));
    auto resumed = run("", {}, crashed_dir);
    CHECK(resumed.steps == 20);
    CHECK(same_bits(final_state(whole.dir), final_state(crashed_dir)));
    // metrics.csv has each logged step once: rows past the checkpoint were redone, not duplicated.
    std::ifstream csv(fs::path(crashed_dir) / "metrics.csv");
    std::string line;
    std::vector<std::string> steps;
    std::getline(csv, line);
    while (std::getline(csv, line)) steps.push_back(line.substr(0, line.find(',')));
    CHECK(steps == std::vector<std::string>{"4", "8", "12", "16", "20"});
    CHECK(metric_rows(crashed_dir) == metric_rows(whole.dir));  // the window 9-12 cut at 10 completed
}

// Checkpoints verify themselves on load: a damaged newest one is passed over
// (with a notice) for the previous intact one, and none intact is an error
// naming each and its fault.
TEST_CASE("a damaged checkpoint is passed over for the previous intact one", "[run][resume][faults]") {
    test::TempDir t("run-test");
    const std::string file = t.write("tiny.yaml", spec(t.path / "runs"));
    auto whole = run(file);
    auto stop_at_12 = [](std::int64_t s) {
        if (s == 12) ctrl_c();
    };
    const auto log_has = [](const std::string& dir, const std::string& text) {
        std::ifstream in(fs::path(dir) / "log.txt");
        std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        return all.find(text) != std::string::npos;
    };
    // Rewrites a checkpoint changed by `edit`, with the checksum of what it now holds.
    const auto rewrite = [](const fs::path& ck, const std::function<void(data::TensorFile&)>& edit) {
        auto f = data::read_safetensors(ck.string());
        edit(f);
        f.metadata["checksum"] = detail::tensor_checksum(f);
        data::write_safetensors(ck.string(), f);
    };
    struct Damage {
        std::string what, fault;
        std::function<void(const fs::path&)> apply;
    };
    const std::vector<Damage> damages{
        {"a flipped byte", "its tensors do not match its checksum",
         [](const fs::path& ck) {
             std::fstream f(ck, std::ios::in | std::ios::out | std::ios::binary);
             f.seekp(-5, std::ios::end);
             char c = 0;
             f.read(&c, 1);
             f.seekp(-5, std::ios::end);
             c = static_cast<char>(c ^ 0x40);
             f.write(&c, 1);
         }},
        {"a NaN", "tensor '",
         [&](const fs::path& ck) { rewrite(ck, [](data::TensorFile& f) { f.tensors.begin()->second.data()[0] = NAN; }); }},
        {"a step that is not a number", "step is '12x', not a whole number",
         [&](const fs::path& ck) { rewrite(ck, [](data::TensorFile& f) { f.metadata["step"] = "12x"; }); }},
        {"no checksum", "it records no checksum",
         [](const fs::path& ck) {
             auto f = data::read_safetensors(ck.string());
             f.metadata.erase("checksum");
             data::write_safetensors(ck.string(), f);
         }},
        {"a truncated file", "",
         [](const fs::path& ck) { fs::resize_file(ck, fs::file_size(ck) / 2); }},
    };
    for (const auto& d : damages) {
        INFO(d.what);
        auto cut = run(file, stop_at_12);
        const fs::path latest = fs::path(cut.dir) / "checkpoints/step-00000012.safetensors";
        const fs::path previous = fs::path(cut.dir) / "checkpoints/step-00000010.safetensors";
        REQUIRE(fs::exists(latest));
        REQUIRE(fs::exists(previous));
        d.apply(latest);
        auto resumed = run("", {}, cut.dir);
        CHECK(resumed.steps == 20);
        CHECK(log_has(cut.dir, "notice: checkpoint " + latest.string() + " is damaged (" + d.fault));
        CHECK(log_has(cut.dir, "): passed over, using " + previous.string()));
        if (d.what == "a NaN") CHECK(log_has(cut.dir, "' holds 1 non-finite value): passed over"));
        CHECK(log_has(cut.dir, "restored step 10 from " + previous.string()));
        CHECK(same_bits(final_state(whole.dir), final_state(cut.dir)));  // from step 10, bit for bit
    }
    // Nothing intact: an error naming each checkpoint and its fault, nothing trained.
    auto cut = run(file, stop_at_12);
    const fs::path ck = fs::path(cut.dir) / "checkpoints";
    rewrite(ck / "step-00000012.safetensors", [](data::TensorFile& f) { f.metadata["step"] = "12x"; });
    rewrite(ck / "step-00000010.safetensors", [](data::TensorFile& f) { f.tensors.begin()->second.data()[1] = INFINITY; });
    CHECK_THROWS_WITH(run("", {}, cut.dir),
                      Catch::Matchers::StartsWith(cut.dir + ": no checkpoint can be trusted:\n  " + (ck / "step-00000012.safetensors").string() +
                                                  ": step is '12x', not a whole number\n  " + (ck / "step-00000010.safetensors").string() +
                                                  ": tensor '"));
    CHECK_FALSE(fs::exists(fs::path(cut.dir) / "results.json"));
}

TEST_CASE("eval says which weights it evaluated, prefers the final ones when they verify, and warns of a damaged product",
          "[run][eval][faults]") {
    test::TempDir t("run-test");
    auto r = run(t.write("tiny.yaml", spec(t.path / "runs")));  // checkpoints every 5 steps
    const fs::path dir(r.dir), product = dir / "encoder.safetensors";
    const auto read_json = [](const std::string& f) { return nlohmann::json::parse(std::ifstream(f)); };
    CHECK(read_json((dir / "results.json").string())["weights"] ==
          nlohmann::json{{"source", "training"}, {"step", 20}, {"critics", true}});
    auto eval = [&] {
        EvalOptions o;
        o.run_dir = r.dir;
        o.progress = false;
        return read_json(evaluate_run(o));
    };
    CHECK(eval()["weights"] == nlohmann::json{{"source", "checkpoints/step-00000020.safetensors"}, {"step", 20}, {"critics", true}});
    // The final checkpoint damaged: the product holds step 20, newer than step 15's.
    const fs::path last = dir / "checkpoints/step-00000020.safetensors";
    fs::resize_file(last, fs::file_size(last) / 2);
    CHECK(eval()["weights"] == nlohmann::json{{"source", "encoder.safetensors"}, {"step", 20}, {"critics", false}});
    // The product damaged too: the older checkpoint, and a warning in the log.
    auto f = data::read_safetensors(product.string());
    f.tensors.begin()->second.data()[0] += 1.0f;
    data::write_safetensors(product.string(), f);
    CHECK(eval()["weights"] == nlohmann::json{{"source", "checkpoints/step-00000015.safetensors"}, {"step", 15}, {"critics", true}});
    std::ifstream in(dir / "log.txt");
    const std::string log((std::istreambuf_iterator<char>(in)), {});
    CHECK(log.find("notice: " + product.string() + " is damaged (its tensors do not match its checksum") != std::string::npos);
}

TEST_CASE("eval --export-features writes features as f32 and labels as int64 NPY", "[run][eval]") {
    test::TempDir t("export-test");
    auto r = run(t.write("tiny.yaml", spec(t.path / "runs")));
    EvalOptions o;
    o.run_dir = r.dir;
    o.export_features = true;
    o.progress = false;
    evaluate_run(o);
    const fs::path f = fs::path(r.dir) / "features";
    for (const char* split : {"train", "test"}) {
        const std::string labels_path = (f / (std::string(split) + "-labels.npy")).string();
        std::ifstream in(labels_path, std::ios::binary);
        const std::string raw((std::istreambuf_iterator<char>(in)), {});
        CHECK(raw.find("'descr': '<i8'") != std::string::npos);
        const auto labels = data::read_npy(labels_path);
        const auto global = data::read_npy((f / (std::string(split) + "-global.npy")).string());
        REQUIRE(labels.shape.size() == 1);
        CHECK(global.shape == std::vector<std::int64_t>{labels.shape[0], 6});
        CHECK(static_cast<std::int64_t>(raw.size() % 64) == (labels.shape[0] * 8) % 64);  // the data starts on a 64-byte boundary
        std::set<float> classes(labels.values.begin(), labels.values.end());
        CHECK(classes.size() > 1);
        for (float c : classes) CHECK((c >= 0 && c <= 3 && c == std::floor(c)));
    }
}

TEST_CASE("a spec error makes no run directory", "[run][errors]") {
    test::TempDir t("run-test");
    const std::string bad = t.write("bad.yaml", spec(t.path / "runs") + "seed: -3\n");
    CHECK_THROWS_AS(run(bad), config::SpecError);
    CHECK_FALSE(fs::exists(t.path / "runs"));
    CHECK_THROWS_WITH(run("", {}, (t.path / "nowhere").string()),
                      (t.path / "nowhere").string() + ": not a run directory (no resolved.yaml)");
}

TEST_CASE("a non-finite bound stops training and names the term", "[run][errors]") {
    test::TempDir t("run-test");
    std::string s = spec(t.path / "runs");
    s.replace(s.find("estimator: dv"), 13, "estimator: {type: test_const, value: 1.0e39}");  // inf as a float
    s += std::string("plugins: [") + TEST_GOOD + "]\n";
    CHECK_THROWS_WITH(run(t.write("inf.yaml", s)),
                      "step 1: objective 'local' (test_const) is inf: training stops here; last good checkpoint: none");
    // A non-finite setting never gets that far: validation refuses it before a run directory exists.
    std::string n = spec(t.path / "runs-nan");
    n.replace(n.find("estimator: dv"), 13, "estimator: {type: test_const, value: .nan}");
    n += std::string("plugins: [") + TEST_GOOD + "]\n";
    const std::string file = t.write("nan.yaml", n);
    CHECK_THROWS_WITH(run(file), file + ":17:61: objectives.local.estimator.value: expected a finite number, found .nan");
    CHECK_FALSE(fs::exists(t.path / "runs-nan"));
}

TEST_CASE("kind supervised trains the encoder and a head with labels", "[run]") {
    test::TempDir t("run-test");
    std::string s = spec(t.path / "runs");
    s.replace(s.find("kind: dim"), 9, "kind: supervised");
    s = s.substr(0, s.find("objectives:")) + s.substr(s.find("optimizer:"));
    s += "head: {hidden: [8]}\n";
    auto r = run(t.write("sup.yaml", s));
    auto results = nlohmann::json::parse(std::ifstream(fs::path(r.dir) / "results.json"));
    const double acc = results["classifier"]["test_accuracy"];
    CHECK(acc >= 0.0);
    CHECK(acc <= 1.0);
    CHECK(results["probes"]["global"]["linear"]["dim"] == 6);
    std::ifstream csv(fs::path(r.dir) / "metrics.csv");
    std::string header;
    std::getline(csv, header);
    CHECK(header == "step,epoch,supervised.cross_entropy,supervised.accuracy,loss,images_per_s");
    auto ck = data::read_safetensors((fs::path(r.dir) / "checkpoints" / "step-00000020.safetensors").string());
    CHECK(ck.tensors.count("param/head.0.weight") == 1);
    // Objectives belong to kind dim.
    CHECK_THROWS_WITH(run(t.write("bad.yaml", s + "objectives: {g: {estimator: jsd, discriminator: global_concat}}\n")),
                      Catch::Contains("objectives: a supervised experiment trains with labels: remove objectives"));
}

TEST_CASE("an encoder with dropout resumes bitwise: the dropout stream is in the checkpoint", "[run][resume]") {
    test::TempDir t("run-test");
    std::string s = spec(t.path / "runs");
    const std::string from = "    - flatten\n", to = "    - flatten\n    - dropout: {p: 0.3}\n";
    REQUIRE(s.find(from) != std::string::npos);
    s.replace(s.find(from), from.size(), to);
    const std::string file = t.write("drop.yaml", s);
    auto whole = run(file);
    auto cut = run(file, [](std::int64_t step) {
        if (step == 9) ctrl_c();
    });
    REQUIRE(cut.interrupted);
    auto f = data::read_safetensors((fs::path(cut.dir) / "checkpoints/step-00000009.safetensors").string());
    CHECK(f.tensors.count("buffer/encoder.stack.5.rng_state") + f.tensors.count("buffer/encoder.5.rng_state") == 1);
    run("", {}, cut.dir);
    CHECK(same_bits(final_state(whole.dir), final_state(cut.dir)));
}

namespace {
std::atomic<int> program_handler_calls{0};
extern "C" void program_handler(int) { ++program_handler_calls; }

template <class Pred>
bool wait_for(Pred done) {
    for (int i = 0; i < 5000 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return done();
}
}  // namespace

TEST_CASE("the interrupt guard: SIGINT stops a training loop, and elsewhere does what the program asked", "[run][signals]") {
    auto* before = std::signal(SIGINT, program_handler);
    std::atomic<bool> stop{false};
    {
        detail::InterruptGuard guard(stop);
        // Disarmed (setup, evaluation): the program's own handler, not the stop flag.
        kill(getpid(), SIGINT);
        CHECK(wait_for([] { return program_handler_calls.load() == 1; }));
        CHECK_FALSE(stop.load());
        // Armed (the training loop): the stop flag, not the program's handler.
        guard.arm();
        kill(getpid(), SIGINT);
        CHECK(wait_for([&] { return stop.load(); }));
        CHECK(program_handler_calls.load() == 1);
        guard.disarm();
        // An ignored SIGINT stays ignored.
        std::signal(SIGINT, SIG_IGN);
        stop = false;
        kill(getpid(), SIGINT);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        CHECK_FALSE(stop.load());
        CHECK(program_handler_calls.load() == 1);
    }
    std::signal(SIGINT, before);
}
