#include "experiment/held_out.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "infomax/tensor/random.hpp"

#include "experiment/trainer.hpp"
#include "infomax/runtime/error.hpp"

namespace infomax::detail {

bool HeldOutState::record(std::int64_t step, const std::vector<double>& batches, std::int64_t patience) {
    double sum = 0;
    for (double v : batches) sum += v;
    const double mean = batches.empty() ? NAN : sum / double(batches.size());
    evaluations.emplace_back(step, mean);
    if (evaluations.size() == 1 || mean > best) {
        best = mean;
        best_step = step;
        worse = 0;
        best_batches = batches;
    } else if (++worse >= patience) {
        stopped_early = true;
    }
    return stopped_early;
}

double ceiling_of(const Objective& o, std::int64_t batch) {
    return o.estimator->ceiling(o.negatives == "all" ? batch - 1 : o.negative_samples);
}

bool saturated(double estimate, double ceiling) { return std::isfinite(ceiling) && estimate >= 0.9 * ceiling; }

std::pair<double, double> bootstrap_interval(const std::vector<double>& values, double level, int resamples,
                                             std::uint64_t seed) {
    if (values.size() < 2) return {NAN, NAN};
    Rng rng(seed, "bootstrap");
    std::vector<double> means(static_cast<std::size_t>(resamples));
    for (auto& m : means) {
        double sum = 0;
        for (std::size_t i = 0; i < values.size(); ++i) sum += values[rng.below(values.size())];
        m = sum / double(values.size());
    }
    std::sort(means.begin(), means.end());
    const double tail = (1 - level) / 2;
    const auto at = [&](double q) { return means[std::min(means.size() - 1, static_cast<std::size_t>(q * double(means.size())))]; };
    return {at(tail), at(1 - tail)};
}

void HeldOutState::save_into(data::TensorFile& checkpoint) const {
    std::vector<double> v{best, double(best_step), double(worse), stopped_early ? 1.0 : 0.0};
    for (const auto& [s, x] : evaluations) {
        v.push_back(double(s));
        v.push_back(x);
    }
    checkpoint.metadata["held_out"] = encode_doubles(v);
    checkpoint.metadata["held_out_best_batches"] = encode_doubles(best_batches);
}

HeldOutState HeldOutState::read_from(const data::TensorFile& checkpoint, const std::string& path) {
    HeldOutState h;
    const auto it = checkpoint.metadata.find("held_out");
    if (it == checkpoint.metadata.end()) return h;
    const std::vector<double> v = decode_doubles(it->second, path + ": held_out");
    if (v.size() < 4 || v.size() % 2 != 0)
        throw Error(fmt::format("{}: held_out holds {} numbers: the checkpoint is damaged", path, v.size()));
    h.best = v[0];
    h.best_step = static_cast<std::int64_t>(v[1]);
    h.worse = static_cast<std::int64_t>(v[2]);
    h.stopped_early = v[3] != 0;
    for (std::size_t i = 4; i < v.size(); i += 2) h.evaluations.emplace_back(static_cast<std::int64_t>(v[i]), v[i + 1]);
    if (const auto b = checkpoint.metadata.find("held_out_best_batches"); b != checkpoint.metadata.end() && !b->second.empty())
        h.best_batches = decode_doubles(b->second, path + ": held_out_best_batches");
    return h;
}

ConvergenceCheck convergence_of(const std::vector<double>& train) {
    ConvergenceCheck c;
    if (train.size() < 10) return c;
    const std::size_t w = std::max<std::size_t>(1, train.size() / 10);
    std::vector<double> smooth;
    double sum = 0;
    for (std::size_t i = 0; i < train.size(); ++i) {
        sum += train[i];
        if (i >= w) sum -= train[i - w];
        if (i + 1 >= w) smooth.push_back(sum / double(w));
    }
    const double last = smooth.back(), most = *std::max_element(smooth.begin(), smooth.end());
    c.max_training_mi_decreased = most > 1.05 * last;
    c.training_mi_still_increasing = smooth.size() >= w && last > 1.05 * smooth[smooth.size() - w];  // w - 1 entries earlier, as bmi
    return c;
}

}  // namespace infomax::detail
