#include "infomax/data/idx.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "infomax/runtime/error.hpp"
#include "ops/kernels.hpp"

namespace infomax::data {

namespace {

// gzread reads gzip and plain files alike, which is exactly what IDX needs.
struct GzFile {
    explicit GzFile(const std::string& path) : f(gzopen(path.c_str(), "rb")) {}
    ~GzFile() {
        if (f) gzclose(f);
    }
    std::int64_t read(void* dst, std::int64_t n) {
        std::int64_t got = 0;
        while (got < n) {
            const unsigned chunk = static_cast<unsigned>(std::min<std::int64_t>(n - got, 1 << 30));
            const int r = gzread(f, static_cast<char*>(dst) + got, chunk);
            if (r < 0) return -1;
            if (r == 0) break;
            got += r;
        }
        return got;
    }
    gzFile f;
};

const char* kInstallHint =
    "Fashion-MNIST comes with Debian's package dataset-fashion-mnist (sudo apt-get install dataset-fashion-mnist, "
    "or run tools/setup.sh), or from https://github.com/zalandoresearch/fashion-mnist (data/fashion: the four "
    "*-ubyte.gz files); MNIST from http://yann.lecun.com/exdb/mnist/. Put the four files in one folder and set "
    "data.path to it, or INFOMAX_DATA to the folder above a fashion-mnist/ one; docs/running.md (Data) gives "
    "their checksums";

}  // namespace

IdxArray read_idx(const std::string& path) {
    if (!std::filesystem::exists(path)) throw Error(fmt::format("{}: no such file", path));
    GzFile f(path);
    if (!f.f) throw Error(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
    unsigned char head[4];
    const auto got = f.read(head, 4);
    if (got < 0) throw Error(fmt::format("{}: not a readable gzip or IDX file (corrupt data)", path));
    if (got < 4) throw Error(fmt::format("{}: truncated: the 4-byte IDX header is missing ({} bytes)", path, got));
    if (head[0] != 0 || head[1] != 0 || head[2] != 0x08 || head[3] < 1 || head[3] > 4)
        throw Error(fmt::format("{}: not an unsigned-byte IDX file: magic bytes are {:02x} {:02x} {:02x} {:02x}, "
                                "expected 00 00 08 0N with N from 1 to 4",
                                path, head[0], head[1], head[2], head[3]));
    IdxArray a;
    std::int64_t total = 1;
    for (int i = 0; i < head[3]; ++i) {
        unsigned char b[4];
        if (f.read(b, 4) != 4)
            throw Error(fmt::format("{}: truncated: header declares {} dimensions but ends after {}", path,
                                    int(head[3]), i));
        const std::int64_t d = (std::int64_t(b[0]) << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
        a.dims.push_back(d);
        // The size a header declares is believed only as far as data arrives;
        // one no file could hold is refused before any arithmetic overflows.
        if (d > 0 && total > (std::int64_t(1) << 50) / d)
            throw Error(fmt::format("{}: dimensions [{}] declare more bytes than any file holds: the header is damaged",
                                    path, fmt::join(a.dims, ", ")));
        total *= d;
    }
    // A plain file's size is known: a header claiming more is refused at once.
    std::error_code size_error;
    const auto file_size = std::filesystem::file_size(path, size_error);
    if (gzdirect(f.f) && !size_error && static_cast<std::uint64_t>(total) > file_size - 4 - 4 * std::uint64_t(head[3]))
        throw Error(fmt::format("{}: truncated: dimensions [{}] need {} bytes of data, found {}", path,
                                fmt::join(a.dims, ", "), total, file_size - 4 - 4 * std::uint64_t(head[3])));
    // Otherwise read in pieces: a damaged gzipped header claiming 2^31 images
    // must end as "truncated", not as an allocation of terabytes.
    constexpr std::int64_t kPiece = std::int64_t(1) << 26;
    std::int64_t n = 0;
    while (n < total) {
        const std::int64_t want = std::min(kPiece, total - n);
        a.bytes.resize(static_cast<std::size_t>(n + want));
        const auto got = f.read(a.bytes.data() + n, want);
        if (got < 0) throw Error(fmt::format("{}: corrupt gzip data", path));
        n += got;
        if (got < want) break;
    }
    a.bytes.resize(static_cast<std::size_t>(n));
    if (n != total)
        throw Error(fmt::format("{}: truncated: dimensions [{}] need {} bytes of data, found {}", path,
                                fmt::join(a.dims, ", "), total, n));
    return a;
}

LabeledImages read_cifar(const std::vector<std::string>& files) {
    LabeledImages d;
    d.channels = 3;
    d.height = d.width = 32;
    constexpr std::size_t kRecord = 3073;
    for (const auto& f : files) {
        std::ifstream in(f, std::ios::binary);
        if (!in) throw Error(fmt::format("{}: not found", f));
        std::string raw((std::istreambuf_iterator<char>(in)), {});
        if (raw.empty() || raw.size() % kRecord != 0)
            throw Error(fmt::format("{}: {} bytes is not a whole number of 3073-byte CIFAR-10 records (truncated?)", f,
                                    raw.size()));
        for (std::size_t r = 0; r < raw.size() / kRecord; ++r) {
            const auto label = static_cast<std::uint8_t>(raw[r * kRecord]);
            if (label > 9)
                throw Error(fmt::format("{}: record {} has label {}; CIFAR-10 labels are 0 to 9 (not a CIFAR-10 file?)", f,
                                        r, int(label)));
            d.labels.push_back(label);
            d.pixels.insert(d.pixels.end(), raw.begin() + static_cast<std::ptrdiff_t>(r * kRecord + 1),
                            raw.begin() + static_cast<std::ptrdiff_t>((r + 1) * kRecord));
        }
        d.count += static_cast<std::int64_t>(raw.size() / kRecord);
    }
    return d;
}

LabeledImages read_idx_images(const std::string& images_path, const std::string& labels_path) {
    IdxArray im = read_idx(images_path);
    IdxArray lb = read_idx(labels_path);
    if (im.dims.size() != 3 && im.dims.size() != 4)
        throw Error(fmt::format("{}: expected images of 3 dimensions (N, H, W) or 4 (N, H, W, C), found {}",
                                images_path, im.dims.size()));
    if (lb.dims.size() != 1 || lb.dims[0] != im.dims[0])
        throw Error(fmt::format("{}: expected {} labels (one per image in {}), found dimensions [{}]", labels_path,
                                im.dims[0], images_path, fmt::join(lb.dims, ", ")));
    LabeledImages d;
    d.count = im.dims[0];
    d.height = im.dims[1];
    d.width = im.dims[2];
    d.channels = im.dims.size() == 4 ? im.dims[3] : 1;
    d.pixels = std::move(im.bytes);
    if (d.channels > 1) {  // HWC -> CHW once, so batches are plain copies
        std::vector<std::uint8_t> chw(d.pixels.size());
        const std::int64_t hw = d.height * d.width, c = d.channels;
        for (std::int64_t n = 0; n < d.count; ++n)
            for (std::int64_t p = 0; p < hw; ++p)
                for (std::int64_t k = 0; k < c; ++k) chw[(n * c + k) * hw + p] = d.pixels[(n * hw + p) * c + k];
        d.pixels = std::move(chw);
    }
    d.labels = std::move(lb.bytes);
    return d;
}

Tensor LabeledImages::batch(const std::vector<std::int64_t>& index) const {
    const std::int64_t per = channels * height * width;
    Tensor t = Tensor::empty({static_cast<std::int64_t>(index.size()), channels, height, width});
    float* o = t.data();
    for (auto i : index)
        if (i < 0 || i >= count) throw Error(fmt::format("image index {} out of range [0, {})", i, count));
    kernels::parallel_for(static_cast<std::int64_t>(index.size()), 16, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t r = b; r < e; ++r) {
            const std::uint8_t* src = pixels.data() + index[r] * per;
            for (std::int64_t k = 0; k < per; ++k) o[r * per + k] = src[k] * (1.0f / 255.0f);
        }
    });
    return t;
}

std::vector<std::int64_t> LabeledImages::batch_labels(const std::vector<std::int64_t>& index) const {
    std::vector<std::int64_t> out;
    out.reserve(index.size());
    for (auto i : index) out.push_back(labels.at(static_cast<std::size_t>(i)));
    return out;
}

std::string default_fashion_mnist_dir() {
    if (const char* env = std::getenv("INFOMAX_DATA"); env && *env)
        return (std::filesystem::path(env) / "fashion-mnist").string();
    return "/usr/share/datasets/fashion-mnist";
}

LabeledImages load_mnist_format(const std::string& dir, const std::string& split) {
    if (split != "train" && split != "test")
        throw Error(fmt::format("unknown split '{}' (known: test, train)", split));
    const std::string stem = split == "train" ? "train" : "t10k";
    auto find = [&](const std::string& kind) {
        const auto base = std::filesystem::path(dir) / fmt::format("{}-{}", stem, kind);
        for (const auto& p : {base.string(), base.string() + ".gz"})
            if (std::filesystem::exists(p)) return p;
        throw Error(fmt::format("{}: not found (nor {}.gz). {}", base.string(), base.string(), kInstallHint));
    };
    const std::string images = find("images-idx3-ubyte");  // images first: their error is the one to show
    const std::string labels = find("labels-idx1-ubyte");
    return read_idx_images(images, labels);
}

}  // namespace infomax::data
