#include "experiment/interrupts.hpp"

#include <pthread.h>

namespace infomax::detail {

namespace {
std::atomic<bool>* g_flag = nullptr;
extern "C" void set_stop_flag(int) {
    if (g_flag) g_flag->store(true);
}
sigset_t sigint_set() {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGINT);
    return s;
}
}  // namespace

InterruptGuard::InterruptGuard(std::atomic<bool>& stop) : stop_(stop) {
    const sigset_t set = sigint_set();
    pthread_sigmask(SIG_BLOCK, &set, &old_mask_);
    watcher_ = std::thread([this] {
        const sigset_t s = sigint_set();
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
            sigaction(SIGINT, nullptr, &current);
            if (current.sa_handler == SIG_IGN) continue;
            if (current.sa_flags & SA_SIGINFO) {
                current.sa_sigaction(SIGINT, nullptr, nullptr);
                continue;
            }
            if (current.sa_handler != SIG_DFL) {
                current.sa_handler(SIGINT);
                continue;
            }
            pthread_sigmask(SIG_UNBLOCK, &s, nullptr);
            raise(SIGINT);
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
}

void InterruptGuard::disarm() {
    if (!armed_.exchange(false)) return;
    std::signal(SIGINT, old_handler_);
    g_flag = nullptr;
}

}  // namespace infomax::detail
