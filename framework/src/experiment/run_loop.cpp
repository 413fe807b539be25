#include "experiment/run_loop.hpp"

#include <fmt/format.h>

#include <tbb/task_group.h>

#include "experiment/runner.hpp"
#include "experiment/thread_schedule.hpp"
#include "infomax/runtime/console.hpp"
#include "infomax/runtime/error.hpp"
#include "runtime/collectives.hpp"

namespace infomax::detail {

using Clock = std::chrono::steady_clock;

namespace {
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
}  // namespace

MetricsWindow::MetricsWindow(std::vector<double> restored_sums, std::int64_t restored_steps, std::string restored_from)
    : restored_(std::move(restored_sums)), restored_from_(std::move(restored_from)), steps_(restored_steps) {}

void MetricsWindow::add(const StepMetrics& m) {
    if (sums_.empty()) {
        sums_ = m;
        if (!restored_.empty()) {  // the window the checkpoint cut, continued
            if (restored_.size() != m.size())
                throw Error(fmt::format("{}: metrics_window holds {} sums, a step logs {} values", restored_from_,
                                        restored_.size(), m.size()));
            for (std::size_t i = 0; i < m.size(); ++i) sums_[i].second += restored_[i];
            restored_.clear();
        }
    } else {
        for (std::size_t i = 0; i < m.size(); ++i) sums_[i].second += m[i].second;
    }
    ++steps_;
}

StepMetrics MetricsWindow::means() const {
    StepMetrics out;
    for (const auto& [k, v] : sums_) out.emplace_back(k, v / steps_);
    return out;
}

void MetricsWindow::clear() {
    sums_.clear();
    steps_ = 0;
}

void MetricsWindow::save_into(data::TensorFile& checkpoint) const {
    std::vector<double> values;
    for (const auto& [k, v] : sums_) values.push_back(v);
    checkpoint.metadata["metrics_window"] = encode_doubles(values);
    checkpoint.metadata["metrics_window_steps"] = std::to_string(steps_);
}

std::pair<std::vector<double>, std::int64_t> MetricsWindow::read_from(const data::TensorFile& checkpoint, const std::string& path) {
    const auto& meta = checkpoint.metadata;
    const auto it = meta.find("metrics_window");
    if (it == meta.end()) return {{}, 0};
    std::vector<double> sums = decode_doubles(it->second, path + ": metrics_window");
    const auto steps = meta.find("metrics_window_steps");
    if (steps == meta.end()) throw Error(fmt::format("{}: metrics_window without metrics_window_steps", path));
    return {std::move(sums), parse_count(steps->second, "the checkpoint's metrics_window_steps")};
}

ProgressLine::ProgressLine(Log& log, bool tty, bool every_row)
    : log_(log), tty_(tty), every_row_(every_row), last_print_(Clock::now() - std::chrono::hours(1)) {}

void ProgressLine::show(const std::string& line, bool last, bool stopping) {
    const double since = seconds_since(last_print_);
    if (tty_ && !last) {
        if (since < 0.2) return;
        console::live_line(line);
    } else if (last || stopping || since >= 2.0 || every_row_) {
        log_.line(line);
    } else {
        return;
    }
    last_print_ = Clock::now();
}

namespace {

// The state of one loop: what the pieces below share.
struct Loop {
    Trainer& trainer;
    LoopOptions& o;
    ProgressLine progress;
    Clock::time_point started = Clock::now(), window_start = started;
    std::int64_t first = trainer.step();
    std::int64_t timed = 0;  // steps of the window trained by this process (images/s)

    bool stopping() const { return o.stop->load(); }

    // One step: the batch in hand trains while the next one is prepared.
    StepMetrics step(Trainer::Batch& next, tbb::task_group& prefetch, const Runner& runner) {
        o.governor->before_step(trainer.step());  // no TBB work in flight here
        Trainer::Batch current = std::move(next);
        const std::int64_t ahead = trainer.step() + 1;
        Trainer* t = &trainer;
        if (ahead < trainer.total_steps()) prefetch.run([&next, t, ahead] { next = t->batch_for(ahead); });
        StepMetrics m;
        try {
            m = runner.step(trainer, current);
        } catch (...) {
            prefetch.wait();
            throw;
        }
        prefetch.wait();
        // A NaN or an infinity anywhere stops the run before it is saved:
        // the checkpoints before it stay the last good ones.
        if (const std::string bad = trainer.nonfinite_state(false); !bad.empty())
            throw Error(fmt::format("step {}: {} holds NaN or infinite values: training diverged (lower optim.lr, or "
                                    "check the data); nothing of this step was saved",
                                    trainer.step(), bad));
        return m;
    }

    // The row of metrics.csv (when due) and the progress line.
    void report(std::int64_t s, bool last, bool row_due) {
        const double secs = seconds_since(window_start);
        const double per_s = timed * trainer.batch_size() / secs;
        const double epoch = double(s) / trainer.steps_per_epoch();
        const StepMetrics means = o.window.means();
        StepMetrics row{{"step", double(s)}, {"epoch", epoch}};
        row.insert(row.end(), means.begin(), means.end());
        row.emplace_back("images_per_s", per_s);
        if (o.metrics && row_due) o.metrics->write(row);
        std::string bounds;
        for (const auto& [k, v] : means)
            if (k != "loss" && k.find("loss") == std::string::npos) bounds += fmt::format(" {} {:.4f}", k, v);
        const double done = seconds_since(started);
        progress.show(fmt::format("epoch {:.2f} step {}/{} | {:.0f} img/s | ETA {} |{}", epoch, s, trainer.total_steps(), per_s,
                                  eta(done / double(s - first) * double(trainer.total_steps() - s)), bounds),
                      last, stopping());
    }

    // Checkpoints every checkpoint_every steps, at the end and at a stop
    // (rank 0 writes; every rank checks that the ranks still agree).
    void checkpoint(std::int64_t s, bool row_due) {
        std::string differs;
        if (o.parallel && !ranks_agree(trainer.parameters(), &differs))
            throw Error(fmt::format("step {}: the ranks' copies of parameter '{}' differ (the ranks diverged); please "
                                    "report this",
                                    s, differs));
        if (const std::string bad = trainer.nonfinite_state(true); !bad.empty())
            throw Error(fmt::format("step {}: {} holds NaN or infinite values: not saved", s, bad));
        if (!o.lead) return;
        data::TensorFile ck = trainer.checkpoint();
        if (o.window.steps() > 0 && !row_due) o.window.save_into(ck);  // the open window, completed on resume
        if (o.held_out_every > 0) o.held_out.save_into(ck);
        o.metrics->sync();  // the rows a resume from this checkpoint keeps are on disk
        save_checkpoint(o.dir.path(), trainer.step(), ck);
    }
};

}  // namespace

LoopResult train_loop(Trainer& trainer, const Runner& runner, LoopOptions& o) {
    const bool every_row = o.log_every * 20 >= trainer.total_steps() || console::level() == console::Level::verbose;
    Loop loop{trainer, o, ProgressLine(*o.log, o.tty, every_row)};
    LoopResult result;
    result.started = loop.started;
    tbb::task_group prefetch;  // batches are a pure function of the step: prefetching changes no bits
    Trainer::Batch next;
    // A run the protocol stopped (its last checkpoint says so) trains no more.
    result.stopped_early = o.held_out_every > 0 && o.held_out.stopped_early;
    if (trainer.step() < trainer.total_steps() && !result.stopped_early) next = trainer.next_batch();
    while (trainer.step() < trainer.total_steps() && !result.stopped_early) {
        o.window.add(loop.step(next, prefetch, runner));
        // Every rank stops at the same step: a rank that stopped alone would
        // leave the others waiting in the next step's collectives.
        if (o.parallel && any_rank(o.stop->load())) o.stop->store(true);
        const std::int64_t s = trainer.step();
        if (o.after_step) o.after_step(s);
        ++loop.timed;
        bool last = s == trainer.total_steps();
        if (o.held_out_every > 0 && (s % o.held_out_every == 0 || last)) {
            const std::vector<double> batches = o.held_out_estimate();
            const bool stop = o.held_out.record(s, batches, o.patience);
            o.log->line(fmt::format("held-out estimate at step {}: {:.4f}", s, o.held_out.evaluations.back().second));
            if (stop && !last) {
                o.log->line(fmt::format("early stopping at step {}: {} held-out evaluations without a better estimate than "
                                        "{:.4f} (step {})",
                                        s, o.patience, o.held_out.best, o.held_out.best_step));
                last = true;  // the run ends here, finished: its rows, checkpoint and evaluation as at the last step
                result.stopped_early = true;
            }
        }
        // Rows cover whole windows of log_every steps, as in a run never
        // interrupted: a window cut by a checkpoint is completed after a resume.
        const bool row_due = s % o.log_every == 0 || last;
        if (row_due || loop.stopping()) loop.report(s, last, row_due);
        if (row_due) {
            o.window.clear();
            loop.timed = 0;
            loop.window_start = Clock::now();
        }
        if (s % o.checkpoint_every == 0 || last || loop.stopping()) loop.checkpoint(s, row_due);
        if (loop.stopping() && !last) {
            result.interrupted = true;
            o.log->line(fmt::format("\ninterrupted at step {}: checkpoint written; continue with: infomax run --resume {}", s,
                                    o.dir.string()));
            break;
        }
    }
    return result;
}

}  // namespace infomax::detail
