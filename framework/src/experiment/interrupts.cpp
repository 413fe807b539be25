#include "experiment/interrupts.hpp"

#include <pthread.h>

namespace infomax::detail {

namespace {
std::atomic<bool>* g_flag = nullptr;
extern "C" void set_stop_flag(int) {
    if (g_flag) g_flag->store(true);
}
// SIGINT (Ctrl-C) and SIGTERM (how mpirun passes Ctrl-C on to its ranks,
// and how Slurm ends a job at its time limit).
sigset_t stop_signals() {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGINT);
    sigaddset(&s, SIGTERM);
    return s;
}
}  // namespace

InterruptGuard::InterruptGuard(std::atomic<bool>& stop) : stop_(stop) {
    const sigset_t set = stop_signals();
    pthread_sigmask(SIG_BLOCK, &set, &old_mask_);
    watcher_ = std::thread([this] {
        const sigset_t s = stop_signals();
        for (;;) {
            int sig = 0;
            if (sigwait(&s, &sig) != 0) continue;
            if (closing_.load()) return;
            if (armed_.load()) {
                stop_.store(true);
                continue;
            }
            // Not training: what the process did before the guard. Ignored
            // stays ignored, a program's own handler is called, and the
            // default ends the process by SIGINT.
            struct sigaction current {};
            sigaction(sig, nullptr, &current);
            if (current.sa_handler == SIG_IGN) continue;
            if (current.sa_flags & SA_SIGINFO) {
                current.sa_sigaction(sig, nullptr, nullptr);
                continue;
            }
            if (current.sa_handler != SIG_DFL) {
                current.sa_handler(sig);
                continue;
            }
            pthread_sigmask(SIG_UNBLOCK, &s, nullptr);
            raise(sig);
        }
    });
}

InterruptGuard::~InterruptGuard() {
    disarm();
    closing_.store(true);
    pthread_kill(watcher_.native_handle(), SIGINT);
    watcher_.join();
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

void InterruptGuard::arm() {
    if (armed_.exchange(true)) return;
    g_flag = &stop_;
    old_handler_ = std::signal(SIGINT, set_stop_flag);
    old_term_handler_ = std::signal(SIGTERM, set_stop_flag);
}

void InterruptGuard::disarm() {
    if (!armed_.exchange(false)) return;
    std::signal(SIGINT, old_handler_);
    std::signal(SIGTERM, old_term_handler_);
    g_flag = nullptr;
}

}  // namespace infomax::detail
