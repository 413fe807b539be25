// The run directory, below the runners and the reports: its layout, and every
// file in it read and written in one place. `RunDir` and `SuiteDir` are the
// one description of both layouts: no other file names a file in them.
// Files are written to a temporary name and renamed (data::write_file_atomic);
// metrics and the log are appended a whole row at a time (data::append_whole).
#pragma once

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "infomax/data/files.hpp"
#include "infomax/runtime/console.hpp"
#include "infomax/runtime/error.hpp"

namespace infomax {

// The CPU's model name (/proc/cpuinfo), recorded in manifests.
std::string cpu_model();

namespace detail {

// FNV-1a: of a string, or of `n` bytes continuing from `h` (chain calls to
// hash several pieces as one).
constexpr std::uint64_t kFnv64Basis = 0xcbf29ce484222325ull;
std::uint64_t fnv64(const void* data, std::size_t n, std::uint64_t h = kFnv64Basis);
std::uint64_t fnv64(const std::string& s);
// The 8 hex digits that name a resolved spec (run directories, manifests).
std::string text_hash(const std::string& text);
// The local time formatted by fmt's chrono format ("{:%Y%m%d-%H%M%S}").
std::string local_time(const char* format);

// runs/<name>/<YYYYmmdd-HHMMSS>-<spec hash>/
//   resolved.yaml   the spec as run (extends, overrides, defaults applied)
//   manifest.json   seed, versions, git commit, plugins with file hashes, CPU, threads
//   metrics.csv, metrics.jsonl   per logging step: every bound, the losses, images/s
//   threads.csv     the thread count from each step on, when it changed (replayed by reproduce)
//   checkpoints/step-NNNNNNNN.safetensors   parameters, buffers, optimizer state, position
//   encoder.safetensors (generator.safetensors for a gan)   the final network
//   results.json    what the run's evaluation found (the run is finished once it exists)
//   results-step-N.json   a finished run's results, moved aside by --extend
//   results-eval-<time>.json   later evaluations (infomax eval), never over results.json
//   mi_levels.csv, mi_levels.md, mi.svg, mi_<statistic>.svg   an MI run's levels, tabulated and drawn
//   samples.npy, samples.svg   a generator's samples and their plot
//   features/{train,test}-<tap>.npy, {train,test}-labels.npy   eval --export-features
//   reproductions/  the runs infomax reproduce made of this one
//   report.html, figures/   written by infomax report (and after run, eval): the page and its charts
//   log.txt         what was printed
//   .lock           held (flock) by the process working in the run (claim_run_dir)
class RunDir {
public:
    RunDir() = default;
    explicit RunDir(std::filesystem::path dir) : dir_(std::move(dir)) {}
    const std::filesystem::path& path() const { return dir_; }
    std::string string() const { return dir_.string(); }
    bool empty() const { return dir_.empty(); }

    std::filesystem::path resolved() const { return dir_ / "resolved.yaml"; }
    std::filesystem::path manifest() const { return dir_ / "manifest.json"; }
    std::filesystem::path metrics_csv() const { return dir_ / "metrics.csv"; }
    std::filesystem::path metrics_jsonl() const { return dir_ / "metrics.jsonl"; }
    std::filesystem::path threads_csv() const { return dir_ / "threads.csv"; }
    std::filesystem::path checkpoints() const { return dir_ / "checkpoints"; }
    std::filesystem::path checkpoint(std::int64_t step) const;
    // The final network: generator.safetensors for a generator, else encoder.safetensors.
    std::filesystem::path product(bool generator) const { return dir_ / (generator ? "generator.safetensors" : "encoder.safetensors"); }
    std::filesystem::path results() const { return dir_ / "results.json"; }
    // A new name for a finished run's results moved aside at `step` (--extend).
    std::filesystem::path results_aside(std::int64_t step) const;
    // A new name for a later evaluation's results, stamped with the local time.
    std::filesystem::path eval_results() const;
    std::filesystem::path mi_levels_csv() const { return dir_ / "mi_levels.csv"; }
    std::filesystem::path mi_levels_md() const { return dir_ / "mi_levels.md"; }
    std::filesystem::path mi_plot() const { return dir_ / "mi.svg"; }
    // mi_<statistic>.svg: one statistic of the levels (bias, variance, mse) against the truth.
    std::filesystem::path mi_statistic_plot(const std::string& statistic) const { return dir_ / ("mi_" + statistic + ".svg"); }
    std::filesystem::path samples() const { return dir_ / "samples.npy"; }
    std::filesystem::path samples_plot() const { return dir_ / "samples.svg"; }
    std::filesystem::path features() const { return dir_ / "features"; }
    // features/<split>-<what>.npy: a tap's features or "labels".
    std::filesystem::path feature_file(const std::string& split, const std::string& what) const {
        return features() / (split + "-" + what + ".npy");
    }
    std::filesystem::path reproductions() const { return dir_ / "reproductions"; }
    std::filesystem::path report() const { return dir_ / "report.html"; }
    std::filesystem::path figures() const { return dir_ / "figures"; }  // the report's charts
    std::filesystem::path log() const { return dir_ / "log.txt"; }
    std::filesystem::path lock() const { return dir_ / ".lock"; }

    // A run directory at all: it holds its resolved spec.
    bool is_run() const;
    // Finished: trained and evaluated (results.json exists).
    bool finished() const;
    // The hash resolved.yaml must have: the manifest's record (changed only by
    // --extend), else the one in the directory's name; "" when neither says.
    std::string recorded_hash() const;
    // An Error unless resolved.yaml is as the run wrote it: an edited one would
    // make the directory describe another run than the one it holds (run
    // --resume, eval and reproduce all refuse it). `extending`: an --extend cut
    // between its manifest and its resolved.yaml is let through, to be redone.
    void check_resolved(bool extending = false) const;

private:
    std::filesystem::path dir_;
};

// suites/<name>/ (a suite's output.dir):
//   suite.yaml      the suite file as run
//   runs.json       every planned run: its overrides, directory, state, time
//   table.md, table.csv   the aggregated results (infomax report, suite)
//   bmi_results.csv the Beyond-Normal benchmark's rows, when runs report a protocol estimate
//   report.html, figures/   the suite's report and its charts
//   <run>/run.log   what the run printed;  <run>/.claim   held while a process runs it
//   <run>/<spec name>/<run dir>   the run directories (RunDir)
//   slurm/runs.sbatch, slurm/tables.sbatch, slurm/submit.sh   --emit-slurm
class SuiteDir {
public:
    explicit SuiteDir(std::filesystem::path dir) : dir_(std::move(dir)) {}
    const std::filesystem::path& path() const { return dir_; }
    std::filesystem::path suite() const { return dir_ / "suite.yaml"; }
    std::filesystem::path runs() const { return dir_ / "runs.json"; }
    std::filesystem::path table_md() const { return dir_ / "table.md"; }
    std::filesystem::path table_csv() const { return dir_ / "table.csv"; }
    // bmi's results layout, one row per run with a protocol estimate (bmi's table code reads it).
    std::filesystem::path bmi_results() const { return dir_ / "bmi_results.csv"; }
    std::filesystem::path report() const { return dir_ / "report.html"; }
    std::filesystem::path figures() const { return dir_ / "figures"; }
    // Where one planned run's directories go, its log and its claim.
    std::filesystem::path run_root(const std::string& run) const { return dir_ / run; }
    std::filesystem::path run_log(const std::string& run) const { return dir_ / run / "run.log"; }
    std::filesystem::path run_claim(const std::string& run) const { return dir_ / run / ".claim"; }
    std::filesystem::path slurm() const { return dir_ / "slurm"; }
    std::filesystem::path slurm_runs() const { return slurm() / "runs.sbatch"; }
    std::filesystem::path slurm_tables() const { return slurm() / "tables.sbatch"; }
    std::filesystem::path slurm_submit() const { return slurm() / "submit.sh"; }
    // A suite directory at all: it holds its suite file and its runs.
    bool is_suite() const;

private:
    std::filesystem::path dir_;
};

// A problem with where runs go (output.dir): the caller names the spec's key.
class RunDirError : public Error {
public:
    using Error::Error;
};

// A new directory <output_dir>/<name>/<stamp>-<hash> that did not exist before:
// never reuses one. An output_dir under a file, or one that cannot be made, is
// a RunDirError.
std::filesystem::path create_run_dir(const std::string& output_dir, const std::string& name, const std::string& hash);

// Appends to log.txt and prints. A line that cannot be written is an Error
// (after it was printed); try_line is for the error path, where the first
// error is the one to report.
class Log {
public:
    explicit Log(std::filesystem::path file) : file_(std::move(file)) {}
    // A log that says nothing: a data-parallel run's ranks other than 0.
    Log() : on_(false) {}
    void line(const std::string& s) {
        if (!on_) return;
        console::info(s);
        data::append_whole(file_.string(), s + '\n');
    }
    void try_line(const std::string& s) noexcept {
        try {
            line(s);
        } catch (...) {
        }
    }
    const std::filesystem::path& file() const { return file_; }

private:
    std::filesystem::path file_;
    bool on_ = true;
};

// An exclusive claim on a folder: an flock on a lock file in it, released
// when the claim is destroyed or its process ends, however it ends. The file
// names the holder ("process 12 on host since 2026-11-26T21:40:00").
class DirClaim {
public:
    // The claim, or nullopt with *holder set when another process holds it.
    static std::optional<DirClaim> try_claim(const std::filesystem::path& lock_file, std::string* holder);
    DirClaim(DirClaim&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    DirClaim& operator=(DirClaim&& o) noexcept;
    DirClaim(const DirClaim&) = delete;
    ~DirClaim();

private:
    explicit DirClaim(int fd) : fd_(fd) {}
    int fd_ = -1;
};
// Claims a run directory (<dir>/.lock) for this process, or an Error naming
// the process that holds it; then removes the temporary files an interrupted
// write left there.
DirClaim claim_run_dir(const std::filesystem::path& dir);

// h:mm:ss
std::string eta(double seconds);

// A long task's progress with its ETA: a live line on a terminal (at most every
// 0.2 s), otherwise a log line at most every 2 s; finish() logs one line with
// the time taken. The ETA assumes the rest goes at the pace so far.
class Progress {
public:
    Progress(Log& log, bool live, std::string what);
    void update(double fraction, const std::string& detail);
    void finish(const std::string& summary);

private:
    Log& log_;
    bool live_;
    std::string what_;
    std::chrono::steady_clock::time_point start_, last_;
};

// metrics.csv (one header, then a row per logging step) and metrics.jsonl.
// Each row is appended whole or not at all (data::append_whole).
class Metrics {
public:
    // On resume (keep_up_to_step >= 0), rows after the checkpoint were lost
    // work: they are dropped so the continued run writes them again, once. A
    // torn last row (a write the process died in) is dropped with a notice; a
    // damaged row before it is an Error naming the file and line.
    Metrics(const std::filesystem::path& dir, std::int64_t keep_up_to_step);
    void write(const std::vector<std::pair<std::string, double>>& row);
    // Both files on disk (before a checkpoint that counts on their rows).
    void sync();
    const std::vector<std::string>& notices() const { return notices_; }

private:
    void trim(const std::filesystem::path& p, std::int64_t step, bool has_header);
    std::filesystem::path csv_path_, jsonl_path_;
    std::string header_;
    std::vector<std::string> notices_;
};

// "fnv64:<16 hex digits>" of a file's bytes (manifests name plugin files by it).
std::string file_hash(const std::string& path);
// The JSON in a run's or suite's file; a missing, unreadable or damaged file is
// an Error naming it ("runs/x/manifest.json: not valid JSON (... at byte 120):
// the file is damaged or was cut short").
nlohmann::json read_json(const std::filesystem::path& file);
// checkpoints/step-NNNNNNNN.safetensors of a run directory, oldest first.
std::vector<std::filesystem::path> checkpoint_files(const std::filesystem::path& dir);
// The newest of them, or "".
std::string latest_checkpoint(const std::filesystem::path& dir);
// Writes checkpoints/step-NNNNNNNN.safetensors and keeps the newest `keep`.
// Its metadata carries a checksum of every tensor's bytes ("checksum").
void save_checkpoint(const std::filesystem::path& dir, std::int64_t step, const data::TensorFile& checkpoint, int keep = 2);
// The newest checkpoint that verifies: it reads, its tensors match its
// checksum, every value is finite, and its "step" is the whole number its name
// says. A damaged newer one is passed over with a notice naming it and why.
// path is "" when the run has no checkpoint; an Error names every checkpoint
// and its fault when none verifies.
struct VerifiedCheckpoint {
    std::string path;
    data::TensorFile file;
    std::vector<std::string> notices;
};
VerifiedCheckpoint load_checkpoint(const std::filesystem::path& dir);
// FNV-1a over every tensor's name, shape and bytes, in name order ("fnv64:...").
std::string tensor_checksum(const data::TensorFile& f);
// The run's product (encoder.safetensors, generator.safetensors), stamped with
// its step and a checksum so that eval can trust it over an older checkpoint.
void save_product(const std::filesystem::path& file, const data::TensorFile& weights, std::int64_t step);
// A product file as read: `verified` when its checksum matches (then `step`
// is the step it holds); `fault` says why it cannot be trusted ("" when it is
// absent, or written before products were stamped, which is no damage).
struct VerifiedProduct {
    bool verified = false;
    std::int64_t step = -1;
    data::TensorFile file;
    std::string fault;
};
VerifiedProduct load_product(const std::filesystem::path& file);
// A whole number written in a file (a checkpoint's metadata), or an Error naming `what`.
std::int64_t parse_count(const std::string& text, const std::string& what);
// The number at a dotted path of a results.json ("mi_levels.0.median",
// "probes.global.linear.test_accuracy"; list items by index), or nullptr when
// the path is missing or holds no number.
const nlohmann::json* number_at(const nlohmann::json& j, const std::string& path);
// The leaves of a results.json by dotted path ("probes.global.linear.test_accuracy",
// "mi_levels.0.bias"); arrays longer than max_array stay one leaf.
void flatten_json(const nlohmann::json& j, const std::string& prefix,
                  std::vector<std::pair<std::string, nlohmann::json>>& out,
                  std::size_t max_array = std::numeric_limits<std::size_t>::max());

}  // namespace detail
}  // namespace infomax
