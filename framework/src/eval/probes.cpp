// Probes on frozen features: linear and MLP classifiers trained with the
// framework's own ops and Adam, and a cosine k-NN.
#include "infomax/eval/probes.hpp"

#include <fmt/format.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <numeric>

#include "eval/logistic.hpp"
#include "infomax/autograd/var.hpp"
#include "infomax/nn/module.hpp"
#include "infomax/ops/ops.hpp"
#include "infomax/optim/optim.hpp"
#include "infomax/runtime/error.hpp"
#include "infomax/runtime/precision.hpp"
#include "infomax/runtime/threads.hpp"
#include "infomax/tensor/random.hpp"

namespace infomax::eval {
namespace {

using Clock = std::chrono::steady_clock;
using Range = tbb::blocked_range<std::int64_t>;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// ---- input checks -------------------------------------------------------------

void check_split(const std::string& probe, const char* which, const Split& s, int classes) {
    if (!s.x.defined()) throw Error(fmt::format("{}: {} features are undefined", probe, which));
    if (s.x.dtype() != DType::f32)
        throw Error(fmt::format("{}: {} features must be f32, got {}", probe, which, to_string(s.x.dtype())));
    if (s.x.dim() != 2)
        throw Error(fmt::format("{}: {} features must be 2-D (N, D), got {}", probe, which, to_string(s.x.shape())));
    const std::int64_t n = s.x.size(0), d = s.x.size(1);
    if (n != static_cast<std::int64_t>(s.y.size()))
        throw Error(fmt::format("{}: {} {} features but {} labels", probe, n, which, s.y.size()));
    if (n == 0) throw Error(fmt::format("{}: the {} split is empty", probe, which));
    if (d == 0) throw Error(fmt::format("{}: {} features have 0 dimensions", probe, which));
    for (std::size_t i = 0; i < s.y.size(); ++i)
        if (s.y[i] < 0 || s.y[i] >= classes)
            throw Error(fmt::format("{}: {} label {} at row {} is outside [0, {})", probe, which, s.y[i], i, classes));
    // A diverged encoder gives NaNs; say so here rather than report chance accuracy.
    const Tensor xp = s.x.plain();
    const float* x = xp.data();
    for (std::int64_t i = 0; i < n * d; ++i)
        if (!std::isfinite(x[i]))
            throw Error(fmt::format("{}: {} features hold {} at row {}, column {}", probe, which, x[i], i / d, i % d));
}

void check_inputs(const std::string& probe, const Split& train, const Split& test, int classes) {
    if (classes < 2) throw Error(fmt::format("{}: classes = {} must be at least 2", probe, classes));
    check_split(probe, "train", train, classes);
    check_split(probe, "test", test, classes);
    if (train.x.size(1) != test.x.size(1))
        throw Error(fmt::format("{}: train features have {} dimensions but test features have {}", probe,
                                train.x.size(1), test.x.size(1)));
}

void check_training_options(const std::string& probe, const ProbeOptions& opt) {
    if (opt.epochs < 1) throw Error(fmt::format("{}: epochs = {} must be at least 1", probe, opt.epochs));
    if (opt.batch_size < 1)
        throw Error(fmt::format("{}: batch_size = {} must be at least 1", probe, opt.batch_size));
    if (!(opt.lr > 0.0f)) throw Error(fmt::format("{}: lr = {} must be positive", probe, opt.lr));
    if (!(opt.weight_decay >= 0.0f))
        throw Error(fmt::format("{}: weight_decay = {} must be non-negative", probe, opt.weight_decay));
}

// ---- features -----------------------------------------------------------------

struct Standardised {
    Tensor train, test;
};

// Per-feature mean and population std of train (floor 1e-6), applied to both
// splits. Each feature's sums run serially over rows in double, so the result
// does not depend on the thread count.
Standardised standardise(const Tensor& train_x, const Tensor& test_x) {
    const Tensor tr = train_x.plain(), te = test_x.plain();
    const std::int64_t n = tr.size(0), d = tr.size(1);
    const float* x = tr.data();
    std::vector<float> mean(static_cast<std::size_t>(d)), inv_std(static_cast<std::size_t>(d));
    // Blocks of columns, rows in the inner-outer loop: row segments stay contiguous in memory.
    tbb::parallel_for(Range(0, d, 64), [&](const Range& r) {
        const std::int64_t b = r.begin(), w = r.end() - r.begin();
        std::vector<double> sum(static_cast<std::size_t>(w), 0.0), sq(static_cast<std::size_t>(w), 0.0);
        for (std::int64_t i = 0; i < n; ++i)
            for (std::int64_t j = 0; j < w; ++j) sum[j] += x[i * d + b + j];
        for (std::int64_t j = 0; j < w; ++j) sum[j] /= static_cast<double>(n);
        // Two passes: centred squares do not cancel catastrophically.
        for (std::int64_t i = 0; i < n; ++i)
            for (std::int64_t j = 0; j < w; ++j) {
                const double c = x[i * d + b + j] - sum[j];
                sq[j] += c * c;
            }
        for (std::int64_t j = 0; j < w; ++j) {
            const double sd = std::max(std::sqrt(sq[j] / static_cast<double>(n)), 1e-6);
            mean[b + j] = static_cast<float>(sum[j]);
            inv_std[b + j] = static_cast<float>(1.0 / sd);
        }
    });
    auto apply = [&](const Tensor& in) {
        const std::int64_t rows = in.size(0);
        Tensor out = Tensor::empty({rows, d});
        const float* src = in.data();
        float* dst = out.data();
        tbb::parallel_for(Range(0, rows, 256),
                          [&](const Range& r) {
                              for (std::int64_t i = r.begin(); i < r.end(); ++i)
                                  for (std::int64_t j = 0; j < d; ++j)
                                      dst[i * d + j] = (src[i * d + j] - mean[j]) * inv_std[j];
                          });
        return out;
    };
    return {apply(tr), apply(te)};
}

// Rows idx[0..n) of x (N, D) as a new (n, D) tensor.
Tensor gather_rows(const Tensor& x, const std::int64_t* idx, std::int64_t n) {
    const std::int64_t d = x.size(1);
    Tensor out = Tensor::empty({n, d});
    const float* src = x.data();
    float* dst = out.data();
    for (std::int64_t i = 0; i < n; ++i)
        std::memcpy(dst + i * d, src + idx[i] * d, static_cast<std::size_t>(d) * sizeof(float));
    return out;
}

// Rows [begin, begin + n) of x as a new (n, D) tensor.
Tensor slice_rows(const Tensor& x, std::int64_t begin, std::int64_t n) {
    const std::int64_t d = x.size(1);
    Tensor out = Tensor::empty({n, d});
    std::memcpy(out.data(), x.data() + begin * d, static_cast<std::size_t>(n * d) * sizeof(float));
    return out;
}

// ---- trained probes -----------------------------------------------------------

// Adam on the mean cross-entropy over seeded minibatches. With
// merge_single_row, a last minibatch of one row joins the one before it
// (batchnorm's unbiased variance divides by rows - 1).
void fit(nn::Module& model, const Tensor& x, const std::vector<std::int64_t>& y, const ProbeOptions& opt,
         bool merge_single_row) {
    optim::Adam adam(model.parameter_vars(), {.lr = opt.lr, .weight_decay = opt.weight_decay});
    Rng order(opt.seed, "probe");
    model.train(true);
    const std::int64_t n = x.size(0), batch = opt.batch_size;
    std::vector<std::int64_t> idx(static_cast<std::size_t>(n));
    std::iota(idx.begin(), idx.end(), 0);
    std::vector<std::int64_t> labels;
    const double total = double(opt.epochs) * double((n + batch - 1) / batch);
    double t = 0;
    for (int e = 0; e < opt.epochs; ++e) {
        for (std::int64_t i = n - 1; i > 0; --i)
            std::swap(idx[i], idx[static_cast<std::int64_t>(order.below(static_cast<std::uint64_t>(i + 1)))]);
        for (std::int64_t s = 0; s < n;) {
            std::int64_t len = std::min(batch, n - s);
            if (merge_single_row && n - s - len == 1) ++len;
            labels.resize(static_cast<std::size_t>(len));
            for (std::int64_t i = 0; i < len; ++i) labels[i] = y[idx[s + i]];
            if (opt.cosine) adam.lr = static_cast<float>(opt.lr * 0.5 * (1.0 + std::cos(3.141592653589793 * t / total)));
            t += 1;
            if (opt.progress) opt.progress(t / total, fmt::format("epoch {}/{}", e + 1, opt.epochs));
            adam.zero_grad();
            Var loss = ops::cross_entropy(model(Var(gather_rows(x, idx.data() + s, len))), labels);
            loss.backward();
            adam.step();
            s += len;
        }
    }
}

// Fraction of rows whose arg-max logit (first on ties) is the label; inference
// mode, no graph, in chunks so memory stays bounded.
double accuracy(nn::Module& model, const Tensor& x, const std::vector<std::int64_t>& y, int classes) {
    model.train(false);
    NoGradGuard no_grad;
    const std::int64_t n = x.size(0), chunk = 1024;
    std::int64_t correct = 0;
    for (std::int64_t s = 0; s < n; s += chunk) {
        const std::int64_t len = std::min(chunk, n - s);
        correct += count_correct(model(Var(slice_rows(x, s, len))).value(), y.data() + s);
    }
    return static_cast<double>(correct) / static_cast<double>(n);
}

// Accuracies of a fitted model on both splits, and the time since t0.
ProbeResult result(const char* name, nn::Module& model, const Standardised& f, const Split& train, const Split& test,
                   int classes, Clock::time_point t0) {
    ProbeResult r;
    r.name = name;
    r.train_accuracy = accuracy(model, f.train, train.y, classes);
    r.test_accuracy = accuracy(model, f.test, test.y, classes);
    r.seconds = seconds_since(t0);
    return r;
}

ProbeResult run_trained(const char* name, nn::Module& model, const Standardised& f, const Split& train,
                        const Split& test, int classes, const ProbeOptions& opt, bool merge_single_row,
                        Clock::time_point t0) {
    fit(model, f.train, train.y, opt, merge_single_row);
    return result(name, model, f, train, test, classes, t0);
}

// ---- k-NN ---------------------------------------------------------------------

// Scales every row to unit L2 norm (an all-zero row stays zero).
void normalise_rows(Tensor& x) {
    const std::int64_t n = x.size(0), d = x.size(1);
    float* p = x.data();
    tbb::parallel_for(Range(0, n, 256), [&](const Range& r) {
        for (std::int64_t i = r.begin(); i < r.end(); ++i) {
            float* row = p + i * d;
            double ss = 0;
            for (std::int64_t j = 0; j < d; ++j) ss += static_cast<double>(row[j]) * row[j];
            if (ss == 0) continue;
            const float inv = static_cast<float>(1.0 / std::sqrt(ss));
            for (std::int64_t j = 0; j < d; ++j) row[j] *= inv;
        }
    });
}

struct Neighbour {
    float sim;
    std::int64_t index;
};
// Higher similarity first; equal similarities: lower train index first, so
// the order (and the vote) never depends on how the work was split.
bool nearer(const Neighbour& a, const Neighbour& b) { return a.sim > b.sim || (a.sim == b.sim && a.index < b.index); }

// Keeps the k nearest candidates in a heap with the farthest on top.
void offer(std::vector<Neighbour>& heap, const Neighbour& c, std::int64_t k) {
    if (static_cast<std::int64_t>(heap.size()) < k) {
        heap.push_back(c);
        std::push_heap(heap.begin(), heap.end(), nearer);
    } else if (nearer(c, heap.front())) {
        std::pop_heap(heap.begin(), heap.end(), nearer);
        heap.back() = c;
        std::push_heap(heap.begin(), heap.end(), nearer);
    }
}

// Majority vote of neighbours sorted nearest first; ties go to the class whose
// nearest member ranks first. -1 without neighbours.
std::int64_t vote(const std::vector<Neighbour>& nb, const std::vector<std::int64_t>& train_y, int classes) {
    std::vector<std::int64_t> count(static_cast<std::size_t>(classes), 0);
    std::vector<std::size_t> first(static_cast<std::size_t>(classes), nb.size());
    for (std::size_t r = 0; r < nb.size(); ++r) {
        const std::int64_t c = train_y[nb[r].index];
        ++count[c];
        first[c] = std::min(first[c], r);
    }
    std::int64_t best = -1;
    for (std::int64_t c = 0; c < classes; ++c) {
        if (count[c] == 0) continue;
        if (best < 0 || count[c] > count[best] || (count[c] == count[best] && first[c] < first[best])) best = c;
    }
    return best;
}

// Predicted class of every query row (unit-norm, (Q, D)) among the train rows
// (unit-norm, in row blocks). exclude (if given) holds, per query, a train
// index that may not be its neighbour (leave-one-out).
std::vector<std::int64_t> knn_predict(const Tensor& queries, const std::vector<Tensor>& train_blocks,
                                      std::int64_t block_rows, const std::vector<std::int64_t>& train_y,
                                      std::int64_t k, int classes, const std::vector<std::int64_t>* exclude,
                                      const std::function<void(std::int64_t)>& done) {
    NoGradGuard no_grad;
    const std::int64_t q = queries.size(0), query_rows = 256;
    std::vector<std::int64_t> pred(static_cast<std::size_t>(q), -1);
    std::vector<std::vector<Neighbour>> heaps(static_cast<std::size_t>(query_rows));
    for (std::int64_t s = 0; s < q; s += query_rows) {
        const std::int64_t len = std::min(query_rows, q - s);
        const Var qv(slice_rows(queries, s, len));
        for (auto& h : heaps) h.clear();
        for (std::size_t b = 0; b < train_blocks.size(); ++b) {
            // (len, D) x (rows, D)^T: cosine similarities of this query block to one train block.
            const Tensor sims = ops::linear(qv, Var(train_blocks[b]), Var()).value().plain();
            const std::int64_t rows = train_blocks[b].size(0), base = static_cast<std::int64_t>(b) * block_rows;
            const float* sp = sims.data();
            // Each query keeps its own heap (worst on top): no shared state, any thread count.
            tbb::parallel_for(Range(0, len, 8), [&](const Range& r) {
                for (std::int64_t i = r.begin(); i < r.end(); ++i) {
                    const std::int64_t skip = exclude ? (*exclude)[s + i] : -1;
                    const float* row = sp + i * rows;
                    for (std::int64_t j = 0; j < rows; ++j)
                        if (base + j != skip) offer(heaps[i], {row[j], base + j}, k);
                }
            });
        }
        tbb::parallel_for(Range(0, len, 16), [&](const Range& r) {
            for (std::int64_t i = r.begin(); i < r.end(); ++i) {
                std::sort_heap(heaps[i].begin(), heaps[i].end(), nearer);  // nearest first
                pred[s + i] = vote(heaps[i], train_y, classes);
            }
        });
        done(s + len);
    }
    return pred;
}

double fraction_correct(const std::vector<std::int64_t>& pred, const std::vector<std::int64_t>& y,
                        const std::vector<std::int64_t>* rows = nullptr) {
    std::int64_t correct = 0;
    for (std::size_t i = 0; i < pred.size(); ++i) correct += pred[i] == y[rows ? (*rows)[i] : i];
    return pred.empty() ? 0.0 : static_cast<double>(correct) / static_cast<double>(pred.size());
}

}  // namespace

std::int64_t count_correct(const Tensor& logits, const std::int64_t* labels) {
    const Tensor l = logits.plain();
    const std::int64_t n = l.size(0), k = l.size(1);
    std::int64_t correct = 0;
    for (std::int64_t i = 0; i < n; ++i) {
        const float* row = l.data() + i * k;
        correct += (std::max_element(row, row + k) - row) == labels[i];
    }
    return correct;
}

ProbeResult linear_probe(const Split& train, const Split& test, int classes, const ProbeOptions& opt) {
    const auto t0 = Clock::now();
    threads();  // apply the thread setting before our first TBB loop
    const std::string probe = "linear probe";
    check_inputs(probe, train, test, classes);
    if (opt.max_iter < 1) throw Error(fmt::format("{}: max_iter = {} must be at least 1", probe, opt.max_iter));
    if (!(opt.c > 0)) throw Error(fmt::format("{}: C = {} must be positive", probe, opt.c));
    const Standardised f = standardise(train.x, test.x);
    const std::int64_t n = f.train.size(0), d = f.train.size(1);
    detail::Logistic objective(f.train.data(), n, d, train.y.data(), classes, 1.0 / (opt.c * static_cast<double>(n)));
    const auto h0 = opt.preconditioner_rank > 0 ? objective.preconditioner(opt.preconditioner_rank, opt.seed)
                                                : std::function<void(std::vector<double>&)>{};
    std::vector<double> theta(static_cast<std::size_t>(objective.parameters()), 0.0);  // from zero, as sklearn
    // Progress: the share of the way from the first gradient to the tolerance
    // (in log scale), or of max_iter, whichever is further.
    double g0 = 0, shown = 0;
    auto report = [&](int it, double loss, double gmax) {
        if (!opt.progress) return;
        if (g0 == 0) g0 = std::max(gmax, opt.tolerance * 1.0000001);
        const double by_gradient = gmax <= opt.tolerance ? 1.0 : std::log(g0 / gmax) / std::log(g0 / opt.tolerance);
        shown = std::clamp(std::max({shown, by_gradient, double(it) / opt.max_iter}), 0.0, 1.0);
        opt.progress(shown, fmt::format("iteration {} loss {:.6f} max |gradient| {:.2e} (stops below {:.0e})", it,
                                        loss, gmax, opt.tolerance));
    };
    const detail::LbfgsResult fit =
        detail::lbfgs(std::ref(objective), theta, opt.max_iter, opt.tolerance, report, h0);
    ProbeResult r;
    r.name = "linear";
    r.train_accuracy = double(objective.correct(theta, f.train.data(), n, train.y.data())) / double(n);
    r.test_accuracy =
        double(objective.correct(theta, f.test.data(), f.test.size(0), test.y.data())) / double(f.test.size(0));
    r.iterations = fit.iterations;
    r.loss = fit.loss;
    r.converged = fit.stopped != "max_iter";
    r.seconds = seconds_since(t0);
    return r;
}

ProbeResult mlp_probe(const Split& train, const Split& test, int classes, const ProbeOptions& opt) {
    const PrecisionScope f32(Precision::f32);  // probes measure in f32 whatever the encoder ran in
    const auto t0 = Clock::now();
    threads();  // apply the thread setting before our first TBB loop
    const std::string probe = "mlp probe";
    check_inputs(probe, train, test, classes);
    check_training_options(probe, opt);
    if (opt.hidden < 1) throw Error(fmt::format("{}: hidden = {} must be at least 1", probe, opt.hidden));
    if (!(opt.dropout >= 0.0f && opt.dropout < 1.0f))
        throw Error(fmt::format("{}: dropout = {} must be in [0, 1)", probe, opt.dropout));
    if (opt.batch_size < 2)
        throw Error(fmt::format("{}: batch_size = {} must be at least 2 (batchnorm)", probe, opt.batch_size));
    if (train.x.size(0) < 2)
        throw Error(fmt::format("{}: batchnorm needs at least 2 train rows, got {}", probe, train.x.size(0)));
    const Standardised f = standardise(train.x, test.x);
    Rng init(opt.seed, "probe init");
    nn::Sequential model;
    model.emplace<nn::Linear>(f.train.size(1), opt.hidden, init, /*bias=*/false)
        .emplace<nn::BatchNorm>(opt.hidden)
        .emplace<nn::Act>(nn::Activation::relu)
        .emplace<nn::Dropout>(opt.dropout, Rng(opt.seed, "probe dropout"))
        .emplace<nn::Linear>(opt.hidden, classes, init);
    return run_trained("mlp", model, f, train, test, classes, opt, true, t0);
}

ProbeResult knn_probe(const Split& train, const Split& test, int classes, const ProbeOptions& opt) {
    const PrecisionScope f32(Precision::f32);  // probes measure in f32 whatever the encoder ran in
    const auto t0 = Clock::now();
    threads();  // apply the thread setting before our first TBB loop
    const std::string probe = "knn probe";
    check_inputs(probe, train, test, classes);
    if (opt.k < 1) throw Error(fmt::format("{}: k = {} must be at least 1", probe, opt.k));
    Standardised f = standardise(train.x, test.x);
    normalise_rows(f.train);
    normalise_rows(f.test);
    // Train rows in blocks: each similarity block stays a few MiB.
    const std::int64_t n = f.train.size(0), block_rows = 4096;
    std::vector<Tensor> blocks;
    for (std::int64_t s = 0; s < n; s += block_rows)
        blocks.push_back(slice_rows(f.train, s, std::min(block_rows, n - s)));

    ProbeResult r;
    r.name = "knn";
    const std::int64_t loo_rows = n >= 2 ? std::min<std::int64_t>(n, 2000) : 0, queries = f.test.size(0) + loo_rows;
    auto progress = [&](std::int64_t offset) {
        return [&opt, offset, queries](std::int64_t rows) {
            if (opt.progress)
                opt.progress(double(offset + rows) / double(queries), fmt::format("{} of {} queries", offset + rows, queries));
        };
    };
    const auto pred = knn_predict(f.test, blocks, block_rows, train.y, std::min<std::int64_t>(opt.k, n), classes,
                                  nullptr, progress(0));
    r.test_accuracy = fraction_correct(pred, test.y);
    if (n >= 2) {
        // Leave-one-out on evenly spaced rows: cheap, and not fooled by sorted data.
        const std::int64_t m = loo_rows;
        std::vector<std::int64_t> rows(static_cast<std::size_t>(m));
        for (std::int64_t i = 0; i < m; ++i) rows[i] = i * n / m;
        const auto loo = knn_predict(gather_rows(f.train, rows.data(), m), blocks, block_rows, train.y,
                                      std::min<std::int64_t>(opt.k, n - 1), classes, &rows, progress(f.test.size(0)));
        r.train_accuracy = fraction_correct(loo, train.y, &rows);
    }
    r.seconds = seconds_since(t0);
    return r;
}

const std::vector<NamedProbe>& probes() {
    static const std::vector<NamedProbe> all{{"linear", linear_probe}, {"mlp", mlp_probe}, {"knn", knn_probe}};
    return all;
}

ProbeResult run_probe(const std::string& name, const Split& train, const Split& test, int classes, const ProbeOptions& opt) {
    std::vector<std::string> known;
    for (const auto& p : probes()) {
        if (name == p.name) return p.run(train, test, classes, opt);
        known.push_back(p.name);
    }
    throw Error(fmt::format("unknown probe '{}'; known: {}", name, fmt::join(known, ", ")));
}

}  // namespace infomax::eval
