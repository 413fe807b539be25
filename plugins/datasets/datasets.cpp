// Built-in datasets. Images are kept as bytes and converted per batch.
// Splits follow seed 000: the last `validation` images of the training file
// are held out; the test file is the test split.
#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "infomax/data/files.hpp"
#include "infomax/data/idx.hpp"
#include "infomax/plugin/plugin.hpp"
#include "infomax/runtime/error.hpp"

using namespace infomax;
namespace fs = std::filesystem;

namespace {

// Byte images (N, C, H, W) with labels, split into train/validation/test.
class ByteImages : public Dataset {
public:
    Shape sample_shape() const override { return {train_.channels, train_.height, train_.width}; }
    int classes() const override { return classes_; }
    std::int64_t size(const std::string& split) const override {
        if (split == "train") return train_.count - validation_;
        if (split == "validation") return validation_;
        if (split == "test") return test_.count;
        return 0;
    }
    Tensor batch(const std::string& split, const std::vector<std::int64_t>& index) const override {
        return source(split).batch(shifted(split, index));
    }
    std::vector<std::int64_t> labels(const std::string& split, const std::vector<std::int64_t>& index) const override {
        return source(split).batch_labels(shifted(split, index));
    }

protected:
    void set(data::LabeledImages train, data::LabeledImages test, std::int64_t validation, int classes,
             const config::Params& p) {
        if (validation >= train.count)
            p.fail("validation", fmt::format("holds out {} of only {} training images", validation, train.count));
        train_ = std::move(train);
        test_ = std::move(test);
        validation_ = validation;
        classes_ = classes;
    }

private:
    const data::LabeledImages& source(const std::string& split) const {
        if (split == "train" || split == "validation") return train_;
        if (split == "test") return test_;
        throw Error(fmt::format("unknown split '{}' (known: test, train, validation)", split));
    }
    std::vector<std::int64_t> shifted(const std::string& split, std::vector<std::int64_t> index) const {
        const std::int64_t n = size(split), off = split == "validation" ? train_.count - validation_ : 0;
        for (auto& i : index) {
            if (i < 0 || i >= n) throw Error(fmt::format("{} index {} out of range [0, {})", split, i, n));
            i += off;
        }
        return index;
    }
    data::LabeledImages train_, test_;
    std::int64_t validation_ = 0;
    int classes_ = 0;
};

std::string data_root(const char* sub) {
    if (const char* env = std::getenv("INFOMAX_DATA"); env && *env) return (fs::path(env) / sub).string();
    return "";
}

// MNIST-format files: Fashion-MNIST by default (Debian's dataset-fashion-mnist).
class Idx final : public ByteImages {
public:
    Idx(const config::Params& p, BuildContext&) {
        path_ = p.has("path") ? p.string("path") : data::default_fashion_mnist_dir();
        try {
            set(data::load_mnist_format(path_, "train"), data::load_mnist_format(path_, "test"),
                p.integer("validation"), 10, p);
        } catch (const config::SpecError&) {
            throw;
        } catch (const Error& e) {
            p.fail(p.has("path") ? "path" : "", e.what());
        }
    }
    std::string describe() const override { return fmt::format("idx({})", path_); }

private:
    std::string path_;
};

// CIFAR-10 binary batches: data_batch_1..5.bin and test_batch.bin, each record
// one label byte and 3072 bytes of CHW pixels.
data::LabeledImages read_cifar(const std::vector<std::string>& files) {
    data::LabeledImages d;
    d.channels = 3;
    d.height = d.width = 32;
    for (const auto& f : files) {
        std::ifstream in(f, std::ios::binary);
        if (!in) throw Error(fmt::format("{}: not found", f));
        std::string raw((std::istreambuf_iterator<char>(in)), {});
        if (raw.size() % 3073 != 0)
            throw Error(fmt::format("{}: {} bytes is not a whole number of 3073-byte CIFAR-10 records (truncated?)", f,
                                    raw.size()));
        for (std::size_t r = 0; r < raw.size() / 3073; ++r) {
            d.labels.push_back(static_cast<std::uint8_t>(raw[r * 3073]));
            d.pixels.insert(d.pixels.end(), raw.begin() + r * 3073 + 1, raw.begin() + (r + 1) * 3073);
        }
        d.count += static_cast<std::int64_t>(raw.size() / 3073);
    }
    return d;
}

class Cifar10 final : public ByteImages {
public:
    Cifar10(const config::Params& p, BuildContext&) {
        path_ = p.has("path") ? p.string("path") : data_root("cifar-10-batches-bin");
        std::vector<std::string> train;
        for (int i = 1; i <= 5; ++i) train.push_back((fs::path(path_) / fmt::format("data_batch_{}.bin", i)).string());
        if (path_.empty() || !fs::exists(train[0])) {
            const std::string why = fmt::format(
                "CIFAR-10 not found{}: download the binary version (cifar-10-binary.tar.gz), unpack it and set "
                "data.path to its cifar-10-batches-bin folder (or INFOMAX_DATA to the folder above it)",
                path_.empty() ? "" : " in '" + path_ + "'");
            if (p.string("missing") == "error") p.fail(p.has("path") ? "path" : "", why);
            // missing: synthetic — say so loudly, then stand in with random images.
            fmt::print(stderr, "notice: {}.\nnotice: using SYNTHETIC 3x32x32 images instead (data.missing: synthetic); "
                               "accuracies are meaningless.\n", why);
            synthetic_ = true;
            set(random_images(12000, 1), random_images(2000, 2), 2000, 10, p);
            return;
        }
        try {
            set(read_cifar(train), read_cifar({(fs::path(path_) / "test_batch.bin").string()}), p.integer("validation"),
                10, p);
        } catch (const config::SpecError&) {
            throw;
        } catch (const Error& e) {
            p.fail(p.has("path") ? "path" : "", e.what());
        }
    }
    std::string describe() const override {
        return synthetic_ ? "cifar10(missing: synthetic stand-in)" : fmt::format("cifar10({})", path_);
    }

    static data::LabeledImages random_images(std::int64_t n, std::uint64_t seed) {
        data::LabeledImages d;
        d.count = n;
        d.channels = 3;
        d.height = d.width = 32;
        Rng rng(seed, "synthetic images");
        d.pixels.resize(static_cast<std::size_t>(n * 3072));
        for (auto& b : d.pixels) b = static_cast<std::uint8_t>(rng.below(256));
        for (std::int64_t i = 0; i < n; ++i) d.labels.push_back(static_cast<std::uint8_t>(rng.below(10)));
        return d;
    }

private:
    std::string path_;
    bool synthetic_ = false;
};

// Random images of any shape, for timing and tests.
class Synthetic final : public ByteImages {
public:
    Synthetic(const config::Params& p, BuildContext&) {
        const auto s = p.integers("shape");
        const std::int64_t n = p.integer("size"), classes = p.integer("classes");
        auto make = [&](std::int64_t count, const char* stream) {
            data::LabeledImages d;
            d.count = count;
            d.channels = s[0];
            d.height = s[1];
            d.width = s[2];
            Rng rng(static_cast<std::uint64_t>(p.integer("seed")), stream);
            d.pixels.resize(static_cast<std::size_t>(count * s[0] * s[1] * s[2]));
            for (auto& b : d.pixels) b = static_cast<std::uint8_t>(rng.below(256));
            for (std::int64_t i = 0; i < count; ++i) d.labels.push_back(static_cast<std::uint8_t>(rng.below(classes)));
            return d;
        };
        set(make(n, "train"), make(std::max<std::int64_t>(1, n / 5), "test"), p.integer("validation"),
            static_cast<int>(classes), p);
    }
    std::string describe() const override { return "synthetic"; }
};

// Arrays from NPY files: x (N, C, H, W) or (N, H, W), uint8 (scaled to [0, 1])
// or float; optional labels and a separate test set.
class Npy final : public Dataset {
public:
    Npy(const config::Params& p, BuildContext&) {
        load(p, "x", "labels", train_x_, train_y_);
        if (p.has("test_x")) load(p, "test_x", "test_labels", test_x_, test_y_);
        validation_ = p.integer("validation");
        if (validation_ >= train_x_.shape[0])
            p.fail("validation", fmt::format("holds out {} of only {} samples", validation_, train_x_.shape[0]));
        classes_ = 0;
        for (float v : train_y_.values) classes_ = std::max(classes_, static_cast<int>(v) + 1);
    }
    std::string describe() const override { return "npy"; }
    Shape sample_shape() const override {
        Shape s(train_x_.shape.begin() + 1, train_x_.shape.end());
        if (s.size() == 2) s.insert(s.begin(), 1);
        return s;
    }
    int classes() const override { return classes_; }
    std::int64_t size(const std::string& split) const override {
        if (split == "train") return train_x_.shape[0] - validation_;
        if (split == "validation") return validation_;
        if (split == "test") return test_x_.shape.empty() ? 0 : test_x_.shape[0];
        return 0;
    }
    Tensor batch(const std::string& split, const std::vector<std::int64_t>& index) const override {
        const auto& a = split == "test" ? test_x_ : train_x_;
        const std::int64_t per = numel(sample_shape()), off = split == "validation" ? size("train") : 0;
        Shape shape{static_cast<std::int64_t>(index.size())};
        for (auto d : sample_shape()) shape.push_back(d);
        Tensor t = Tensor::empty(shape);
        for (std::size_t r = 0; r < index.size(); ++r) {
            const std::int64_t i = index[r] + off;
            if (index[r] < 0 || index[r] >= size(split))
                throw Error(fmt::format("{} index {} out of range [0, {})", split, index[r], size(split)));
            for (std::int64_t k = 0; k < per; ++k)
                t.data()[r * per + k] = a.is_uint8 ? a.bytes[i * per + k] / 255.0f : a.values[i * per + k];
        }
        return t;
    }
    std::vector<std::int64_t> labels(const std::string& split, const std::vector<std::int64_t>& index) const override {
        const auto& y = split == "test" ? test_y_ : train_y_;
        if (y.values.empty()) return Dataset::labels(split, index);
        const std::int64_t off = split == "validation" ? size("train") : 0;
        std::vector<std::int64_t> out;
        for (auto i : index) out.push_back(static_cast<std::int64_t>(y.values.at(i + off)));
        return out;
    }

private:
    static void load(const config::Params& p, const char* xkey, const char* ykey, data::NpyArray& x, data::NpyArray& y) {
        try {
            x = data::read_npy(p.string(xkey));
        } catch (const Error& e) {
            p.fail(xkey, e.what());
        }
        if (x.shape.size() != 3 && x.shape.size() != 4)
            p.fail(xkey, fmt::format("expected images (N, H, W) or (N, C, H, W), found {} dimensions", x.shape.size()));
        if (!p.has(ykey)) return;
        try {
            y = data::read_npy(p.string(ykey));
        } catch (const Error& e) {
            p.fail(ykey, e.what());
        }
        if (y.shape.size() != 1 || y.shape[0] != x.shape[0])
            p.fail(ykey, fmt::format("expected {} labels, one per image", x.shape[0]));
        if (y.is_uint8) y.values.assign(y.bytes.begin(), y.bytes.end());
    }
    data::NpyArray train_x_, train_y_, test_x_, test_y_;
    std::int64_t validation_ = 0;
    int classes_ = 0;
};

// Correlated Gaussian pairs with known MI: per dimension z = rho x + sqrt(1 -
// rho^2) e, so I(x; z) = -(d/2) log(1 - rho^2) nats; rho is set from `mi`.
class Gaussian final : public Dataset {
public:
    Gaussian(const config::Params& p, BuildContext&)
        : dim_(p.integer("dim")), n_(p.integer("size")), mi_(p.number("mi")) {
        rho_ = std::sqrt(1.0 - std::exp(-2.0 * mi_ / static_cast<double>(dim_)));
        Rng rng(static_cast<std::uint64_t>(p.integer("seed")), "gaussian pairs");
        for (std::int64_t split = 0; split < 2; ++split) {
            const std::int64_t count = split == 0 ? n_ : n_ / 5;
            auto& x = split == 0 ? x_ : tx_;
            auto& z = split == 0 ? z_ : tz_;
            x.resize(count * dim_);
            z.resize(count * dim_);
            for (std::int64_t i = 0; i < count * dim_; ++i) {
                x[i] = rng.normal();
                z[i] = static_cast<float>(rho_ * x[i] + std::sqrt(1 - rho_ * rho_) * rng.normal());
            }
        }
    }
    std::string describe() const override { return fmt::format("gaussian(dim {}, mi {} nats, rho {:.4f})", dim_, mi_, rho_); }
    Shape sample_shape() const override { return {dim_}; }
    std::int64_t size(const std::string& split) const override {
        return split == "train" ? n_ : split == "test" ? n_ / 5 : 0;
    }
    bool paired() const override { return true; }
    Tensor batch(const std::string& split, const std::vector<std::int64_t>& index) const override {
        return gather(split == "test" ? tx_ : x_, split, index);
    }
    Tensor pair(const std::string& split, const std::vector<std::int64_t>& index) const override {
        return gather(split == "test" ? tz_ : z_, split, index);
    }
    // The true I(x; z) in nats.
    double mi() const { return mi_; }

private:
    Tensor gather(const std::vector<float>& v, const std::string& split, const std::vector<std::int64_t>& index) const {
        Tensor t = Tensor::empty({static_cast<std::int64_t>(index.size()), dim_});
        for (std::size_t r = 0; r < index.size(); ++r) {
            if (index[r] < 0 || index[r] >= size(split))
                throw Error(fmt::format("{} index {} out of range [0, {})", split, index[r], size(split)));
            std::copy_n(v.begin() + index[r] * dim_, dim_, t.data() + r * dim_);
        }
        return t;
    }
    std::int64_t dim_, n_;
    double mi_, rho_;
    std::vector<float> x_, z_, tx_, tz_;
};

}  // namespace

INFOMAX_PLUGIN(Dataset, Gaussian, "gaussian", "1.0.0", "correlated Gaussian pairs (x, z) with a known MI in nats",
               R"yaml(type: object
additionalProperties: false
properties:
  dim: {type: integer, minimum: 1, default: 20, description: dimension of x and of z}
  mi: {type: number, minimum: 0, default: 2.0, description: "the true I(x; z) in nats"}
  size: {type: integer, minimum: 2, default: 100000, description: training pairs (test gets a fifth)}
  seed: {type: integer, minimum: 0, default: 0}
)yaml")
INFOMAX_PLUGIN(Dataset, Idx, "idx", "1.0.0", "MNIST-format IDX files, gzipped or not (default: Debian's Fashion-MNIST)",
               R"yaml(type: object
additionalProperties: false
properties:
  path: {type: string, description: "folder of the files (default $INFOMAX_DATA/fashion-mnist, else /usr/share/datasets/fashion-mnist)"}
  validation: {type: integer, minimum: 0, default: 10000, description: last training images held out for validation}
)yaml")
INFOMAX_PLUGIN(Dataset, Cifar10, "cifar10", "1.0.0", "CIFAR-10 binary batches (data_batch_1..5.bin, test_batch.bin)",
               R"yaml(type: object
additionalProperties: false
properties:
  path: {type: string, description: "the cifar-10-batches-bin folder (default $INFOMAX_DATA/cifar-10-batches-bin)"}
  validation: {type: integer, minimum: 0, default: 10000}
  missing: {type: string, enum: [error, synthetic], default: error, description: "when the files are absent: stop, or stand in random images with a notice"}
)yaml")
INFOMAX_PLUGIN(Dataset, Synthetic, "synthetic", "1.0.0", "random byte images of a given shape, for timing and tests",
               R"yaml(type: object
additionalProperties: false
properties:
  shape: {type: array, items: {type: integer, minimum: 1}, minItems: 3, maxItems: 3, default: [1, 28, 28]}
  size: {type: integer, minimum: 2, default: 10000, description: training images (test gets a fifth)}
  classes: {type: integer, minimum: 1, default: 10}
  validation: {type: integer, minimum: 0, default: 0}
  seed: {type: integer, minimum: 0, default: 0}
)yaml")
INFOMAX_PLUGIN(Dataset, Npy, "npy", "1.0.0", "images from NPY arrays (uint8 scaled to [0, 1], or float)",
               R"yaml(type: object
additionalProperties: false
required: [x]
properties:
  x: {type: string, description: "NPY file of training images (N, H, W) or (N, C, H, W)"}
  labels: {type: string, description: NPY file of N integer labels}
  test_x: {type: string}
  test_labels: {type: string}
  validation: {type: integer, minimum: 0, default: 0}
)yaml")
