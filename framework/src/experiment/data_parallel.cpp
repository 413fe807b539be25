#include "experiment/data_parallel.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "infomax/runtime/error.hpp"
#include "infomax/runtime/world.hpp"
#include "ops/batch_stats.hpp"
#include "run_dir/run_dir.hpp"
#include "runtime/collectives.hpp"

namespace infomax::detail {

std::pair<std::int64_t, std::int64_t> my_rows(std::int64_t n) {
    const auto& w = world();
    const std::int64_t share = n / w.size;
    return {share * w.rank, share * (w.rank + 1)};
}

Tensor rows_of(const Tensor& x, std::int64_t first, std::int64_t last) {
    const Tensor p = x.plain();
    Shape s = p.shape();
    const std::int64_t row = p.numel() / s[0];
    s[0] = last - first;
    Tensor out = Tensor::empty(s);
    std::memcpy(out.data(), p.data() + first * row, static_cast<std::size_t>(out.numel()) * sizeof(float));
    return out;
}

namespace {
double g_gathered = 0;
}
double gathered_bytes() { return g_gathered; }

Var gather_rows(const Var& v, Gathered how) {
    if (!v.defined() || world().size == 1) return v;
    const Tensor p = v.value().plain();
    Shape s = p.shape();
    s[0] *= world().size;
    Tensor all = Tensor::empty(s);
    g_gathered += double(all.numel() - p.numel()) * sizeof(float);
    allgather(p.data(), static_cast<std::size_t>(p.numel()), all.data());
    const std::int64_t n = p.size(0);
    return Var(all, {v},
               [n, how](std::vector<Var>& in, const Tensor& g) {
                   const std::int64_t first = n * world().rank;
                   if (how == Gathered::same_gradient) return in[0].add_grad(rows_of(g, first, first + n));
                   const Tensor all = g.plain();
                   Shape mine = all.shape();
                   mine[0] = n;
                   Tensor sum = Tensor::empty(mine);
                   reduce_scatter_sum(all.data(), sum.data(), static_cast<std::size_t>(sum.numel()));
                   in[0].add_grad(sum);
               },
               "gather_rows");
}

Features gather_features(const Features& f, Gathered how) {
    return {gather_rows(f.global, how), gather_rows(f.local, how), {}};
}

Bound score_rows(const Objective& o, const Var& a, const Var& b, Rng& rng) {
    if (world().size == 1) return o.score(a, b, rng);
    const auto [first, last] = my_rows(b.size(0));
    Scores mine;
    {
        GlobalBatchStats global(true);  // a discriminator's batch norm sees every rank's pairs
        mine = make_scores(*o.discriminator, a, b, o.negatives, rng, o.negative_samples, first, last);
    }
    return o.estimator->bound({gather_rows(mine.pos, Gathered::same_gradient), gather_rows(mine.neg, Gathered::same_gradient)});
}

struct GradientSum::Bucket {
    std::vector<std::size_t> params;  // indices into params_
    std::vector<float> data;
};

GradientSum::GradientSum(std::vector<Var> params, std::size_t bucket_bytes)
    : params_(std::move(params)), bucket_floats_(std::max<std::size_t>(1, bucket_bytes / sizeof(float))) {
    for (std::size_t i = 0; i < params_.size(); ++i) ids_.push_back(params_[i].id());
}

GradientSum::~GradientSum() = default;

std::unique_ptr<GradReadyHook> GradientSum::during_backward() {
    // The buckets of the last step are refilled: their memory stays mapped.
    for (auto& b : buckets_) b->params.clear(), b->data.clear();
    if (buckets_.empty()) buckets_.push_back(std::make_unique<Bucket>());
    open_ = 0;
    sums_ = std::make_unique<AsyncSums>();
    done_.assign(params_.size(), 0);
    return std::make_unique<GradReadyHook>([this](const Var& leaf) { ready(leaf); });
}

void GradientSum::ready(const Var& leaf) {
    const auto it = std::find(ids_.begin(), ids_.end(), leaf.id());
    if (it == ids_.end()) return;  // not a summed parameter (a replicated part's)
    const std::size_t i = static_cast<std::size_t>(it - ids_.begin());
    if (done_[i] || !params_[i].grad().defined()) return;
    append(i);
    if (buckets_[open_]->data.size() >= bucket_floats_) send_open();
    sums_->progress();  // lets MPI move the buckets already sent
}

void GradientSum::append(std::size_t i) {
    done_[i] = 1;
    Bucket& b = *buckets_[open_];
    const Tensor g = params_[i].grad().plain();
    b.params.push_back(i);
    b.data.insert(b.data.end(), g.data(), g.data() + g.numel());
}

void GradientSum::send_open() {
    Bucket& b = *buckets_[open_];
    if (b.params.empty()) return;
    sums_->start(b.data.data(), b.data.size());
    if (++open_ == buckets_.size()) buckets_.push_back(std::make_unique<Bucket>());
}

void GradientSum::finish() {
    // Parameters no hook reported (a pass without a hook) go in the last bucket.
    for (std::size_t i = 0; i < params_.size(); ++i)
        if (!done_[i] && params_[i].grad().defined()) append(i);
    send_open();
    const auto t = std::chrono::steady_clock::now();
    sums_->wait();
    last_.wait_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
    last_.bytes = sums_->bytes();
    last_.buckets = 0;
    for (auto& b : buckets_) {
        if (b->params.empty()) continue;
        ++last_.buckets;
        std::size_t at = 0;
        for (std::size_t i : b->params) {
            Var& p = params_[i];
            Tensor sum = Tensor::empty(p.shape());
            std::memcpy(sum.data(), b->data.data() + at, static_cast<std::size_t>(sum.numel()) * sizeof(float));
            at += static_cast<std::size_t>(sum.numel());
            p.zero_grad();
            p.add_grad(sum);
        }
    }
    sums_.reset();
}

bool ranks_agree(const std::vector<std::pair<std::string, Var>>& params, std::string* first_difference) {
    if (world().size == 1) return true;
    std::vector<std::int64_t> lo(params.size()), hi(params.size());
    for (std::size_t i = 0; i < params.size(); ++i) {
        const Tensor p = params[i].second.value().plain();
        const std::uint64_t h = fnv64(p.data(), static_cast<std::size_t>(p.numel()) * sizeof(float));  // of the bits
        lo[i] = hi[i] = static_cast<std::int64_t>(h >> 1);
    }
    allreduce_min(lo.data(), lo.size());
    allreduce_max(hi.data(), hi.size());
    for (std::size_t i = 0; i < params.size(); ++i)
        if (lo[i] != hi[i]) {
            *first_difference = params[i].first;
            return false;
        }
    return true;
}

}  // namespace infomax::detail
