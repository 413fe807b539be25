// Data-parallel training over the ranks of an MPI job (internal).
//
// `mpirun -np N infomax run SPEC`: the spec's batch_size is the global batch.
// Each rank encodes its share of the rows (batch norm with the global batch's
// statistics) and the features are gathered. Each rank's discriminators score
// its rows of the whole batch (negatives from every rank's rows), the scores
// are gathered, and every rank's estimator reduces all of them: the same loss
// and estimator state (DV's moving average) everywhere. The prior term and a
// head see the gathered features on every rank alike. Gradients each rank has
// only in part (the encoder's, for its rows; the discriminators', for their
// rows of scores) are summed over the ranks in buckets started as backward
// completes them; the parts every rank computes alike get the same gradient
// everywhere and need no communication. So the step is the one-process step
// up to the order of the sums, and every rank takes the same optimizer step.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "infomax/experiment/model.hpp"
#include "infomax/plugin/parts.hpp"

namespace infomax::detail {

class AsyncSums;

// Rows [first, last) of an n-row global batch that this rank trains on.
std::pair<std::int64_t, std::int64_t> my_rows(std::int64_t n);
// Rows [first, last) of x (plain copy).
Tensor rows_of(const Tensor& x, std::int64_t first, std::int64_t last);
// What the gradient of a gathered tensor is on each rank: the same (every
// rank computed the same function of it: the estimators, the prior, the
// head), or a part (each rank scored its own rows of it: the discriminators),
// which backward sums over the ranks.
enum class Gathered { same_gradient, partial_gradient };
// Every rank's rows of v, in rank order; backward gives v its own rows'
// gradient (summed over the ranks first for partial_gradient).
Var gather_rows(const Var& v, Gathered how);
// Bytes this rank has received from gather_rows so far (the bench's figure).
double gathered_bytes();
// y and M of every rank's rows (the taps are evaluation's, not training's:
// not gathered).
Features gather_features(const Features& f, Gathered how);
// An objective's bound in data-parallel training: this rank scores its rows
// of the gathered batch (the discriminator's work is shared), the scores are
// gathered, and every rank's estimator sees all of them (the same loss and
// state everywhere). Alone it is o.score(a, b, rng).
Bound score_rows(const Objective& o, const Var& a, const Var& b, Rng& rng);

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
    void append(std::size_t i);  // parameter i's gradient into the open bucket
    void send_open();
    std::vector<Var> params_;
    std::vector<std::size_t> slot_;  // by parameter: its index in params_ (for ready's lookup)
    std::vector<const void*> ids_;
    std::size_t bucket_floats_;
    std::vector<std::unique_ptr<Bucket>> buckets_;
    std::size_t open_ = 0;  // the bucket being filled
    std::unique_ptr<AsyncSums> sums_;
    std::vector<int> done_;  // this step: which params were bucketed
    Stats last_;
};

// Whether every rank holds the same values (a checksum of each, compared):
// parts that are not summed must stay identical, and a difference means the
// ranks diverged.
bool ranks_agree(const std::vector<std::pair<std::string, Var>>& params, std::string* first_difference);

}  // namespace infomax::detail
