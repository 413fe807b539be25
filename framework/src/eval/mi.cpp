#include "infomax/eval/mi.hpp"

#include <charconv>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <numeric>
#include <sstream>

#include "infomax/nn/module.hpp"
#include "infomax/ops/ops.hpp"
#include "infomax/optim/optim.hpp"
#include "infomax/runtime/error.hpp"
#include "infomax/tensor/random.hpp"

namespace infomax::eval {

std::size_t MetricsTable::column(const std::string& name) const {
    for (std::size_t i = 0; i < columns.size(); ++i)
        if (columns[i] == name) return i;
    throw Error(fmt::format("metrics have no column '{}' (columns: {})", name, fmt::join(columns, ", ")));
}

MetricsTable read_metrics_csv(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw Error(fmt::format("{}: cannot read the metrics", path));
    MetricsTable t;
    std::string line;
    auto split = [](const std::string& s) {
        std::vector<std::string> out;
        std::stringstream ss(s);
        std::string cell;
        while (std::getline(ss, cell, ',')) out.push_back(cell);
        if (!s.empty() && s.back() == ',') out.emplace_back();
        return out;
    };
    if (!std::getline(in, line)) throw Error(fmt::format("{}: empty metrics file", path));
    t.columns = split(line);
    std::int64_t number = 1;
    while (std::getline(in, line)) {
        ++number;
        if (line.empty()) continue;
        const auto cells = split(line);
        if (cells.size() != t.columns.size())
            throw Error(fmt::format("{}:{}: {} values for {} columns", path, number, cells.size(), t.columns.size()));
        std::vector<double> row;
        for (const auto& c : cells) {
            double v = std::numeric_limits<double>::quiet_NaN();
            if (!c.empty()) {
                const auto r = std::from_chars(c.data(), c.data() + c.size(), v);
                if (r.ec != std::errc() || r.ptr != c.data() + c.size())
                    throw Error(fmt::format("{}:{}: '{}' is not a number: the file was edited or damaged", path, number, c));
            }
            row.push_back(v);
        }
        t.rows.push_back(std::move(row));
    }
    return t;
}

std::vector<LevelStats> mi_level_stats(const MetricsTable& t, const std::vector<std::string>& estimates,
                                       std::int64_t window) {
    const std::size_t step_col = t.column("step"), truth_col = t.column("true_mi");
    // Levels: maximal runs of rows with the same true MI.
    std::vector<std::pair<std::size_t, std::size_t>> levels;  // [begin, end) rows
    for (std::size_t r = 0; r < t.rows.size(); ++r) {
        if (levels.empty() || t.rows[r][truth_col] != t.rows[levels.back().first][truth_col]) levels.push_back({r, r});
        levels.back().second = r + 1;
    }
    std::vector<LevelStats> out;
    for (const auto& name : estimates) {
        const std::size_t col = t.column(name);
        for (const auto& [b, e] : levels) {
            LevelStats s;
            s.estimate = name;
            s.true_mi = t.rows[b][truth_col];
            s.last_step = static_cast<std::int64_t>(t.rows[e - 1][step_col]);
            s.first_step = b == 0 ? 1 : static_cast<std::int64_t>(t.rows[b - 1][step_col]) + 1;
            double sum = 0, sq = 0;
            std::vector<double> values;
            for (std::size_t r = b; r < e; ++r) {
                if (static_cast<std::int64_t>(t.rows[r][step_col]) <= s.last_step - window) continue;
                const double v = t.rows[r][col];
                sum += v;
                sq += (v - s.true_mi) * (v - s.true_mi);
                values.push_back(v);
                ++s.rows;
            }
            if (s.rows == 0) continue;
            std::sort(values.begin(), values.end());
            auto quantile = [&](double q) {
                const double at = q * double(values.size() - 1);
                const auto lo = static_cast<std::size_t>(std::floor(at));
                const std::size_t hi = std::min(lo + 1, values.size() - 1);
                return values[lo] + (at - double(lo)) * (values[hi] - values[lo]);
            };
            s.median = quantile(0.5);
            s.q25 = quantile(0.25);
            s.q75 = quantile(0.75);
            s.iqr = s.q75 - s.q25;
            s.mean = sum / double(s.rows);
            s.bias = s.mean - s.true_mi;
            s.mse = sq / double(s.rows);
            s.variance = s.mse - s.bias * s.bias;  // E[(v - t)^2] = var + bias^2
            if (s.variance < 0) s.variance = 0;
            s.std = std::sqrt(s.variance);
            out.push_back(s);
        }
    }
    return out;
}

std::string mi_level_table_markdown(const std::vector<LevelStats>& stats) {
    std::string s = "| estimate | true MI | steps | window | mean | median | IQR | bias | variance | MSE |\n"
                    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    for (const auto& l : stats)
        s += fmt::format("| {} | {:.3f} | {}-{} | {} | {:.3f} | {:.3f} | {:.3f} | {:+.3f} | {:.4f} | {:.4f} |\n", l.estimate,
                         l.true_mi, l.first_step, l.last_step, l.rows, l.mean, l.median, l.iqr, l.bias, l.variance, l.mse);
    return s;
}

ModeCoverage mode_coverage(const Tensor& samples, const Tensor& centers, double std) {
    if (samples.dim() != 2 || centers.dim() != 2 || samples.size(1) != centers.size(1))
        throw ShapeError(fmt::format("mode coverage: samples {} and centers {} must be (N, D) and (K, D)",
                                     to_string(samples.shape()), to_string(centers.shape())));
    ModeCoverage c;
    c.modes = centers.size(0);
    c.samples = samples.size(0);
    c.per_mode.assign(static_cast<std::size_t>(c.modes), 0);
    const auto x = samples.to_vector(), m = centers.to_vector();
    const std::int64_t d = samples.size(1);
    for (std::int64_t i = 0; i < c.samples; ++i) {
        double best = std::numeric_limits<double>::infinity();
        std::int64_t arg = 0;
        for (std::int64_t k = 0; k < c.modes; ++k) {
            double dist = 0;
            for (std::int64_t j = 0; j < d; ++j) dist += std::pow(double(x[i * d + j]) - m[k * d + j], 2);
            if (dist < best) best = dist, arg = k;
        }
        if (std::sqrt(best) <= 3 * std) {
            ++c.high_quality;
            ++c.per_mode[static_cast<std::size_t>(arg)];
        }
    }
    c.threshold = std::max<std::int64_t>(1, c.samples / c.modes / 4);
    for (auto n : c.per_mode) c.covered += n >= c.threshold;
    c.high_quality_share = c.samples ? double(c.high_quality) / double(c.samples) : 0;
    return c;
}

GaussianProxy gaussian_proxy(double truth, std::int64_t pairs) {
    if (pairs < 1) throw Error("gaussian_proxy: needs at least one pair of coordinates");
    GaussianProxy p;
    p.pairs = pairs;
    p.truth = std::max(0.0, truth);
    p.rho = std::sqrt(1.0 - std::exp(-2.0 * p.truth / double(pairs)));
    return p;
}

ProxySample sample_gaussian_proxy(const GaussianProxy& p, std::int64_t n, std::int64_t dx, std::int64_t dy, Rng& rng) {
    if (dx > 0 ? p.pairs > std::min(dx, dy) : 2 * p.pairs > dy)
        throw Error(fmt::format("sample_gaussian_proxy: {} pairs do not fit dimensions {} and {}", p.pairs, dx, dy));
    const double rho = p.rho, rest = std::sqrt(1.0 - rho * rho);
    std::vector<float> x(static_cast<std::size_t>(n * std::max<std::int64_t>(dx, 0))), y(static_cast<std::size_t>(n * dy));
    for (std::int64_t i = 0; i < n; ++i) {
        float* yi = y.data() + i * dy;
        for (std::int64_t j = 0; j < dy; ++j) yi[j] = rng.normal();
        if (dx > 0) {
            float* xi = x.data() + i * dx;
            for (std::int64_t j = 0; j < dx; ++j) xi[j] = rng.normal();
            for (std::int64_t j = 0; j < p.pairs; ++j) yi[j] = float(rho * xi[j] + rest * yi[j]);
        } else {
            for (std::int64_t j = 0; j < p.pairs; ++j) yi[2 * j + 1] = float(rho * yi[2 * j] + rest * yi[2 * j + 1]);
        }
    }
    ProxySample s;
    if (dx > 0) s.x = Tensor::from({n, dx}, x);
    s.y = Tensor::from({n, dy}, y);
    return s;
}

double neural_dependency(const std::function<Tensor()>& train_batch, const std::vector<Tensor>& test,
                         const NdmOptions& o, const std::function<void(double)>& progress) {
    Tensor first = train_batch();
    if (first.dim() != 2 || first.size(0) < 2) throw Error(fmt::format("NDM: expected y of shape (N >= 2, D), got {}", to_string(first.shape())));
    const std::int64_t dim = first.size(1);
    Rng init(o.seed, "ndm critic"), shuffle(o.seed, "ndm shuffle");
    nn::Sequential critic;
    std::int64_t in = dim;
    for (std::int64_t h : o.hidden) {
        critic.emplace<nn::Linear>(in, h, init).emplace<nn::Act>(nn::Activation::relu);
        in = h;
    }
    critic.emplace<nn::Linear>(in, 1, init);
    std::vector<Var> params;
    for (auto& p : critic.parameters()) params.push_back(p.var);
    optim::AdamOptions ao;
    ao.lr = o.lr;
    optim::Adam adam(params, ao);
    // Each dimension's column permuted on its own: a sample of the product of y's marginals.
    auto shuffled = [&](const Tensor& y) {
        const std::int64_t n = y.size(0);
        const std::vector<float> v = y.to_vector();
        std::vector<float> out(v.size());
        std::vector<std::int64_t> perm(static_cast<std::size_t>(n));
        for (std::int64_t d = 0; d < dim; ++d) {
            std::iota(perm.begin(), perm.end(), 0);
            for (std::int64_t i = n - 1; i > 0; --i) std::swap(perm[i], perm[shuffle.next_u64() % std::uint64_t(i + 1)]);
            for (std::int64_t i = 0; i < n; ++i) out[i * dim + d] = v[perm[i] * dim + d];
        }
        return Tensor::from({n, dim}, out);
    };
    auto dv = [&](const Var& pos, const Var& neg) {
        const Var flat = ops::reshape(neg, {-1});
        return ops::mean(pos) - (ops::logsumexp(flat, 0) - static_cast<float>(std::log(double(flat.numel()))));
    };
    // The critic trains on the Jensen-Shannon loss and NDM is its DV reading,
    // as the DIM reference reads a critic trained on another measure. Trained
    // on DV itself, a y whose dimensions determine each other (no density
    // ratio: an infinite KL) read 1.2 million nats: DV's gradient never
    // saturates, JSD's does.
    for (std::int64_t s = 0; s < o.steps; ++s) {
        const Tensor y = s == 0 ? first : train_batch();
        Var pos = critic(Var(y)), neg = critic(Var(shuffled(y)));
        Var loss = ops::mean(ops::softplus(-pos)) + ops::mean(ops::softplus(neg));
        adam.zero_grad();
        loss.backward();
        adam.step();
        if (progress) progress(double(s + 1) / double(o.steps));
    }
    NoGradGuard ng;
    double value = 0;
    for (const auto& y : test) value += dv(critic(Var(y)), critic(Var(shuffled(y)))).item() / double(test.size());
    return value;
}

}  // namespace infomax::eval
