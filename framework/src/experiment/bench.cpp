#include "infomax/experiment/bench.hpp"
#include "infomax/experiment/session.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>

#include "backend/onednn/peak.hpp"
#include "experiment/runner.hpp"
#include "experiment/trainer.hpp"
#include "infomax/experiment/model.hpp"
#include "infomax/runtime/error.hpp"
#include "infomax/runtime/profile.hpp"
#include "infomax/runtime/threads.hpp"
#include "infomax/runtime/world.hpp"
#include "runtime/collectives.hpp"

namespace infomax {

namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

double peak_rss_mib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_maxrss) / 1024.0;  // kilobytes on Linux
}

}  // namespace

BenchResult bench_spec(const BenchOptions& opt) {
    if (opt.steps < 1) throw Error(fmt::format("--steps {}: time at least one step", opt.steps));
    if (opt.warmup < 0) throw Error(fmt::format("--warmup {}: cannot be negative", opt.warmup));
    Session session({opt.threads, opt.plugin_paths});
    const Experiment e = session.load(opt.spec, opt.overrides);
    session.apply(e);
    Model model = build_model(e, session.registry());
    detail::Trainer trainer(model, e);

    BenchResult r;
    r.name = e.name;
    r.kind = to_string(model.kind);
    r.precision = to_string(model.precision);
    r.threads = threads();
    r.steps = opt.steps;
    r.warmup = opt.warmup;
    r.batch = trainer.batch_size();
    for (int i = 0; i < opt.warmup; ++i) model.runner->step(trainer, trainer.next_batch());

    std::vector<double> step, data, fwd, bwd, optim, wait, check;
    const double gathered0 = detail::gathered_bytes();
    profile::take();
    profile::set_enabled(true);
    const auto allocs = memory_stats().fresh_allocations;
    for (int i = 0; i < opt.steps; ++i) {
        const auto t0 = Clock::now();
        auto batch = trainer.next_batch();
        const auto t1 = Clock::now();
        model.runner->step(trainer, batch);
        const auto t2 = Clock::now();
        // What a run adds after each step: the scan for NaN and infinities.
        if (!trainer.nonfinite_state(false).empty()) throw Error(fmt::format("bench: step {} diverged (NaN or infinity)", i + 1));
        check.push_back(std::chrono::duration<double>(Clock::now() - t2).count());
        step.push_back(std::chrono::duration<double>(t2 - t0).count());
        data.push_back(std::chrono::duration<double>(t1 - t0).count());
        fwd.push_back(trainer.last_phases().forward);
        bwd.push_back(trainer.last_phases().backward);
        optim.push_back(trainer.last_phases().optimizer);
        if (const auto* g = trainer.gradient_sum()) {
            wait.push_back(g->last().wait_seconds);
            r.grad_mib = double(g->last().bytes) / (1 << 20);
            r.buckets = g->last().buckets;
        }
    }
    profile::set_enabled(false);
    r.ranks = world().size;
    if (r.ranks > 1) {
        r.gather_mib = (detail::gathered_bytes() - gathered0) / opt.steps / (1 << 20);
        r.comm_wait_ms = 1e3 * median(wait);
        // The same bytes summed with nothing to hide behind.
        std::vector<float> buf(static_cast<std::size_t>(r.grad_mib * (1 << 20) / sizeof(float)), 1.0f);
        std::vector<double> t;
        for (int i = 0; i < 12; ++i) {
            detail::barrier();
            const auto t0 = Clock::now();
            detail::allreduce_sum(buf.data(), buf.size());
            if (i >= 2) t.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
        }
        r.allreduce_ms = 1e3 * median(t);
        r.hidden_share = r.allreduce_ms > 0 ? std::clamp(1.0 - r.comm_wait_ms / r.allreduce_ms, 0.0, 1.0) : 0.0;
    }
    r.steady_state_allocations = memory_stats().fresh_allocations - allocs;
    const auto families = profile::take();
    double total_time = 0;
    for (double s : step) total_time += s;
    double profiled = 0;
    for (const auto& [name, e] : families) {
        BenchFamily f{name, 1e3 * e.seconds / opt.steps, e.flops / opt.steps / 1e9, e.seconds / total_time,
                      double(e.calls) / opt.steps};
        r.flops_per_train_step += e.flops / opt.steps;
        profiled += e.seconds;
        r.families.push_back(f);
    }
    std::sort(r.families.begin(), r.families.end(), [](const BenchFamily& a, const BenchFamily& b) { return a.ms_per_step > b.ms_per_step; });
    r.families.push_back({"other (data, our kernels, autograd)", 1e3 * (total_time - profiled) / opt.steps, 0,
                          (total_time - profiled) / total_time, 0});
    r.step_ms_median = 1e3 * median(step);
    r.step_ms_min = 1e3 * *std::min_element(step.begin(), step.end());
    r.data_ms = 1e3 * median(data);
    r.forward_ms = 1e3 * median(fwd);
    r.backward_ms = 1e3 * median(bwd);
    r.optimizer_ms = 1e3 * median(optim);
    r.state_check_ms = 1e3 * median(check);
    r.train_images_per_s = double(r.batch) / (r.step_ms_median / 1e3);
    r.achieved_gflops = r.flops_per_train_step / (r.step_ms_median / 1e3) / 1e9;

    // Inference: the encoder (or generator) alone, no gradients, same batch.
    if (nn::Module* m = trainer.inference_module()) {
        NoGradGuard ng;
        m->train(false);
        Tensor x = trainer.next_batch().x;
        Rng noise(1, "bench noise");
        if (model.generator) x = model.noise->sample({r.batch, model.noise_dim}, noise);
        std::vector<double> inf;
        for (int i = 0; i < opt.warmup + opt.steps; ++i) {
            const auto t0 = Clock::now();
            auto* enc = dynamic_cast<Encoder*>(m);
            Features f = enc->encode(Var(x));
            (void)f;
            if (i >= opt.warmup) inf.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
        }
        r.infer_ms_median = 1e3 * median(inf);
        r.infer_images_per_s = double(r.batch) / median(inf);
    }
    r.peak_rss_mib = peak_rss_mib();
    const MemoryStats pool = memory_stats();
    r.pool_reserved_mib = double(pool.bytes_reserved) / (1 << 20);
    r.pool_peak_in_use_mib = double(pool.peak_bytes_in_use) / (1 << 20);
    if (opt.measure_peak)
        r.peak_gflops = model.precision == Precision::bf16 ? detail::bf16_gemm_gflops() : detail::sgemm_gflops();
    return r;
}

std::string bench_table(const BenchResult& r) {
    std::string s = fmt::format("bench {} ({}, {}, batch {}, {} thread{}{}, {} steps after {} warm-up)\n", r.name, r.kind,
                                r.precision, r.batch, r.threads, r.threads == 1 ? "" : "s",
                                r.ranks > 1 ? fmt::format(" on each of {} ranks", r.ranks) : "", r.steps, r.warmup);
    s += fmt::format("  train      {:>9.1f} images/s   step {:.2f} ms (median; min {:.2f})\n", r.train_images_per_s, r.step_ms_median,
                     r.step_ms_min);
    if (r.infer_images_per_s > 0) s += fmt::format("  inference  {:>9.1f} images/s   {:.2f} ms per batch\n", r.infer_images_per_s, r.infer_ms_median);
    s += fmt::format("  compute    {:.3f} GFLOP per step, {:.1f} GFLOP/s", r.flops_per_train_step / 1e9, r.achieved_gflops);
    if (r.peak_gflops > 0)
        s += fmt::format(" = {:.0f}% of the {:.1f} GFLOP/s {} peak", 100 * r.achieved_gflops / r.peak_gflops, r.peak_gflops,
                         r.precision == "bf16" ? "bf16 GEMM" : "sgemm");
    s += fmt::format("\n  memory     peak RSS {:.0f} MiB; tensor pool {:.0f} MiB held, {:.0f} MiB in use at most; {} buffers "
                     "allocated during the timed steps\n",
                     r.peak_rss_mib, r.pool_reserved_mib, r.pool_peak_in_use_mib, r.steady_state_allocations);
    if (r.ranks > 1)
        s += fmt::format("  ranks      {} | gradients {:.2f} MiB in {} buckets per step: allreduce {:.2f} ms, {:.2f} ms of it "
                         "waited after backward ({:.0f}% hidden) | features gathered {:.2f} MiB per step\n",
                         r.ranks, r.grad_mib, r.buckets, r.allreduce_ms, r.comm_wait_ms, 100 * r.hidden_share, r.gather_mib);
    s += fmt::format("  phases     data {:.2f} ms | forward {:.2f} ms | backward {:.2f} ms | optimizer {:.2f} ms\n", r.data_ms,
                     r.forward_ms, r.backward_ms, r.optimizer_ms);
    s += fmt::format("  NaN check  {:.3f} ms after each step in a run ({:.2f}% of a step)\n", r.state_check_ms,
                     100 * r.state_check_ms / r.step_ms_median);
    s += fmt::format("  {:<38} {:>9} {:>7} {:>9} {:>10} {:>7}\n", "by op family", "ms/step", "share", "GFLOP", "GFLOP/s", "calls");
    for (const auto& f : r.families)
        s += fmt::format("  {:<38} {:>9.2f} {:>6.1f}% {:>9.3f} {:>10.1f} {:>7.0f}\n", f.name, f.ms_per_step, 100 * f.share,
                         f.gflop_per_step, f.ms_per_step > 0 ? f.gflop_per_step / (f.ms_per_step / 1e3) : 0.0, f.calls_per_step);
    return s;
}

std::string bench_json(const BenchResult& r) {
    nlohmann::json j{{"name", r.name},
                     {"kind", r.kind},
                     {"precision", r.precision},
                     {"threads", r.threads},
                     {"batch", r.batch},
                     {"steps", r.steps},
                     {"warmup", r.warmup},
                     {"train_images_per_s", r.train_images_per_s},
                     {"infer_images_per_s", r.infer_images_per_s},
                     {"step_ms_median", r.step_ms_median},
                     {"step_ms_min", r.step_ms_min},
                     {"flops_per_train_step", r.flops_per_train_step},
                     {"achieved_gflops", r.achieved_gflops},
                     {"peak_gflops", r.peak_gflops},
                     {"peak_rss_mib", r.peak_rss_mib},
                     {"pool_reserved_mib", r.pool_reserved_mib},
                     {"pool_peak_in_use_mib", r.pool_peak_in_use_mib},
                     {"steady_state_allocations", r.steady_state_allocations},
                     {"ranks", r.ranks},
                     {"communication", {{"gradient_mib", r.grad_mib}, {"buckets", r.buckets}, {"allreduce_ms", r.allreduce_ms},
                                        {"wait_ms", r.comm_wait_ms}, {"hidden_share", r.hidden_share}, {"gathered_mib", r.gather_mib}}},
                     {"phases_ms", {{"data", r.data_ms}, {"forward", r.forward_ms}, {"backward", r.backward_ms}, {"optimizer", r.optimizer_ms}, {"state_check", r.state_check_ms}}}};
    for (const auto& f : r.families)
        j["families"][f.name] = {{"ms_per_step", f.ms_per_step}, {"share", f.share}, {"gflop_per_step", f.gflop_per_step},
                                 {"calls_per_step", f.calls_per_step}};
    return j.dump(2);
}

}  // namespace infomax
