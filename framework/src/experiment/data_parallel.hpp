// Data-parallel training over the ranks of an MPI job (internal).
//
// `mpirun -np N infomax run SPEC`: the spec's batch_size is the global batch.
// Each rank encodes its share of the rows (batch norm with the global batch's
// statistics), the features are gathered so that every rank scores the
// objectives on the whole batch (negatives from every rank's rows, the prior
// and each estimator's state the same everywhere), and the encoder's
// gradients, which each rank has for its rows only, are summed over the ranks
// in buckets started as backward completes them. Every other part sees the
// same inputs on every rank and gets the same gradient there: it needs no
// communication. So the step is the one-process step up to the order of the
// sums, and every rank takes the same optimizer step.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "infomax/plugin/parts.hpp"

namespace infomax::detail {

class AsyncSums;

// Rows [first, last) of an n-row global batch that this rank trains on.
std::pair<std::int64_t, std::int64_t> my_rows(std::int64_t n);
// Rows [first, last) of x (plain copy).
Tensor rows_of(const Tensor& x, std::int64_t first, std::int64_t last);
// Every rank's rows of v, in rank order; backward gives v its own rows' gradient.
Var gather_rows(const Var& v);
// y, M and the taps of every rank's rows.
Features gather_features(const Features& f);

// Sums the gradients of `params` over the ranks while backward runs: a
// parameter joins the open bucket when its gradient is complete, and a bucket
// of `bucket_bytes` starts its (non-blocking) sum at once.
class GradientSum {
public:
    GradientSum(std::vector<Var> params, std::size_t bucket_bytes);
    ~GradientSum();
    // While the returned guard lives, completed gradients are bucketed and sent.
    std::unique_ptr<GradReadyHook> during_backward();
    // Sends the last bucket, waits for all, and puts the sums in the gradients.
    void finish();

    struct Stats {
        double wait_seconds = 0;  // this step's time blocked in finish (not hidden behind backward)
        std::size_t bytes = 0;    // this step's summed bytes
        int buckets = 0;
    };
    const Stats& last() const { return last_; }

private:
    struct Bucket;
    void ready(const Var& leaf);
    void send_open();
    std::vector<Var> params_;
    std::vector<std::size_t> slot_;  // by parameter: its index in params_ (for ready's lookup)
    std::vector<const void*> ids_;
    std::size_t bucket_floats_;
    std::vector<std::unique_ptr<Bucket>> buckets_;
    std::unique_ptr<AsyncSums> sums_;
    std::vector<int> done_;  // this step: which params were bucketed
    Stats last_;
};

// Whether every rank holds the same values (a checksum of each, compared):
// parts that are not summed must stay identical, and a difference means the
// ranks diverged.
bool ranks_agree(const std::vector<std::pair<std::string, Var>>& params, std::string* first_difference);

}  // namespace infomax::detail
