// VectorPairs: the base of the datasets of paired vectors (x, z) drawn per index
// from a seeded generator, shared by the built-in datasets (datasets.cpp) and the
// bmi benchmark tasks (bmi_tasks.cpp).
#pragma once

#include <cmath>

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "infomax/eval/sample_mi.hpp"
#include "infomax/plugin/parts.hpp"
#include "infomax/runtime/error.hpp"
#include "infomax/tensor/random.hpp"

namespace infomax::datasets_detail {

// Pairs of vectors, either drawn fresh from their index (streamed) or held in
// memory (a fixed dataset trained for epochs, the MINE/NWJ library's static case).
class VectorPairs : public Dataset {
public:
    Shape sample_shape() const override { return {dim_x_}; }
    bool paired() const override { return true; }
    bool streamed() const override { return fixed_ == 0; }
    std::int64_t size(const std::string& split) const override {
        if (split == "train") return fixed_ ? fixed_ : stream_size_;
        if (split == "test") return fixed_ ? fixed_test_ : stream_test_;
        return 0;
    }
    Tensor batch(const std::string& split, const std::vector<std::int64_t>& index) const override {
        return gather(split, index, false);
    }
    Tensor pair(const std::string& split, const std::vector<std::int64_t>& index) const override {
        return gather(split, index, true);
    }

protected:
    // Writes sample `index` of `split` (x: dim_x values, z: dim_z values).
    virtual void draw(const std::string& split, std::int64_t index, Rng& rng, float* x, float* z) const = 0;

    // `fixed` > 0 holds that many training pairs in memory, and `fixed_test` test pairs (by
    // default, when negative, a fifth of `fixed` and at least 2); `fixed` 0 streams
    // `stream_size` training and `stream_test` test pairs. `name` names the random stream:
    // datasets built with the same name and seed draw sample i from the same generator state.
    void init(std::int64_t dim_x, std::int64_t dim_z, std::int64_t fixed, std::int64_t stream_size,
              std::int64_t stream_test, std::uint64_t seed, const char* name, std::int64_t fixed_test = -1) {
        dim_x_ = dim_x;
        dim_z_ = dim_z;
        fixed_ = fixed;
        fixed_test_ = fixed_test >= 0 ? fixed_test : std::max<std::int64_t>(2, fixed / 5);
        stream_size_ = stream_size;
        stream_test_ = stream_test;
        key_ = mix64(seed) ^ Rng(seed, name).next_u64();
        if (!fixed_) return;
        for (const char* split : {"train", "test"}) {
            auto& [x, z] = store_[split];
            const std::int64_t n = size(split);
            x.resize(n * dim_x_);
            z.resize(n * dim_z_);
            for (std::int64_t i = 0; i < n; ++i) {
                Rng rng = sample_rng(split, i);
                draw(split, i, rng, x.data() + i * dim_x_, z.data() + i * dim_z_);
            }
        }
    }
    std::int64_t dim_x_ = 0, dim_z_ = 0;

    // A fixed set's columns (each of x and z) to mean 0 and standard deviation
    // 1 by the training split's statistics, applied to both splits (in double,
    // rounded once). An affine map of each column: the MI does not change.
    void standardize() {
        for (bool z_side : {false, true}) {
            const std::int64_t d = z_side ? dim_z_ : dim_x_;
            auto& train = z_side ? store_.at("train").second : store_.at("train").first;
            auto& test = z_side ? store_.at("test").second : store_.at("test").first;
            eval::standardize_columns(train.data(), static_cast<std::int64_t>(train.size()) / d, d, test.data(),
                                      static_cast<std::int64_t>(test.size()) / d);
        }
    }

private:
    Rng sample_rng(const std::string& split, std::int64_t i) const {
        return Rng(mix64(key_ + (split == "test" ? 0x5DEECE66Dull << 20 : 0)) + static_cast<std::uint64_t>(i));
    }
    Tensor gather(const std::string& split, const std::vector<std::int64_t>& index, bool z_side) const {
        const std::int64_t d = z_side ? dim_z_ : dim_x_, n = size(split);
        if (n == 0) throw Error(fmt::format("{} has no {} split", describe(), split));
        Tensor t = Tensor::empty({static_cast<std::int64_t>(index.size()), d});
        std::vector<float> x(dim_x_), z(dim_z_);
        for (std::size_t r = 0; r < index.size(); ++r) {
            const std::int64_t i = index[r];
            if (i < 0 || i >= n) throw Error(fmt::format("{} index {} out of range [0, {})", split, i, n));
            if (fixed_) {
                const auto& v = z_side ? store_.at(split).second : store_.at(split).first;
                std::copy_n(v.begin() + i * d, d, t.data() + r * d);
                continue;
            }
            Rng rng = sample_rng(split, i);
            draw(split, i, rng, x.data(), z.data());
            std::copy_n((z_side ? z : x).begin(), d, t.data() + r * d);
        }
        return t;
    }
    std::int64_t fixed_ = 0, fixed_test_ = 0, stream_size_ = 0, stream_test_ = 0;
    std::uint64_t key_ = 0;
    std::map<std::string, std::pair<std::vector<float>, std::vector<float>>> store_;
};

}  // namespace infomax::datasets_detail
