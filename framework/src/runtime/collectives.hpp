// Collectives over the MPI world (internal). In a world of one each is the
// identity (or a copy), so callers need no second path. Only the thread that
// called init_world may call these (MPI_THREAD_FUNNELED).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace infomax::detail {

void allreduce_sum(float* data, std::size_t n);
void allreduce_sum(double* data, std::size_t n);
void allreduce_max(std::int64_t* data, std::size_t n);
void allreduce_min(std::int64_t* data, std::size_t n);
// The sum over ranks of `in` (size * n floats), of which each rank gets its
// own n: rank r's out is the sum of every rank's in[r*n, (r+1)*n).
void reduce_scatter_sum(const float* in, float* out, std::size_t n);
// Every rank's `n` floats, in rank order, into out (size * n floats).
void allgather(const float* data, std::size_t n, float* out);
void barrier();
// Whether any rank passes true (a blocking allreduce).
bool any_rank(bool flag);

// In-place sums started at once and finished later, so communication runs
// while the caller computes (backward). progress() lets MPI move them along;
// wait() finishes all. Bytes counts what was summed.
class AsyncSums {
public:
    AsyncSums();
    ~AsyncSums();
    void start(float* data, std::size_t n);
    void progress();
    void wait();
    std::size_t bytes() const { return bytes_; }

private:
    struct Pending;
    std::unique_ptr<Pending> p_;
    std::size_t bytes_ = 0;
};

// Messages between ranks (the suite's hand-out of runs): a tagged string.
void send_text(int to, int tag, const std::string& text);
// A message from any rank with `tag`, if one has arrived: (from, text).
std::optional<std::pair<int, std::string>> poll_text(int tag);
std::string receive_text(int from, int tag);

}  // namespace infomax::detail
