// infomax bench: the training step and the inference pass of a spec, timed
// after a warm-up, with where the time goes and how close it is to the
// machine's peak (a large sgemm measured in the same process). Under mpirun it
// times the data-parallel step and its communication (rank 0 reports).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace infomax {

struct BenchOptions {
    std::string spec;
    std::vector<std::string> overrides, plugin_paths;
    int threads = 0;  // --threads: wins over the spec's train.threads (0: not given)
    int steps = 20, warmup = 5;
    bool measure_peak = true;
};

struct BenchFamily {
    std::string name;  // conv, inner product, matmul, eltwise, batchnorm/pooling, reorder, other (our kernels, autograd)
    double ms_per_step = 0, gflop_per_step = 0, share = 0;
    double calls_per_step = 0;
};

struct BenchResult {
    std::string name, kind, precision = "f32";
    int threads = 0, steps = 0, warmup = 0;
    std::int64_t batch = 0;
    double train_images_per_s = 0, infer_images_per_s = 0;
    double step_ms_median = 0, step_ms_min = 0, infer_ms_median = 0;
    double data_ms = 0, forward_ms = 0, backward_ms = 0, optimizer_ms = 0;  // medians per step
    double state_check_ms = 0;  // the NaN/inf scan a run does after each step (not in step_ms)
    double flops_per_train_step = 0, achieved_gflops = 0, peak_gflops = 0, peak_rss_mib = 0;
    std::int64_t steady_state_allocations = 0;  // buffers asked of the system during the timed steps
    // The tensor buffer pool after the timed steps: bytes it holds, and the most
    // that were in use at once (the rest is free buffers of sizes not needed then).
    double pool_reserved_mib = 0, pool_peak_in_use_mib = 0;
    std::vector<BenchFamily> families;
    // Data-parallel (under mpirun; images/s are the global batch's): the
    // gradient sum's bytes and buckets per step, the time a blocking allreduce
    // of those bytes takes, the time a step waited for them after backward,
    // and the share of the allreduce hidden behind backward; the features
    // every rank gathers per step.
    int ranks = 1;
    double grad_mib = 0, gather_mib = 0, allreduce_ms = 0, comm_wait_ms = 0, hidden_share = 0;
    int buckets = 0;
};

BenchResult bench_spec(const BenchOptions& options);
std::string bench_table(const BenchResult& r);
std::string bench_json(const BenchResult& r);  // one JSON object

}  // namespace infomax
