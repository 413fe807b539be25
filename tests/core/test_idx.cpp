// The IDX reader: plain and gzipped files, and the errors for bad ones.
#include <catch2/catch.hpp>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "infomax/data/files.hpp"
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
    const auto p2_plain = d.write("trunc-plain", trunc);  // known from the file's size before reading
    CHECK_THROWS_WITH(data::read_idx(p2_plain), p2_plain + ": truncated: dimensions [10, 10] need 100 bytes of data, found 93");
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

// Headers that lie about their size: refused before anything is allocated
// (a header claiming 2^31 images used to end in bad_alloc, a safetensors shape
// in signed overflow).
TEST_CASE("a header claiming more data than its file holds is an error, not an allocation", "[data][idx][faults]") {
    TempDir d;
    std::vector<unsigned char> huge{0, 0, 0x08, 3, 0x80, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0, 28};  // 2^31 images of 28x28
    const auto p1 = d.write("huge.gz", huge, true);
    CHECK_THROWS_WITH(data::read_idx(p1), p1 + ": truncated: dimensions [2147483648, 28, 28] need 1683627180032 bytes "
                                               "of data, found 0");
    std::vector<unsigned char> impossible{0, 0, 0x08, 4};
    for (int i = 0; i < 16; ++i) impossible.push_back(0xff);
    const auto p2 = d.write("impossible", impossible);
    CHECK_THROWS_WITH(data::read_idx(p2), p2 + ": dimensions [4294967295, 4294967295] declare more bytes than any file "
                                               "holds: the header is damaged");
    // CIFAR-10: whole records with labels 0-9.
    std::vector<unsigned char> record(3073, 0);
    record[0] = 10;
    const auto p3 = d.write("data_batch_1.bin", record);
    CHECK_THROWS_WITH(data::read_cifar({p3}), p3 + ": record 0 has label 10; CIFAR-10 labels are 0 to 9 (not a CIFAR-10 file?)");
    const auto p4 = d.write("empty.bin", {});
    CHECK_THROWS_WITH(data::read_cifar({p4}),
                      p4 + ": 0 bytes is not a whole number of 3073-byte CIFAR-10 records (truncated?)");
}

TEST_CASE("safetensors and NPY headers are checked before anything is allocated", "[data][faults]") {
    TempDir d;
    auto safetensors = [&](const std::string& name, std::string header) {
        while (header.size() % 8) header += ' ';
        std::vector<unsigned char> b(8, 0);
        for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>((header.size() >> (8 * i)) & 0xff);
        b.insert(b.end(), header.begin(), header.end());
        b.resize(b.size() + 16, 0);
        return d.write(name, b);
    };
    const auto p1 = safetensors("overflow.safetensors",
                                R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,4],"data_offsets":[0,16]}})");
    CHECK_THROWS_WITH(data::read_safetensors(p1),
                      p1 + ": tensor 'w': shape [4294967296, 4294967296, 4] is impossible (a negative dimension, or more "
                           "elements than the file can hold): the file is damaged");
    const auto p2 = safetensors("negative.safetensors", R"({"w":{"dtype":"F32","shape":[-4,-1],"data_offsets":[0,16]}})");
    CHECK_THROWS_WITH(data::read_safetensors(p2), Catch::Contains("shape [-4, -1] is impossible"));
    const auto p3 = safetensors("types.safetensors", R"({"w":{"dtype":"F32","shape":"4","data_offsets":[0,16]}})");
    CHECK_THROWS_WITH(data::read_safetensors(p3), p3 + ": tensor 'w': shape and data_offsets must be lists of whole "
                                                     "numbers (found \"4\" and [0,16]): the file is damaged");
    // A fraction where a whole number belongs (fuzzing found 0.2E24: converted to size_t, undefined behaviour).
    const auto p3f = safetensors("fraction.safetensors", R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0.5,8]}})");
    CHECK_THROWS_WITH(data::read_safetensors(p3f), Catch::Contains("(found [2] and [0.5,8]): the file is damaged"));
    const auto p4 = safetensors("meta.safetensors", R"({"__metadata__":{"step":3}})");
    CHECK_THROWS_WITH(data::read_safetensors(p4), Catch::StartsWith(p4 + ": corrupt safetensors header: [json.exception.type_error"));
    const auto p5 = safetensors("array.safetensors", "[1,2]");
    CHECK_THROWS_WITH(data::read_safetensors(p5), p5 + ": corrupt safetensors header: not a JSON object");
    // NPY: a dimension no integer holds, and a shape larger than the data.
    auto npy = [&](const std::string& name, const std::string& header) {
        std::vector<unsigned char> b{0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, static_cast<unsigned char>(header.size()), 0};
        b.insert(b.end(), header.begin(), header.end());
        b.resize(b.size() + 8, 0);
        return d.write(name, b);
    };
    const auto p6 = npy("big.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }");
    CHECK_THROWS_WITH(data::read_npy(p6), p6 + ": NPY shape (99999999999999999999,) has a dimension too large for any file");
    const auto p7 = npy("wide.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (3037000500, 3037000500), }");
    CHECK_THROWS_WITH(data::read_npy(p7), Catch::Contains("shape [3037000500, 3037000500] is impossible"));
    const auto p8 = npy("short.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }");
    CHECK_THROWS_WITH(data::read_npy(p8), p8 + ": truncated: shape (5,) of <f8 needs 40 bytes of data, found 8");
    // A version-2 header of 60 000 bytes: refused by its length, before any
    // regex reads it (libstdc++'s recurses per character).
    std::string huge = "{'descr': '" + std::string(60000, 'f') + "', }";
    std::vector<unsigned char> b{0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0};
    for (int i = 0; i < 4; ++i) b.push_back(static_cast<unsigned char>(huge.size() >> (8 * i)));
    b.insert(b.end(), huge.begin(), huge.end());
    const auto p9 = d.write("huge.npy", b);
    CHECK_THROWS_WITH(data::read_npy(p9), p9 + ": NPY header of 60015 bytes; at most 10000 are read (numpy's own limit)");
}
