// Ctrl-C (and SIGTERM: mpirun passes Ctrl-C on as SIGTERM, Slurm ends a job
// with it) for a training run, without signal handlers on compute threads.
//
// oneDNN's JIT kernels may point rsp into heap memory while they run (rsp is
// used as a general register). A signal delivered to such a thread makes the
// kernel write its signal frame there: heap corruption ("corrupted size vs.
// prev_size" a few frees later; a core dump showed the sigcontext, with rsp on
// the heap and rip in JIT code). So SIGINT and SIGTERM are blocked in the thread that builds
// and trains the model, and thus in every OpenMP/TBB worker it creates, and a
// watcher thread takes it with sigwait.
//
// Armed (the training loop), SIGINT sets the stop flag: the run checkpoints and
// stops. Disarmed (setup, evaluation), it does what the process's disposition
// says: nothing if ignored, the program's handler, or the default (the
// process ends by SIGINT). Threads that existed before the guard keep their mask; for them
// the stop handler stays installed while armed.
#pragma once

#include <atomic>
#include <csignal>
#include <thread>

namespace infomax::detail {

class InterruptGuard {
public:
    explicit InterruptGuard(std::atomic<bool>& stop);
    ~InterruptGuard();
    InterruptGuard(const InterruptGuard&) = delete;
    InterruptGuard& operator=(const InterruptGuard&) = delete;

    void arm();
    void disarm();

private:
    std::atomic<bool>& stop_;
    std::atomic<bool> armed_{false}, closing_{false};
    sigset_t old_mask_{};
    void (*old_handler_)(int) = SIG_DFL;
    void (*old_term_handler_)(int) = SIG_DFL;
    std::thread watcher_;
};

}  // namespace infomax::detail
