// Probes: separable blobs are learned, shuffled labels are not, results repeat
// for a seed, bad inputs are named, and Fashion-MNIST pixels reach the
// accuracy of a reference logistic regression.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "infomax/data/idx.hpp"
#include "infomax/eval/probes.hpp"
#include "infomax/runtime/error.hpp"
#include "infomax/tensor/random.hpp"

using namespace infomax;
using eval::ProbeOptions;
using eval::Split;

namespace {

// n points in d dimensions around `classes` random centres (scale `spread`),
// unit Gaussian noise; label i % classes. Centres come from their own stream,
// so train and test share them while drawing different points.
Split blobs(std::int64_t n, std::int64_t d, int classes, float spread, std::uint64_t points_seed) {
    Rng centre_rng(11, "centres");
    std::vector<float> centres(static_cast<std::size_t>(classes * d));
    for (auto& c : centres) c = spread * centre_rng.normal();
    Rng rng(points_seed, "points");
    Split s;
    std::vector<float> x(static_cast<std::size_t>(n * d));
    for (std::int64_t i = 0; i < n; ++i) {
        const std::int64_t c = i % classes;
        s.y.push_back(c);
        for (std::int64_t j = 0; j < d; ++j) x[i * d + j] = centres[c * d + j] + rng.normal();
    }
    s.x = Tensor::from({n, d}, x);
    return s;
}

Split from_images(const data::LabeledImages& images, std::int64_t count) {
    std::vector<std::int64_t> idx(static_cast<std::size_t>(count));
    std::iota(idx.begin(), idx.end(), 0);
    return {images.batch(idx).view({count, images.height * images.width}), images.batch_labels(idx)};
}

}  // namespace

TEST_CASE("probes learn well separated blobs", "[eval]") {
    // 1537 = 6 * 256 + 1: the mlp must merge the single-row last batch (batchnorm).
    const Split train = blobs(1537, 10, 3, 3.0f, 1), test = blobs(600, 10, 3, 3.0f, 2);
    for (const auto& r : {eval::linear_probe(train, test, 3), eval::mlp_probe(train, test, 3),
                          eval::knn_probe(train, test, 3)}) {
        fmt::print("blobs {}: train {:.4f} test {:.4f} in {:.3f} s\n", r.name, r.train_accuracy, r.test_accuracy,
                   r.seconds);
        CHECK(r.test_accuracy >= 0.95);
        CHECK(r.train_accuracy >= 0.95);
        CHECK(r.seconds > 0);
    }
}

TEST_CASE("linear probe stays near chance on shuffled labels", "[eval]") {
    // Both splits shuffled: with train labels alone shuffled, each blob would
    // still map to one class and test accuracy would land on 0, 1/3, 2/3 or 1
    // by luck. Here the features say nothing about any label: ~1/3 expected.
    Split train = blobs(1500, 10, 3, 3.0f, 1), test = blobs(600, 10, 3, 3.0f, 2);
    Rng rng(5, "shuffle");
    for (auto* s : {&train, &test})
        for (std::size_t i = s->y.size() - 1; i > 0; --i) std::swap(s->y[i], s->y[rng.below(i + 1)]);
    const auto r = eval::linear_probe(train, test, 3);
    fmt::print("blobs, shuffled labels: linear train {:.4f} test {:.4f}\n", r.train_accuracy, r.test_accuracy);
    CHECK(r.test_accuracy < 0.5);
}

TEST_CASE("probes repeat bit for bit for a seed", "[eval]") {
    // Overlapping blobs: accuracies well below 1, so any difference shows.
    const Split train = blobs(1000, 10, 3, 0.6f, 3), test = blobs(500, 10, 3, 0.6f, 4);
    const ProbeOptions opt{.epochs = 5, .seed = 9, .hidden = 32, .k = 7};
    using Probe = eval::ProbeResult (*)(const Split&, const Split&, int, const ProbeOptions&);
    for (Probe p : {Probe(eval::linear_probe), Probe(eval::mlp_probe), Probe(eval::knn_probe)}) {
        const auto a = p(train, test, 3, opt), b = p(train, test, 3, opt);
        INFO(a.name);
        CHECK(a.test_accuracy < 0.95);
        CHECK(a.train_accuracy == b.train_accuracy);
        CHECK(a.test_accuracy == b.test_accuracy);
    }
}

TEST_CASE("knn votes by majority, ties to the nearest neighbour", "[eval]") {
    // Symmetric points: standardising keeps their angles.
    const Split train{Tensor::from({4, 2}, {1, 0, 0, 1, -1, 0, 0, -1}), {0, 1, 1, 0}};
    // Query 0 is nearest to (1, 0) (class 0), query 1 to (0, 1) (class 1); with
    // k = 2 each sees one neighbour of each class.
    const Split test{Tensor::from({2, 2}, {1, 0.5f, 0.5f, 1}), {0, 1}};
    auto r = eval::knn_probe(train, test, 2, {.k = 2});
    CHECK(r.name == "knn");
    CHECK(r.test_accuracy == 1.0);
    // Leave-one-out: each row's two nearest others sit at similarity 0 and
    // tie; the lower index is nearer. Rows 2 and 3 get their class, 0 and 1 do
    // not (counting a row as its own neighbour would give 1.0).
    CHECK(r.train_accuracy == 0.5);
    // k above the train size uses every row: a 2-2 vote, again settled by the nearest.
    r = eval::knn_probe(train, test, 2, {.k = 100});
    CHECK(r.test_accuracy == 1.0);
}

TEST_CASE("probes name bad inputs", "[eval]") {
    const Split train = blobs(100, 10, 3, 3.0f, 1), test = blobs(30, 10, 3, 3.0f, 2);
    Split short_labels = train;
    short_labels.y.pop_back();
    CHECK_THROWS_AS(eval::linear_probe(short_labels, test, 3), Error);
    CHECK_THROWS_WITH(eval::linear_probe(short_labels, test, 3), "linear probe: 100 train features but 99 labels");
    Split short_test = test;
    short_test.y.pop_back();
    CHECK_THROWS_WITH(eval::mlp_probe(train, short_test, 3), "mlp probe: 30 test features but 29 labels");

    Split bad_label = train;
    bad_label.y[7] = 3;
    CHECK_THROWS_WITH(eval::knn_probe(bad_label, test, 3), "knn probe: train label 3 at row 7 is outside [0, 3)");
    Split negative = test;
    negative.y[2] = -1;
    CHECK_THROWS_WITH(eval::linear_probe(train, negative, 3), "linear probe: test label -1 at row 2 is outside [0, 3)");

    const Split narrow = blobs(30, 9, 3, 3.0f, 2);
    CHECK_THROWS_WITH(eval::linear_probe(train, narrow, 3),
                      "linear probe: train features have 10 dimensions but test features have 9");
    const Split cube{Tensor::zeros({4, 2, 5}), {0, 1, 2, 0}};
    CHECK_THROWS_WITH(eval::mlp_probe(cube, test, 3), "mlp probe: train features must be 2-D (N, D), got [4, 2, 5]");
    const Split empty{Tensor::zeros({0, 10}), {}};
    CHECK_THROWS_WITH(eval::knn_probe(train, empty, 3), "knn probe: the test split is empty");
    Split nan = train;
    nan.x = train.x.clone();
    nan.x.data()[1 * 10 + 2] = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_WITH(eval::linear_probe(nan, test, 3), "linear probe: train features hold nan at row 1, column 2");
    CHECK_THROWS_WITH(eval::linear_probe(train, test, 1), "linear probe: classes = 1 must be at least 2");

    CHECK_THROWS_WITH(eval::linear_probe(train, test, 3, {.max_iter = 0}), "linear probe: max_iter = 0 must be at least 1");
    CHECK_THROWS_WITH(eval::linear_probe(train, test, 3, {.c = 0}), "linear probe: C = 0 must be positive");
    CHECK_THROWS_WITH(eval::mlp_probe(train, test, 3, {.epochs = 0}), "mlp probe: epochs = 0 must be at least 1");
    CHECK_THROWS_WITH(eval::mlp_probe(train, test, 3, {.lr = 0}), "mlp probe: lr = 0 must be positive");
    CHECK_THROWS_WITH(eval::mlp_probe(train, test, 3, {.batch_size = 1}),
                      "mlp probe: batch_size = 1 must be at least 2 (batchnorm)");
    CHECK_THROWS_WITH(eval::mlp_probe(train, test, 3, {.dropout = 1.0f}), "mlp probe: dropout = 1 must be in [0, 1)");
    const Split one{Tensor::zeros({1, 10}), {0}};
    CHECK_THROWS_WITH(eval::mlp_probe(one, test, 3), "mlp probe: batchnorm needs at least 2 train rows, got 1");
    CHECK_THROWS_WITH(eval::knn_probe(train, test, 3, {.k = 0}), "knn probe: k = 0 must be at least 1");
}

TEST_CASE("probes on Fashion-MNIST pixels", "[eval][fashion-mnist]") {
    const std::string dir = data::default_fashion_mnist_dir();
    const auto train_images = data::load_mnist_format(dir, "train");
    const auto test_images = data::load_mnist_format(dir, "test");
    REQUIRE(train_images.count == 60000);
    REQUIRE(test_images.count == 10000);
    const Split train = from_images(train_images, 60000), test = from_images(test_images, 10000);

    // A reference multinomial logistic regression reaches about 84%; the
    // converged fit (every gradient entry below 1e-4, well within max_iter)
    // lands at 83.5%. The probe reports its way there.
    ProbeOptions opt;
    std::vector<double> fractions;
    opt.progress = [&](double fraction, const std::string&) { fractions.push_back(fraction); };
    const auto linear = eval::linear_probe(train, test, 10, opt);
    fmt::print("Fashion-MNIST pixels, linear probe (60k/10k): train {:.2f}% test {:.2f}% in {:.1f} s, {} iterations{}\n",
               100 * linear.train_accuracy, 100 * linear.test_accuracy, linear.seconds, linear.iterations,
               linear.converged ? "" : " (not converged)");
    CHECK(linear.converged);
    CHECK(linear.test_accuracy >= 0.83);
    REQUIRE(static_cast<int>(fractions.size()) == linear.iterations);
    CHECK(std::is_sorted(fractions.begin(), fractions.end()));
    CHECK(fractions.back() == 1.0);

    const Split train_sub = from_images(train_images, 10000), test_sub = from_images(test_images, 2000);
    const auto knn = eval::knn_probe(train_sub, test_sub, 10);
    fmt::print("Fashion-MNIST pixels, knn probe (10k/2k, k = 20): leave-one-out {:.2f}% test {:.2f}% in {:.1f} s\n",
               100 * knn.train_accuracy, 100 * knn.test_accuracy, knn.seconds);
    CHECK(knn.test_accuracy >= 0.75);
}
