// Built-in datasets. Images are kept as bytes and converted per batch.
// Splits follow the TensorFlow reference: the last `validation` images of the training file
// are held out; the test file is the test split.
#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>

#include "infomax/data/files.hpp"
#include "infomax/data/idx.hpp"
#include "infomax/plugin/plugin.hpp"
#include "infomax/runtime/console.hpp"
#include "infomax/runtime/error.hpp"
#include "vector_pairs.hpp"

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
    // classes 0: as many as the labels say (the largest + 1: EMNIST letters
    // are 1 to 26); else a label at or past it is refused, naming the split.
    void set(data::LabeledImages train, data::LabeledImages test, std::int64_t validation, int classes,
             const config::Params& p, const char* key = "") {
        if (validation >= train.count)
            p.fail("validation", fmt::format("holds out {} of only {} training images", validation, train.count));
        if (classes == 0) {
            for (const auto* d : {&train, &test})
                for (auto l : d->labels) classes = std::max(classes, int(l) + 1);
        } else {
            for (const auto& [name, d] : {std::pair{"training", &train}, std::pair{"test", &test}})
                for (std::size_t i = 0; i < d->labels.size(); ++i)
                    if (d->labels[i] >= classes)
                        p.fail(key, fmt::format("the {} labels hold {} at index {}, past the {} classes of this dataset: "
                                                "the file is damaged",
                                                name, int(d->labels[i]), i, classes));
        }
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
                p.integer("validation"), 0, p);
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

class Cifar10 final : public ByteImages {
public:
    Cifar10(const config::Params& p, BuildContext&) {
        path_ = p.has("path") ? p.string("path") : data_root("cifar-10-batches-bin");
        std::vector<std::string> train;
        for (int i = 1; i <= 5; ++i) train.push_back((fs::path(path_) / fmt::format("data_batch_{}.bin", i)).string());
        if (path_.empty() || !fs::exists(train[0])) {
            const std::string why = fmt::format(
                "CIFAR-10 not found{}: download its binary version, "
                "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz (162 MB, md5 "
                "c32a1d4ab5d03f1284b67883e8d87530), unpack it (tar xzf) and set data.path to its "
                "cifar-10-batches-bin folder, or INFOMAX_DATA to the folder above that",
                path_.empty() ? " ($INFOMAX_DATA is not set)" : " in '" + path_ + "'");
            if (p.string("missing") == "error")
                p.fail(p.has("path") ? "path" : "",
                       why + "; for a smoke test without it, data.missing=synthetic stands in random images");
            // missing: synthetic, asked for in the spec: said as a warning, then random images stand in.
            console::warn(fmt::format("warning: {}.\nwarning: using SYNTHETIC 3x32x32 images instead (data.missing: "
                                      "synthetic); accuracies are meaningless.",
                                      why));
            synthetic_ = true;
            set(random_images(12000, 1), random_images(2000, 2), 2000, 10, p);
            return;
        }
        try {
            set(data::read_cifar(train), data::read_cifar({(fs::path(path_) / "test_batch.bin").string()}), p.integer("validation"),
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
// or float; optional labels and a separate test set. With z (and test_z) the
// data is paired for MI estimation: x and z of any shape (vectors or images),
// one row per sample, and optionally the true MI when the user knows it.
class Npy final : public Dataset {
public:
    Npy(const config::Params& p, BuildContext&) : paired_(p.has("z")) {
        load(p, "x", "labels", train_x_, train_y_);
        if (p.has("test_x")) load(p, "test_x", "test_labels", test_x_, test_y_);
        if (paired_) {
            load_z(p, "z", train_x_, train_z_);
            if (p.has("test_x") != p.has("test_z")) p.fail(p.has("test_x") ? "test_x" : "test_z", "give both test_x and test_z, or neither");
            if (p.has("test_z")) load_z(p, "test_z", test_x_, test_z_);
        } else if (p.has("test_z")) {
            p.fail("test_z", "test_z needs z (the training pairs) too");
        }
        if (p.has("true_mi")) {
            if (!paired_) p.fail("true_mi", "true_mi describes paired data: give z too");
            true_mi_ = p.number("true_mi");
        }
        validation_ = p.integer("validation");
        if (validation_ >= train_x_.shape[0])
            p.fail("validation", fmt::format("holds out {} of only {} samples", validation_, train_x_.shape[0]));
        classes_ = 0;  // as many as the labels say, test labels included
        for (const auto* y : {&train_y_, &test_y_})
            for (float v : y->values) classes_ = std::max(classes_, static_cast<int>(v) + 1);
        if (paired_ && p.has("test_z") && per_sample(test_z_) != per_sample(train_z_))
            p.fail("test_z", fmt::format("test_z's rows are {}, z's are {}: both must have one shape",
                                         to_string(per_sample(test_z_)), to_string(per_sample(train_z_))));
        if (p.has("test_x") && per_sample(test_x_) != per_sample(train_x_))
            p.fail("test_x", fmt::format("test_x's samples are {}, x's are {}: both must have one shape",
                                         to_string(per_sample(test_x_)), to_string(per_sample(train_x_))));
    }
    std::string describe() const override { return paired_ ? "npy(paired x, z)" : "npy"; }
    Shape sample_shape() const override { return per_sample(train_x_); }
    bool paired() const override { return paired_; }
    double true_mi(const std::string&, std::int64_t) const override { return true_mi_; }
    Tensor pair(const std::string& split, const std::vector<std::int64_t>& index) const override {
        if (!paired_) return Dataset::pair(split, index);
        return rows(split == "test" ? test_z_ : train_z_, split, index);
    }
    int classes() const override { return classes_; }
    std::int64_t size(const std::string& split) const override {
        if (split == "train") return train_x_.shape[0] - validation_;
        if (split == "validation") return validation_;
        if (split == "test") return test_x_.shape.empty() ? 0 : test_x_.shape[0];
        return 0;
    }
    Tensor batch(const std::string& split, const std::vector<std::int64_t>& index) const override {
        return rows(split == "test" ? test_x_ : train_x_, split, index);
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
    // (N, H, W) images get a channel; vectors (N, D) and (N, C, H, W) stay.
    static Shape per_sample(const data::NpyArray& a) {
        Shape s(a.shape.begin() + 1, a.shape.end());
        if (s.size() == 2) s.insert(s.begin(), 1);
        return s;
    }
    Tensor rows(const data::NpyArray& a, const std::string& split, const std::vector<std::int64_t>& index) const {
        const Shape sample = per_sample(a);
        const std::int64_t per = numel(sample), off = split == "validation" ? size("train") : 0;
        Shape shape{static_cast<std::int64_t>(index.size())};
        for (auto d : sample) shape.push_back(d);
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
    static void load(const config::Params& p, const char* xkey, const char* ykey, data::NpyArray& x, data::NpyArray& y) {
        try {
            x = data::read_npy(p.string(xkey));
        } catch (const Error& e) {
            p.fail(xkey, e.what());
        }
        if (x.shape.size() < 2 || (!p.has("z") && x.shape.size() != 3 && x.shape.size() != 4))
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
        // Labels are class numbers: 0, 1, 2, ... (a probe has one output each).
        for (std::size_t i = 0; i < y.values.size(); ++i) {
            const float v = y.values[i];
            if (!(v >= 0) || v != std::floor(v) || v >= 1e6f)
                p.fail(ykey, fmt::format("{}: label {} is {}; labels are class numbers 0, 1, 2, ... (whole, not "
                                         "negative, below 1 000 000): {}",
                                         p.string(ykey), i, v,
                                         v < 0 ? "shift them to start at 0" : v != std::floor(v) ? "write whole numbers, not fractions" : "renumber the classes"));
        }
    }
    static void load_z(const config::Params& p, const char* key, const data::NpyArray& x, data::NpyArray& z) {
        try {
            z = data::read_npy(p.string(key));
        } catch (const Error& e) {
            p.fail(key, e.what());
        }
        if (z.shape.size() < 2 || z.shape[0] != x.shape[0])
            p.fail(key, fmt::format("expected {} rows (one per x) of at least one value, found shape {}", x.shape[0],
                                    to_string(Shape(z.shape.begin(), z.shape.end()))));
    }
    bool paired_;
    double true_mi_ = std::numeric_limits<double>::quiet_NaN();
    data::NpyArray train_x_, train_y_, test_x_, test_y_, train_z_, test_z_;
    std::int64_t validation_ = 0;
    int classes_ = 0;
};

using datasets_detail::VectorPairs;

// Correlated Gaussian pairs with known MI: per dimension z = rho x + sqrt(1 -
// rho^2) e, so I(x; z) = -(d/2) log(1 - rho^2) nats; rho is set from the MI.
// A list of MI levels is a staircase (the standard benchmark: 2, 4, 6, 8, 10
// nats, steps_per_level steps each, fresh samples every step). cubic maps z to
// z^3, which leaves the MI unchanged.
class Gaussian final : public VectorPairs {
public:
    Gaussian(const config::Params& p, BuildContext& c) : cubic_(p.boolean("cubic")) {
        const bool staircase = p.is_list("mi");
        if (staircase) {
            levels_ = p.numbers("mi");
            if (levels_.empty()) p.fail("mi", "give at least one MI level");
        } else {
            levels_.push_back(p.number("mi"));
        }
        for (std::size_t i = 0; i < levels_.size(); ++i)
            if (levels_[i] < 0) (staircase ? p.item("mi", i) : p).fail(staircase ? "" : "mi", "an MI is at least 0 nats");
        const std::int64_t size = p.integer("size");
        if (size > 0 && levels_.size() > 1)
            p.fail("size", "a staircase of MI levels draws fresh samples: set size: 0 (streamed)");
        dim_ = p.integer("dim");
        steps_per_level_ = p.integer("steps_per_level");
        per_level_ = steps_per_level_ * std::max<std::int64_t>(c.batch_size, 1);
        init(dim_, dim_, size, per_level_ * static_cast<std::int64_t>(levels_.size()),
             20 * std::max<std::int64_t>(c.batch_size, 1), static_cast<std::uint64_t>(p.integer("seed")), "gaussian pairs");
    }
    std::string describe() const override {
        return fmt::format("gaussian(dim {}, mi {} nats{}{})", dim_, fmt::join(levels_, "/"),
                           levels_.size() > 1 ? fmt::format(", {} steps per level", steps_per_level_) : "",
                           cubic_ ? ", cubic" : "");
    }
    double true_mi(const std::string& split, std::int64_t index) const override { return levels_[level(split, index)]; }
    // rho of one dimension for a total MI of `mi` nats over `dim` dimensions.
    static double rho_for(double mi, std::int64_t dim) { return std::sqrt(1.0 - std::exp(-2.0 * mi / double(dim))); }

protected:
    void draw(const std::string& split, std::int64_t index, Rng& rng, float* x, float* z) const override {
        const double rho = rho_for(levels_[level(split, index)], dim_), s = std::sqrt(1 - rho * rho);
        for (std::int64_t k = 0; k < dim_; ++k) {
            x[k] = rng.normal();
            const float e = rng.normal();
            const float v = static_cast<float>(rho * x[k] + s * e);
            z[k] = cubic_ ? v * v * v : v;
        }
    }

private:
    std::size_t level(const std::string& split, std::int64_t index) const {
        if (split == "test" || streamed() == false) return levels_.size() - 1;
        return static_cast<std::size_t>(std::min<std::int64_t>(index / per_level_, std::int64_t(levels_.size()) - 1));
    }
    bool cubic_;
    std::vector<double> levels_;
    std::int64_t dim_ = 0, steps_per_level_ = 0, per_level_ = 0;
};

// The MINE/NWJ library's static case: x and z independent and uniform on [0, 1] (true MI
// 0), a fixed dataset trained for epochs. What an estimator reports above 0
// is its bias (or overfitting).
class UniformPairs final : public VectorPairs {
public:
    UniformPairs(const config::Params& p, BuildContext&) {
        init(p.integer("dim_x"), p.integer("dim_z"), p.integer("size"), 0, 0, static_cast<std::uint64_t>(p.integer("seed")),
             "uniform pairs");
    }
    std::string describe() const override {
        return fmt::format("uniform_pairs(x {}, z {}, independent)", dim_x_, dim_z_);
    }
    double true_mi(const std::string&, std::int64_t) const override { return 0.0; }

protected:
    void draw(const std::string&, std::int64_t, Rng& rng, float* x, float* z) const override {
        for (std::int64_t k = 0; k < dim_x_; ++k) x[k] = rng.uniform();
        for (std::int64_t k = 0; k < dim_z_; ++k) z[k] = rng.uniform();
    }
};

// The 25-Gaussians GAN target (the MINE/NWJ library): a side x side grid of modes,
// `spacing` apart and centred on 0, each with standard deviation `std`.
// Streamed: every sample is fresh.
class GaussianGrid final : public Dataset {
public:
    GaussianGrid(const config::Params& p, BuildContext&)
        : side_(p.integer("side")), spacing_(p.number("spacing")), std_(p.number("std")),
          key_(Rng(static_cast<std::uint64_t>(p.integer("seed")), "gaussian grid").next_u64()) {}
    std::string describe() const override {
        return fmt::format("gaussian_grid({}x{} modes, spacing {}, std {})", side_, side_, spacing_, std_);
    }
    Shape sample_shape() const override { return {2}; }
    bool streamed() const override { return true; }
    std::int64_t size(const std::string& split) const override {
        return split == "train" ? (std::int64_t{1} << 40) : split == "test" ? 10000 : 0;
    }
    Tensor batch(const std::string& split, const std::vector<std::int64_t>& index) const override {
        Tensor t = Tensor::empty({static_cast<std::int64_t>(index.size()), 2});
        const double c = (side_ - 1) / 2.0;
        for (std::size_t r = 0; r < index.size(); ++r) {
            Rng rng(mix64(key_ + (split == "test" ? 1 : 0)) + static_cast<std::uint64_t>(index[r]));
            const auto m = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(side_ * side_)));
            t.data()[2 * r] = static_cast<float>((double(m % side_) - c) * spacing_ + std_ * rng.normal());
            t.data()[2 * r + 1] = static_cast<float>((double(m / side_) - c) * spacing_ + std_ * rng.normal());
        }
        return t;
    }
    Tensor mode_centers() const override {
        Tensor t = Tensor::empty({side_ * side_, 2});
        const double c = (side_ - 1) / 2.0;
        for (std::int64_t m = 0; m < side_ * side_; ++m) {
            t.data()[2 * m] = static_cast<float>((double(m % side_) - c) * spacing_);
            t.data()[2 * m + 1] = static_cast<float>((double(m / side_) - c) * spacing_);
        }
        return t;
    }
    double mode_std() const override { return std_; }

private:
    std::int64_t side_;
    double spacing_, std_;
    std::uint64_t key_;
};

}  // namespace

INFOMAX_PLUGIN(Dataset, Gaussian, "gaussian", "2.0.0",
               "correlated Gaussian pairs (x, z) with a known MI in nats; a list of levels is a staircase",
               R"yaml(type: object
additionalProperties: false
properties:
  dim: {type: integer, minimum: 1, default: 20, description: dimension of x and of z}
  mi:
    type: [number, array]
    items: {type: number, minimum: 0}
    minimum: 0
    default: 2.0
    description: "the true I(x; z) in nats, or a list of levels (a staircase: steps_per_level steps each, in order)"
  steps_per_level: {type: integer, minimum: 1, default: 4000, description: training steps at each MI level of a staircase}
  cubic: {type: boolean, default: false, description: "z -> z^3 (same MI, a harder critic problem)"}
  size: {type: integer, minimum: 0, default: 0, description: "0: fresh samples every step (streamed); N: a fixed set of N training pairs trained for epochs (test gets a fifth)"}
  seed: {type: integer, minimum: 0, default: 0}
)yaml")
INFOMAX_PLUGIN(Dataset, UniformPairs, "uniform_pairs", "1.0.0",
               "independent uniform x and z, true MI 0: the MINE/NWJ library's static case, a fixed set trained for epochs",
               R"yaml(type: object
additionalProperties: false
properties:
  dim_x: {type: integer, minimum: 1, default: 10}
  dim_z: {type: integer, minimum: 1, default: 15}
  size: {type: integer, minimum: 2, default: 100000, description: training pairs (test gets a fifth)}
  seed: {type: integer, minimum: 0, default: 0}
)yaml")
INFOMAX_PLUGIN(Dataset, GaussianGrid, "gaussian_grid", "1.0.0",
               "a grid of 2-D Gaussian modes (the 25-Gaussians GAN target of the MINE/NWJ library), fresh samples every step",
               R"yaml(type: object
additionalProperties: false
properties:
  side: {type: integer, minimum: 1, default: 5, description: modes per side (side x side modes)}
  spacing: {type: number, exclusiveMinimum: 0, default: 2.0, description: distance between neighbouring modes}
  std: {type: number, exclusiveMinimum: 0, default: 0.05, description: standard deviation of each mode}
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
  missing: {type: string, enum: [error, synthetic], default: error, description: "when the files are absent: stop with where to get them, or (opt-in, for smoke tests) stand in random images with a warning"}
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
  x: {type: string, description: "NPY file of training images (N, H, W) or (N, C, H, W); with z, any (N, ...) array"}
  labels: {type: string, description: NPY file of N integer labels}
  test_x: {type: string}
  test_labels: {type: string}
  z: {type: string, description: "NPY file of the second variable, one row per x: the data becomes paired (x, z) for mi_estimation"}
  test_z: {type: string}
  true_mi: {type: number, description: "the true I(x; z) in nats, when known: reported beside the estimates"}
  validation: {type: integer, minimum: 0, default: 0}
)yaml")
