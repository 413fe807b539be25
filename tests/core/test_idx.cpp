// The IDX reader: plain and gzipped files, and the errors for bad ones.
#include <catch2/catch.hpp>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "infomax/data/idx.hpp"
#include "infomax/runtime/error.hpp"

using namespace infomax;
namespace fs = std::filesystem;

namespace {

std::vector<unsigned char> idx_bytes(std::vector<std::int64_t> dims, unsigned char first = 0) {
    std::vector<unsigned char> b{0, 0, 0x08, static_cast<unsigned char>(dims.size())};
    std::int64_t n = 1;
    for (auto d : dims) {
        for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<unsigned char>((d >> s) & 0xff));
        n *= d;
    }
    for (std::int64_t i = 0; i < n; ++i) b.push_back(static_cast<unsigned char>(first + i));
    return b;
}

struct TempDir {
    TempDir() : path(fs::temp_directory_path() / fs::path("infomax-idx-" + std::to_string(::getpid()))) {
        fs::create_directories(path);
    }
    ~TempDir() { fs::remove_all(path); }
    std::string write(const std::string& name, const std::vector<unsigned char>& b, bool gz = false) {
        const std::string p = (path / name).string();
        if (gz) {
            gzFile f = gzopen(p.c_str(), "wb");
            gzwrite(f, b.data(), static_cast<unsigned>(b.size()));
            gzclose(f);
        } else {
            std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), b.size());
        }
        return p;
    }
    fs::path path;
};

}  // namespace

TEST_CASE("IDX files are read plain and gzipped", "[data][idx]") {
    TempDir d;
    for (bool gz : {false, true}) {
        auto a = data::read_idx(d.write(gz ? "a.gz" : "a", idx_bytes({2, 3, 4}), gz));
        CHECK(a.dims == std::vector<std::int64_t>{2, 3, 4});
        REQUIRE(a.bytes.size() == 24);
        CHECK(a.bytes[23] == 23);
    }
}

TEST_CASE("IDX images and labels become batches in [0, 1]", "[data][idx]") {
    TempDir d;
    const auto ip = d.write("train-images-idx3-ubyte.gz", idx_bytes({3, 2, 2}, 251), true);
    const auto lp = d.write("train-labels-idx1-ubyte", idx_bytes({3}, 7));
    auto ds = data::load_mnist_format(d.path.string(), "train");
    CHECK(ds.count == 3);
    CHECK(ds.height == 2);
    Tensor b = ds.batch({2, 0});
    CHECK(b.shape() == Shape{2, 1, 2, 2});
    CHECK(b.to_vector()[0] == Approx((251 + 8) % 256 / 255.0f));
    CHECK(ds.batch_labels({2, 0}) == std::vector<std::int64_t>{9, 7});
}

TEST_CASE("bad IDX files get errors that name the file and the problem", "[data][idx]") {
    TempDir d;
    auto bad_magic = idx_bytes({2, 2});
    bad_magic[2] = 0x0D;  // float data
    const auto p1 = d.write("magic", bad_magic);
    CHECK_THROWS_WITH(data::read_idx(p1), p1 + ": not an unsigned-byte IDX file: magic bytes are 00 00 0d 02, "
                                                "expected 00 00 08 0N with N from 1 to 4");
    auto trunc = idx_bytes({10, 10});
    trunc.resize(trunc.size() - 7);
    const auto p2 = d.write("trunc.gz", trunc, true);
    CHECK_THROWS_WITH(data::read_idx(p2), p2 + ": truncated: dimensions [10, 10] need 100 bytes of data, found 93");
    const auto p3 = d.write("tiny", {0, 0});
    CHECK_THROWS_WITH(data::read_idx(p3), p3 + ": truncated: the 4-byte IDX header is missing (2 bytes)");
    const auto p4 = (d.path / "missing").string();
    CHECK_THROWS_WITH(data::read_idx(p4), p4 + ": no such file");
    const auto im = d.write("im", idx_bytes({3, 2, 2}));
    const auto lb = d.write("lb", idx_bytes({4}));
    CHECK_THROWS_WITH(data::read_idx_images(im, lb),
                      lb + ": expected 3 labels (one per image in " + im + "), found dimensions [4]");
    CHECK_THROWS_WITH(data::load_mnist_format((d.path / "nowhere").string(), "train"),
                      Catch::Contains("train-images-idx3-ubyte: not found") &&
                          Catch::Contains("apt-get install dataset-fashion-mnist"));
}
