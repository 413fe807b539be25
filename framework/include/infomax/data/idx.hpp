// The IDX format of MNIST and Fashion-MNIST, gzipped or not, and CIFAR-10's binary batches.
// Images stay as bytes in memory; batch() converts only the rows it needs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "infomax/tensor/tensor.hpp"

namespace infomax::data {

struct IdxArray {
    std::vector<std::int64_t> dims;
    std::vector<std::uint8_t> bytes;
};

// Reads an unsigned-byte IDX file (magic 00 00 08 NDIMS); .gz or plain, detected
// from content. Errors name the file and what is wrong with it.
IdxArray read_idx(const std::string& path);

struct LabeledImages {
    std::int64_t count = 0, channels = 1, height = 0, width = 0;
    std::vector<std::uint8_t> pixels;  // count * channels * height * width
    std::vector<std::uint8_t> labels;  // count
    // Images at `index` as f32 in [0, 1], shape (n, C, H, W).
    Tensor batch(const std::vector<std::int64_t>& index) const;
    std::vector<std::int64_t> batch_labels(const std::vector<std::int64_t>& index) const;
};

LabeledImages read_idx_images(const std::string& images_path, const std::string& labels_path);
// CIFAR-10's binary batches (data_batch_1..5.bin, test_batch.bin): records of
// one label byte (0-9) and 3072 bytes of CHW pixels, concatenated.
LabeledImages read_cifar(const std::vector<std::string>& files);

// $INFOMAX_DATA/fashion-mnist if INFOMAX_DATA is set, else Debian's
// dataset-fashion-mnist location, /usr/share/datasets/fashion-mnist.
std::string default_fashion_mnist_dir();
// split: "train" (60k) or "test" (10k); files with or without .gz.
LabeledImages load_mnist_format(const std::string& dir, const std::string& split);

}  // namespace infomax::data
