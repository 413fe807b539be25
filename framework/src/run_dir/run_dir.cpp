// The run directory: its layout, files and how they are written.
#include "run_dir/run_dir.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <cerrno>
#include <cmath>
#include <cstring>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <fstream>
#include <regex>

#include "infomax/runtime/error.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace infomax::detail {

std::uint64_t fnv64(const void* data, std::size_t n, std::uint64_t h) {
    const auto* b = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

std::uint64_t fnv64(const std::string& s) { return fnv64(s.data(), s.size()); }

std::string local_time(const char* format) {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    localtime_r(&t, &tm);
    return fmt::format(fmt::runtime(format), tm);
}

// A new directory that did not exist before: never reuses one.
fs::path create_run_dir(const std::string& output_dir, const std::string& name, const std::string& hash) {
    const fs::path root = output_dir, parent = root / name;
    for (fs::path p = parent; !p.empty(); p = p.parent_path()) {  // the nearest existing ancestor must be a folder
        std::error_code ec;
        if (fs::exists(p, ec)) {
            if (!fs::is_directory(p, ec))
                throw RunDirError(fmt::format("{} is a file, not a folder: runs cannot be written under it; choose "
                                              "another output.dir",
                                              p.string()));
            break;
        }
        if (p == p.parent_path()) break;
    }
    std::error_code ec;
    fs::create_directories(parent, ec);
    if (ec) throw RunDirError(fmt::format("cannot create {}: {}; choose another output.dir", parent.string(), ec.message()));
    const std::string base = fmt::format("{}-{}", local_time("{:%Y%m%d-%H%M%S}"), hash);
    for (int k = 1; k < 1000; ++k) {
        const fs::path p = parent / (k == 1 ? base : fmt::format("{}-{}", base, k));
        if (fs::create_directory(p)) return p;
    }
    throw Error(fmt::format("cannot create a new run directory under {}", parent.string()));
}




fs::path RunDir::checkpoint(std::int64_t step) const { return checkpoints() / fmt::format("step-{:08d}.safetensors", step); }

fs::path RunDir::results_aside(std::int64_t step) const {
    fs::path p = dir_ / fmt::format("results-step-{}.json", step);
    for (int k = 2; fs::exists(p); ++k) p = dir_ / fmt::format("results-step-{}-{}.json", step, k);
    return p;
}

fs::path RunDir::eval_results() const {
    const std::string stamp = local_time("{:%Y%m%d-%H%M%S}");
    fs::path p = dir_ / fmt::format("results-eval-{}.json", stamp);
    for (int k = 2; fs::exists(p); ++k) p = dir_ / fmt::format("results-eval-{}-{}.json", stamp, k);
    return p;
}

bool RunDir::is_run() const {
    std::error_code ec;
    return fs::exists(resolved(), ec);
}

bool RunDir::finished() const {
    std::error_code ec;
    return fs::exists(results(), ec);
}

std::string text_hash(const std::string& text) { return fmt::format("{:016x}", fnv64(text)).substr(0, 8); }

std::string RunDir::recorded_hash() const {
    if (fs::exists(manifest())) {
        const nlohmann::json m = read_json(manifest());
        if (m.is_object() && m.contains("resolved_hash") && m["resolved_hash"].is_string())
            return m["resolved_hash"].get<std::string>();
    }
    const std::string name = dir_.filename().string();  // YYYYmmdd-HHMMSS-<hash>[-k]
    return name.size() >= 24 && name[15] == '-' ? name.substr(16, 8) : "";
}

void RunDir::check_resolved(bool extending) const {
    std::ifstream in(resolved(), std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    const std::string want = recorded_hash(), have = text_hash(text);
    if (want.empty() || want == have) return;
    // --extend writes the manifest, then resolved.yaml: cut between the two,
    // resolved.yaml is still the one before the extension.
    std::string before;
    if (fs::exists(manifest())) {
        const nlohmann::json m = read_json(manifest());
        if (m.is_object() && m.contains("extended") && m["extended"].is_array() && !m["extended"].empty() &&
            m["extended"].back().is_object())
            before = m["extended"].back().value("resolved_hash_before", std::string());
    }
    if (!before.empty() && before == have) {
        if (extending) return;
        throw Error(fmt::format("{}: an --extend was cut before it rewrote {}: run the same infomax run --resume {} "
                                "--extend ... again to finish it",
                                string(), resolved().filename().string(), string()));
    }
    throw Error(fmt::format("{}: {} was changed after the run started (it hashes to {}, the run to {}): a "
                            "run continues as it was; undo the edit, train longer with infomax run --resume {} "
                            "--extend train.steps=N, or start a new run for anything else",
                            resolved().string(), resolved().filename().string(), have, want, string()));
}

bool SuiteDir::is_suite() const {
    std::error_code ec;
    return fs::exists(runs(), ec) && fs::exists(suite(), ec);
}

std::string file_hash(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return fmt::format("fnv64:{:016x}", fnv64(std::string(std::istreambuf_iterator<char>(in), {})));
}

json read_json(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw Error(fmt::format("{}: cannot read it ({})", file.string(), fs::exists(file) ? "not readable" : "no such file"));
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    try {
        return json::parse(text);
    } catch (const json::exception& e) {
        throw Error(fmt::format("{}: not valid JSON ({}): the file is damaged or was cut short", file.string(), e.what()));
    }
}

std::vector<fs::path> checkpoint_files(const fs::path& dir) {
    static const std::regex checkpoint_name("step-[0-9]{8}\\.safetensors");
    std::vector<fs::path> all;
    const fs::path folder = RunDir(dir).checkpoints();
    if (fs::is_directory(folder))
        for (const auto& e : fs::directory_iterator(folder))
            if (std::regex_match(e.path().filename().string(), checkpoint_name)) all.push_back(e.path());
    std::sort(all.begin(), all.end());  // zero-padded steps: oldest first
    return all;
}

std::string latest_checkpoint(const fs::path& dir) {
    const auto all = checkpoint_files(dir);
    return all.empty() ? "" : all.back().string();
}

void flatten_json(const json& j, const std::string& prefix, std::vector<std::pair<std::string, json>>& out,
                  std::size_t max_array) {
    if (j.is_object()) {
        for (auto it = j.begin(); it != j.end(); ++it)
            flatten_json(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out, max_array);
    } else if (j.is_array() && j.size() <= max_array) {
        for (std::size_t i = 0; i < j.size(); ++i) flatten_json(j[i], prefix + "." + std::to_string(i), out, max_array);
    } else {
        out.emplace_back(prefix, j);
    }
}


}  // namespace infomax::detail

namespace infomax {

// Recorded in manifests.
std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line))
        if (line.starts_with("model name")) {
            const auto colon = line.find(':');
            return colon == std::string::npos ? line : line.substr(colon + 2);
        }
    return "unknown";
}

}  // namespace infomax

namespace infomax::detail {


// FNV-1a over every tensor's name, shape and bytes, in name order.
std::string tensor_checksum(const data::TensorFile& f) {
    std::uint64_t h = kFnv64Basis;
    for (const auto& [name, t] : f.tensors) {
        h = fnv64(name.data(), name.size(), h);
        h = fnv64(t.shape().data(), t.shape().size() * sizeof(t.shape()[0]), h);
        const Tensor p = t.plain();
        h = fnv64(p.data(), static_cast<std::size_t>(p.numel()) * sizeof(float), h);
    }
    return fmt::format("fnv64:{:016x}", h);
}

namespace {

// Why a checkpoint cannot be trusted, or "".
std::string checkpoint_fault(const fs::path& path, const data::TensorFile& f) {
    const std::string name = path.filename().string();
    const std::string step_text = name.substr(5, 8);  // step-NNNNNNNN.safetensors
    auto it = f.metadata.find("step");
    if (it == f.metadata.end()) return "it records no step";
    try {
        if (parse_count(it->second, "step") != parse_count(step_text, "the file name's step"))
            return fmt::format("it records step '{}', its name step {}", it->second, step_text);
    } catch (const Error& e) {
        return e.what();
    }
    // Every checkpoint is written with its checksum: one without it is damaged too.
    auto c = f.metadata.find("checksum");
    if (c == f.metadata.end()) return "it records no checksum";
    if (c->second != tensor_checksum(f)) return fmt::format("its tensors do not match its checksum ({})", c->second);
    for (const auto& [tname, t] : f.tensors) {
        const Tensor p = t.plain();
        std::int64_t bad = 0;
        for (std::int64_t i = 0; i < p.numel(); ++i) bad += !std::isfinite(p.data()[i]);
        if (bad) return fmt::format("tensor '{}' holds {} non-finite value{}", tname, bad, bad == 1 ? "" : "s");
    }
    return "";
}

}  // namespace

std::int64_t parse_count(const std::string& text, const std::string& what) {
    std::int64_t v = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, v);
    if (text.empty() || ec != std::errc() || ptr != end || v < 0)
        throw Error(fmt::format("{} is '{}', not a whole number", what, text));
    return v;
}

VerifiedCheckpoint load_checkpoint(const fs::path& dir) {
    VerifiedCheckpoint out;
    std::vector<fs::path> all = checkpoint_files(dir);
    std::reverse(all.begin(), all.end());  // newest first
    std::vector<std::string> faults;
    for (const auto& p : all) {
        std::string fault;
        data::TensorFile f;
        try {
            f = data::read_safetensors(p.string());
            fault = checkpoint_fault(p, f);
        } catch (const Error& e) {
            fault = e.what();
        }
        if (fault.empty()) {
            out.path = p.string();
            out.file = std::move(f);
            for (std::size_t i = 0; i < faults.size(); ++i)
                out.notices.push_back(fmt::format("checkpoint {} is damaged ({}): passed over{}", all[i].string(), faults[i],
                                                  i + 1 == faults.size() ? fmt::format(", using {}", out.path) : ""));
            return out;
        }
        faults.push_back(fault);
    }
    if (!faults.empty()) {
        std::string text;
        for (std::size_t i = 0; i < faults.size(); ++i) text += fmt::format("\n  {}: {}", all[i].string(), faults[i]);
        throw Error(fmt::format("{}: no checkpoint can be trusted:{}", dir.string(), text));
    }
    return out;
}

void save_product(const fs::path& file, const data::TensorFile& weights, std::int64_t step) {
    data::TensorFile f = weights;
    f.metadata["step"] = std::to_string(step);
    f.metadata["checksum"] = tensor_checksum(f);
    data::write_safetensors(file.string(), f);
}

VerifiedProduct load_product(const fs::path& file) {
    VerifiedProduct out;
    std::error_code ec;
    if (!fs::exists(file, ec)) return out;
    try {
        out.file = data::read_safetensors(file.string());
    } catch (const Error& e) {
        out.fault = e.what();
        return out;
    }
    const auto c = out.file.metadata.find("checksum");
    if (c == out.file.metadata.end()) return out;  // written before products were stamped
    if (c->second != tensor_checksum(out.file)) {
        out.fault = fmt::format("its tensors do not match its checksum ({})", c->second);
        return out;
    }
    const auto s = out.file.metadata.find("step");
    try {
        out.step = s == out.file.metadata.end() ? -1 : parse_count(s->second, "its step");
    } catch (const Error& e) {
        out.fault = e.what();
        return out;
    }
    out.verified = out.step >= 0;
    if (!out.verified) out.fault = "it records no step";
    return out;
}

void save_checkpoint(const fs::path& dir, std::int64_t step, const data::TensorFile& checkpoint, int keep) {
    std::error_code ec;
    const RunDir run(dir);
    fs::create_directories(run.checkpoints(), ec);
    if (ec) throw Error(fmt::format("{}: cannot create it: {}", run.checkpoints().string(), ec.message()));
    data::TensorFile f = checkpoint;
    f.metadata["checksum"] = tensor_checksum(f);
    data::write_safetensors(run.checkpoint(step).string(), f);
    const std::vector<fs::path> all = checkpoint_files(dir);
    for (std::size_t i = 0; i + keep < all.size(); ++i) fs::remove(all[i], ec);  // a leftover old one is harmless
}



std::optional<DirClaim> DirClaim::try_claim(const fs::path& lock_file, std::string* holder) {
    const int fd = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw Error(fmt::format("{}: cannot open: {}", lock_file.string(), std::strerror(errno)));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        std::string text(256, '\0');
        text.resize(static_cast<std::size_t>(std::max<ssize_t>(0, ::pread(fd, text.data(), text.size(), 0))));
        ::close(fd);
        if (holder) *holder = text.empty() ? "another process" : text;
        return std::nullopt;
    }
    char host[256] = {0};
    gethostname(host, sizeof host - 1);
    const std::string me = fmt::format("process {} on {} since {}", ::getpid(), host, local_time("{:%Y-%m-%dT%H:%M:%S}"));
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, me.data(), me.size(), 0) < 0) {
        // The claim holds without the note of who holds it.
    }
    return DirClaim(fd);
}

DirClaim& DirClaim::operator=(DirClaim&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
}

DirClaim::~DirClaim() {
    if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

DirClaim claim_run_dir(const fs::path& dir) {
    std::string holder;
    auto claim = DirClaim::try_claim(RunDir(dir).lock(), &holder);
    if (!claim)
        throw Error(fmt::format("{}: the run is in use by {}; wait for it to end or stop it (a process that died holds "
                                "nothing: the lock goes with it)",
                                dir.string(), holder));
    data::remove_stale_temporaries(dir.string());
    // Every folder a run writes into (an export killed midway leaves features of up to 1.5 GB).
    for (const fs::path& sub : {RunDir(dir).checkpoints(), RunDir(dir).features()})
        if (fs::is_directory(sub)) data::remove_stale_temporaries(sub.string());
    return std::move(*claim);
}

Metrics::Metrics(const fs::path& dir, std::int64_t keep_up_to_step)
    : csv_path_(RunDir(dir).metrics_csv()), jsonl_path_(RunDir(dir).metrics_jsonl()) {
    if (keep_up_to_step >= 0) {
        trim(csv_path_, keep_up_to_step, true);
        trim(jsonl_path_, keep_up_to_step, false);
        std::ifstream in(csv_path_);
        std::getline(in, header_);
    }
}

void Metrics::write(const std::vector<std::pair<std::string, double>>& row) {
    std::string h = "step", line;
    json j;
    for (const auto& [k, v] : row) {
        if (k != "step") h += "," + k;
        if (k == "step") j[k] = static_cast<std::int64_t>(v);  // a count: 4, not 4.0, for JSON readers
        else j[k] = v;
    }
    for (const auto& [k, v] : row) {
        if (!line.empty()) line += ',';
        line += fmt::format("{:.8g}", v);
    }
    // The header and its first row go together: a file is never a header alone.
    data::append_whole(csv_path_.string(), (header_.empty() ? h + '\n' : std::string()) + line + '\n');
    header_ = header_.empty() ? h : header_;
    data::append_whole(jsonl_path_.string(), j.dump() + '\n');
}

void Metrics::sync() {
    data::sync_file(csv_path_.string());
    data::sync_file(jsonl_path_.string());
}

void Metrics::trim(const fs::path& p, std::int64_t step, bool has_header) {
    if (!fs::exists(p)) return;
    std::ifstream in(p, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    std::string kept;
    std::size_t pos = 0;
    for (int number = 1; pos < text.size(); ++number) {
        const std::size_t end = text.find('\n', pos);
        const std::string line = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
        const bool whole = end != std::string::npos;
        pos = whole ? end + 1 : text.size();
        bool ok = whole;
        std::int64_t s = 0;
        if (ok && has_header && number == 1) {
            ok = line.starts_with("step,");
        } else if (ok && has_header) {
            const std::string first = line.substr(0, line.find(','));
            double v = 0;
            const auto r = std::from_chars(first.data(), first.data() + first.size(), v);
            // A step is a whole number a double holds exactly (below 2^53).
            ok = r.ec == std::errc() && r.ptr == first.data() + first.size() && v >= 0 && v <= 9.0e15 &&
                 v == std::floor(v);
            if (ok) s = static_cast<std::int64_t>(v);
        } else if (ok) {
            const json j = json::parse(line, nullptr, false);
            ok = !j.is_discarded() && j.is_object() && j.contains("step") && j["step"].is_number();
            const double v = ok ? j["step"].get<double>() : 0;
            ok = ok && v >= 0 && v <= 9.0e15 && v == std::floor(v);
            if (ok) s = static_cast<std::int64_t>(v);
        }
        if (!ok) {
            if (pos < text.size())
                throw Error(fmt::format("{}:{}: a damaged row ('{}') before the last one: the file was edited or "
                                        "corrupted; remove the row, or start the run again",
                                        p.string(), number, line.substr(0, 80)));
            notices_.push_back(fmt::format("{}:{}: the last row was cut short (the process died writing it): removed",
                                           p.string(), number));
            break;
        }
        if (has_header && number == 1) {
            kept += line + '\n';
            continue;
        }
        if (s <= step) kept += line + '\n';
    }
    data::write_file_atomic(p.string(), kept);
}

std::string eta(double seconds) {
    const auto s = static_cast<long>(std::max(0.0, seconds));
    return fmt::format("{}:{:02d}:{:02d}", s / 3600, (s / 60) % 60, s % 60);
}

Progress::Progress(Log& log, bool live, std::string what)
    : log_(log), live_(live), what_(std::move(what)), start_(std::chrono::steady_clock::now()), last_(start_) {}

void Progress::update(double fraction, const std::string& detail) {
    const auto now = std::chrono::steady_clock::now();
    const double since = std::chrono::duration<double>(now - last_).count();
    if (since < (live_ ? 0.2 : 2.0)) return;
    last_ = now;
    const double spent = std::chrono::duration<double>(now - start_).count();
    const std::string line = fmt::format("{}: {:.0f}% | {} | ETA {}", what_, 100 * fraction, detail,
                                         fraction >= 0.01 ? eta(spent / fraction * (1 - fraction)) : "?");
    if (live_) {
        console::live_line(line);
    } else {
        log_.line(line);
    }
}

void Progress::finish(const std::string& summary) {
    console::clear_live();
    const double spent = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    log_.line(fmt::format("{}: {} ({:.1f} s)", what_, summary, spent));
}

const json* number_at(const json& j, const std::string& path) {
    const json* cur = &j;
    std::size_t start = 0;
    while (start <= path.size()) {
        const std::size_t end = std::min(path.find('.', start), path.size());
        const std::string part = path.substr(start, end - start);
        if (cur->is_object()) {
            auto it = cur->find(part);
            if (it == cur->end()) return nullptr;
            cur = &*it;
        } else if (cur->is_array()) {
            char* e = nullptr;
            const long k = std::strtol(part.c_str(), &e, 10);
            if (*e || k < 0 || k >= static_cast<long>(cur->size())) return nullptr;
            cur = &(*cur)[static_cast<std::size_t>(k)];
        } else {
            return nullptr;
        }
        start = end + 1;
    }
    return cur->is_number() ? cur : nullptr;
}

}  // namespace infomax::detail
