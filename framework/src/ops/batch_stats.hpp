// Batch-norm statistics over the global batch (internal).
//
// In data-parallel training each rank holds its share of the batch; while a
// GlobalBatchStats guard is on, batch_norm in training sums its per-channel
// statistics (and, in backward, their gradients) over every rank, so the
// normalisation is the one-process run's. Alone it changes nothing.
#pragma once

namespace infomax::detail {

class GlobalBatchStats {
public:
    explicit GlobalBatchStats(bool on);
    ~GlobalBatchStats();
    GlobalBatchStats(const GlobalBatchStats&) = delete;
    GlobalBatchStats& operator=(const GlobalBatchStats&) = delete;

private:
    bool prev_;
};
bool global_batch_stats();

}  // namespace infomax::detail
