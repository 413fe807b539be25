#include "infomax/data/files.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>

#include "infomax/runtime/error.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace infomax::data {

namespace {

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// Writes all of `n` bytes to `fd`; false (errno set) on failure.
bool write_all(int fd, const char* p, std::size_t n) {
    while (n) {
        const ssize_t w = ::write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            if (w == 0) errno = EIO;  // no progress: never loop on it
            return false;
        }
        p += w;
        n -= static_cast<std::size_t>(w);
    }
    return true;
}

// Writes via `<path>.tmp-<pid>` in the same folder: written, fsynced, renamed,
// and the folder fsynced, so after a crash or power loss the path holds the
// old file or the new one, whole.
void write_atomic(const std::string& path, const std::string& head, const char* data, std::size_t n) {
    const std::string tmp = fmt::format("{}.tmp-{}", path, ::getpid());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw Error(fmt::format("{}: cannot write: {}", path, std::strerror(errno)));
    const bool ok = write_all(fd, head.data(), head.size()) && (n == 0 || write_all(fd, data, n)) && ::fsync(fd) == 0;
    const int err = errno;
    if (::close(fd) != 0 || !ok) {
        ::unlink(tmp.c_str());
        throw Error(fmt::format("{}: cannot write: {}", path, std::strerror(ok ? errno : err)));
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const int e = errno;
        ::unlink(tmp.c_str());
        throw Error(fmt::format("{}: cannot rename the new file into place: {}", path, std::strerror(e)));
    }
    sync_dir(fs::path(path).parent_path().string());
}

// The product of `shape`'s dimensions, or an Error when one is negative or the
// product exceeds `limit` (a header claiming more than any file could hold).
std::int64_t checked_count(const std::vector<std::int64_t>& shape, std::int64_t limit, const std::string& what) {
    std::int64_t n = 1;
    for (auto d : shape) {
        if (d < 0 || (d > 0 && n > limit / d))
            throw Error(fmt::format("{}: shape [{}] is impossible (a negative dimension, or more elements than the file "
                                    "can hold): the file is damaged",
                                    what, fmt::join(shape, ", ")));
        n *= d;
    }
    return n;
}

}  // namespace

void sync_dir(const std::string& dir) {
    const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;  // best effort: the rename itself succeeded
    ::fsync(fd);
    ::close(fd);
}

std::string cannot_write(const std::string& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return ec.message();
    const std::string probe = (fs::path(dir) / fmt::format(".write-test.tmp-{}", ::getpid())).string();
    const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return std::strerror(errno);
    ::close(fd);
    ::unlink(probe.c_str());
    return "";
}

int remove_stale_temporaries(const std::string& dir) {
    static const std::regex tmp_name(".*\\.tmp-[0-9]+");
    int removed = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
        if (e.is_regular_file(ec) && std::regex_match(e.path().filename().string(), tmp_name) && fs::remove(e.path(), ec))
            ++removed;
    return removed;
}

void append_whole(const std::string& path, const std::string& text) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw Error(fmt::format("{}: cannot write: {}", path, std::strerror(errno)));
    struct stat st {};
    const off_t before = ::fstat(fd, &st) == 0 ? st.st_size : -1;
    const bool ok = write_all(fd, text.data(), text.size());
    int err = ok ? 0 : errno;
    if (!ok && before >= 0 && ::ftruncate(fd, before) != 0) {
        // The torn end stays; a resume cuts it off (run_dir's Metrics::trim).
    }
    if (::close(fd) != 0 && !err) err = errno;
    if (err) throw Error(fmt::format("{}: cannot write: {}", path, std::strerror(err)));
}

void sync_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    // EINVAL/EROFS: a file that cannot be synced (a device, a pipe): nothing to lose there.
    const bool ok = ::fsync(fd) == 0 || errno == EINVAL || errno == EROFS;
    const int err = errno;
    ::close(fd);
    if (!ok) throw Error(fmt::format("{}: cannot write: {}", path, std::strerror(err)));
}

void write_file_atomic(const std::string& path, const std::string& text) { write_atomic(path, text, nullptr, 0); }

// ---- NPY ---------------------------------------------------------------------
NpyArray read_npy(const std::string& path) {
    const std::string raw = read_all(path);
    if (raw.size() < 10 || raw.compare(0, 6, "\x93NUMPY") != 0)
        throw Error(fmt::format("{}: not an NPY file (it does not start with \\x93NUMPY)", path));
    const int major = static_cast<unsigned char>(raw[6]);
    std::size_t hlen, start;
    if (major == 1) {
        hlen = static_cast<unsigned char>(raw[8]) | (static_cast<unsigned char>(raw[9]) << 8);
        start = 10;
    } else {
        if (raw.size() < 12) throw Error(fmt::format("{}: truncated NPY header", path));
        hlen = 0;
        for (int i = 0; i < 4; ++i) hlen |= std::size_t(static_cast<unsigned char>(raw[8 + i])) << (8 * i);
        start = 12;
    }
    // numpy refuses headers past 10 000 bytes too (max_header_size); the
    // regexes below recurse per character and must not see more.
    if (hlen > 10000) throw Error(fmt::format("{}: NPY header of {} bytes; at most 10000 are read (numpy's own limit)", path, hlen));
    if (raw.size() < start + hlen) throw Error(fmt::format("{}: truncated NPY header", path));
    const std::string header = raw.substr(start, hlen);
    std::smatch m;
    if (!std::regex_search(header, m, std::regex("'descr':\\s*'([^']*)'")))
        throw Error(fmt::format("{}: NPY header without descr", path));
    const std::string descr = m[1];
    if (std::regex_search(header, std::regex("'fortran_order':\\s*True")))
        throw Error(fmt::format("{}: Fortran-order arrays are not supported: save with np.ascontiguousarray", path));
    if (!std::regex_search(header, m, std::regex("'shape':\\s*\\(([^)]*)\\)")))
        throw Error(fmt::format("{}: NPY header without shape", path));
    NpyArray a;
    const std::string dims = m[1];
    static const std::regex number("[0-9]+");
    for (std::sregex_iterator it(dims.begin(), dims.end(), number), end; it != end; ++it) {
        std::int64_t d = 0;
        const std::string text = it->str();
        if (std::from_chars(text.data(), text.data() + text.size(), d).ec != std::errc())
            throw Error(fmt::format("{}: NPY shape ({}) has a dimension too large for any file", path, dims));
        a.shape.push_back(d);
    }
    const char* data = raw.data() + start + hlen;
    const std::size_t avail = raw.size() - start - hlen;
    const std::int64_t n = checked_count(a.shape, static_cast<std::int64_t>(raw.size()), path);
    auto need = [&](std::size_t item) {
        if (avail / item < static_cast<std::size_t>(n))
            throw Error(fmt::format("{}: truncated: shape ({}) of {} needs {} bytes of data, found {}", path, dims,
                                    descr, n * item, avail));
    };
    if (descr == "|u1" || descr == "<u1") {
        need(1);
        a.is_uint8 = true;
        a.bytes.assign(data, data + n);
    } else if (descr == "<f4") {
        need(4);
        a.values.resize(n);
        if (n) std::memcpy(a.values.data(), data, n * 4);  // an empty array has no buffer to copy to
    } else if (descr == "<f8") {
        need(8);
        a.values.resize(n);
        for (std::int64_t i = 0; i < n; ++i) {
            double v;
            std::memcpy(&v, data + i * 8, 8);
            a.values[i] = static_cast<float>(v);
        }
    } else if (descr == "<i8" || descr == "<i4") {
        const std::size_t item = descr == "<i8" ? 8 : 4;
        need(item);
        a.values.resize(n);
        for (std::int64_t i = 0; i < n; ++i) {
            std::int64_t v = 0;
            std::memcpy(&v, data + i * item, item);
            if (item == 4) v = static_cast<std::int32_t>(v);
            a.values[i] = static_cast<float>(v);
        }
    } else {
        throw Error(fmt::format("{}: NPY type '{}' is not supported (use uint8, float32, float64, int32 or int64)",
                                path, descr));
    }
    return a;
}

namespace {
// NPY 1.0: magic, version, header length, then the header padded so the data
// starts on a 64-byte boundary.
std::string npy_head(const char* descr, const std::vector<std::int64_t>& dims) {
    std::string shape;
    for (auto d : dims) shape += fmt::format("{}, ", d);
    if (dims.size() > 1) shape.resize(shape.size() - 2);
    std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}), }}", descr, shape);
    while ((10 + header.size() + 1) % 64) header += ' ';
    header += '\n';
    std::string head = "\x93NUMPY";
    head += '\x01';
    head += '\x00';
    head += static_cast<char>(header.size() & 0xff);
    head += static_cast<char>((header.size() >> 8) & 0xff);
    return head + header;
}
}  // namespace

void write_npy(const std::string& path, const Tensor& t) {
    Tensor p = t.plain();
    write_atomic(path, npy_head("<f4", p.shape()), reinterpret_cast<const char*>(p.data()),
                 static_cast<std::size_t>(p.numel()) * 4);
}

void write_npy(const std::string& path, const std::vector<std::int64_t>& values) {
    static_assert(std::endian::native == std::endian::little, "NPY '<i8' is little-endian");
    write_atomic(path, npy_head("<i8", {static_cast<std::int64_t>(values.size())}),
                 reinterpret_cast<const char*>(values.data()), values.size() * sizeof(std::int64_t));
}

// ---- safetensors ---------------------------------------------------------------
void write_safetensors(const std::string& path, const TensorFile& file) {
    json header = json::object();
    std::size_t offset = 0;
    std::vector<const Tensor*> order;
    for (const auto& [name, t] : file.tensors) {  // std::map: sorted names
        const std::size_t n = static_cast<std::size_t>(t.numel()) * 4;
        header[name] = {{"dtype", "F32"}, {"shape", t.shape()}, {"data_offsets", {offset, offset + n}}};
        offset += n;
        order.push_back(&t);
    }
    if (!file.metadata.empty()) header["__metadata__"] = file.metadata;
    std::string h = header.dump();
    while (h.size() % 8) h += ' ';  // the format pads the header with spaces
    std::string head(8, '\0');
    for (int i = 0; i < 8; ++i) head[i] = static_cast<char>((std::uint64_t(h.size()) >> (8 * i)) & 0xff);
    head += h;
    std::string body;
    body.reserve(offset);
    for (const Tensor* t : order) {
        Tensor p = t->plain();
        body.append(reinterpret_cast<const char*>(p.data()), static_cast<std::size_t>(p.numel()) * 4);
    }
    write_atomic(path, head, body.data(), body.size());
}

TensorFile read_safetensors(const std::string& path) {
    const std::string raw = read_all(path);
    if (raw.size() < 8) throw Error(fmt::format("{}: not a safetensors file (shorter than 8 bytes)", path));
    std::uint64_t hlen = 0;
    for (int i = 0; i < 8; ++i) hlen |= std::uint64_t(static_cast<unsigned char>(raw[i])) << (8 * i);
    if (hlen > raw.size() - 8) throw Error(fmt::format("{}: not a safetensors file (header length {})", path, hlen));
    json header;
    try {
        header = json::parse(raw.substr(8, hlen));
    } catch (const std::exception& e) {
        throw Error(fmt::format("{}: corrupt safetensors header: {}", path, e.what()));
    }
    if (!header.is_object()) throw Error(fmt::format("{}: corrupt safetensors header: not a JSON object", path));
    TensorFile f;
    const std::size_t base = 8 + hlen;
    // Everything is checked before anything is allocated: names, types, a
    // shape whose size fits the file, offsets inside the file.
    try {
        for (auto it = header.begin(); it != header.end(); ++it) {
            if (it.key() == "__metadata__") {
                for (auto m = it->begin(); m != it->end(); ++m) f.metadata[m.key()] = m->get<std::string>();
                continue;
            }
            const auto& e = *it;
            if (e.at("dtype") != "F32")
                throw Error(fmt::format("{}: tensor '{}' has dtype {}, only F32 is supported", path, it.key(),
                                        e.at("dtype").dump()));
            // Whole numbers only: a fraction or 2E24 converted to an integer is undefined behaviour.
            const json& shape_json = e.at("shape");
            const json& offsets_json = e.at("data_offsets");
            const auto whole = [](const json& a) {
                return a.is_array() && std::all_of(a.begin(), a.end(), [](const json& v) { return v.is_number_integer(); });
            };
            if (!whole(shape_json) || !whole(offsets_json) ||
                std::any_of(offsets_json.begin(), offsets_json.end(), [](const json& v) { return !v.is_number_unsigned(); }))
                throw Error(fmt::format("{}: tensor '{}': shape and data_offsets must be lists of whole numbers (found {} "
                                        "and {}): the file is damaged",
                                        path, it.key(), shape_json.dump(), offsets_json.dump()));
            Shape shape = shape_json.get<Shape>();
            const std::int64_t count = checked_count(shape, static_cast<std::int64_t>(raw.size() / 4),
                                                     fmt::format("{}: tensor '{}'", path, it.key()));
            const auto off = offsets_json.get<std::vector<std::size_t>>();
            if (off.size() != 2 || off[1] < off[0] || off[1] > raw.size() - base ||
                off[1] - off[0] != static_cast<std::size_t>(count) * 4)
                throw Error(fmt::format("{}: tensor '{}' points outside the file (truncated?)", path, it.key()));
            Tensor t = Tensor::empty(shape);
            if (count) std::memcpy(t.data(), raw.data() + base + off[0], off[1] - off[0]);
            f.tensors.emplace(it.key(), t);
        }
    } catch (const json::exception& e) {
        throw Error(fmt::format("{}: corrupt safetensors header: {}", path, e.what()));
    }
    return f;
}

std::vector<std::string> split_csv_line(const std::string& line) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (true) {
        const std::size_t end = line.find(',', start);
        out.push_back(line.substr(start, end == std::string::npos ? std::string::npos : end - start));
        if (end == std::string::npos) return out;
        start = end + 1;
    }
}

}  // namespace infomax::data
