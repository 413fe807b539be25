#include "experiment/run_pool.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "infomax/runtime/console.hpp"
#include "infomax/runtime/error.hpp"
#include "infomax/runtime/world.hpp"
#include "runtime/collectives.hpp"

extern char** environ;

namespace fs = std::filesystem;
using nlohmann::json;

namespace infomax::detail {

namespace {

std::atomic<bool> g_suite_stop{false};
struct sigaction g_old_int {}, g_old_term {};
// Message tags between a suite's ranks: reports to rank 0, and its answers.
constexpr int kSuiteReport = 1, kSuiteAssign = 2;
extern "C" void on_suite_sigint(int) { g_suite_stop.store(true); }

std::string last_line(const std::string& file) {
    std::ifstream in(file);
    std::string line, last;
    while (std::getline(in, line))
        if (!line.empty()) last = line;
    return last;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

RunPool::RunPool(const SuiteOptions& opt, SuiteDir dir, const std::vector<PlannedRun>& plan,
                 const std::vector<std::string>& hashes, int threads_per_run, int jobs, SuiteResult& result)
    : opt_(opt), dir_(std::move(dir)), plan_(plan), hashes_(hashes), per_run_(threads_per_run), jobs_(jobs), result_(result) {
    // The environment of a run: without the launcher's variables, a run is a
    // process of its own, not a rank of this job.
    for (char** e = environ; *e; ++e) {
        const std::string v = *e;
        if (v.starts_with("OMPI_") || v.starts_with("PMIX_") || v.starts_with("PMI_") || v.starts_with("INFOMAX_SUITE_PID="))
            continue;
        env_store_.push_back(v);
    }
    env_store_.push_back(fmt::format("INFOMAX_SUITE_PID={}", ::getpid()));  // each run dies with this process
    for (auto& v : env_store_) env_.push_back(v.data());
    env_.push_back(nullptr);
    g_suite_stop.store(false);
    struct sigaction on_int {};
    on_int.sa_handler = on_suite_sigint;
    sigemptyset(&on_int.sa_mask);
    sigaction(SIGINT, &on_int, &g_old_int);
    sigaction(SIGTERM, &on_int, &g_old_term);
}

RunPool::~RunPool() {
    sigaction(SIGINT, &g_old_int, nullptr);
    sigaction(SIGTERM, &g_old_term, nullptr);
}

std::string RunPool::line(std::size_t i) const { return fmt::format("[{}/{}] {}", i + 1, plan_.size(), plan_[i].name); }

std::vector<std::string> RunPool::run_arguments(std::size_t i, const std::string& existing) const {
    const auto& r = plan_[i];
    std::vector<std::string> args{opt_.cli, "--threads", std::to_string(per_run_)};
    for (const auto& p : opt_.plugin_paths) args.insert(args.end(), {"--plugin-path", p});
    // An unfinished directory is continued: from its checkpoint, or from the
    // start when it died before its first (resume reuses it).
    if (!existing.empty()) {
        args.insert(args.end(), {"run", "--resume", existing, "--no-progress"});
    } else {
        args.insert(args.end(), {"run", r.spec});
        args.insert(args.end(), r.overrides.begin(), r.overrides.end());
        args.push_back("--no-progress");
    }
    return args;
}

// Runs `i` in a process of its own; false (and why) when another process holds its claim.
bool RunPool::launch(std::size_t i, std::string* busy) {
    const auto& r = plan_[i];
    fs::create_directories(dir_.run_root(r.name));
    std::string holder;
    auto claim = DirClaim::try_claim(dir_.run_claim(r.name), &holder);
    if (!claim) {
        *busy = fmt::format("another suite process ({}) is running it", holder);
        return false;
    }
    const std::string existing = find_run_dir(dir_.run_root(r.name), hashes_[i]);
    result_.runs[i].dir = existing;
    if (!existing.empty() && RunDir(existing).finished()) {  // finished since the plan
        *busy = "finished by another suite process";
        return false;
    }
    // A run process of a suite that was killed may still hold the run while it
    // writes its checkpoint: it is skipped, never trained twice.
    if (!existing.empty()) {
        std::string user;
        if (!DirClaim::try_claim(RunDir(existing).lock(), &user)) {
            *busy = fmt::format("in use by {} (a run an earlier suite process started): run the suite again once it "
                                "has stopped",
                                user);
            return false;
        }
    }
    std::vector<std::string> args = run_arguments(i, existing);
    const std::string log = dir_.run_log(r.name).string();
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, opt_.cli.c_str(), &fa, nullptr, argv.data(), env_.data());
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) throw Error(fmt::format("cannot start '{}': {}", opt_.cli, std::strerror(rc)));
    const bool resume = !existing.empty();
    running_.emplace(pid, Running{i, std::move(*claim), std::chrono::steady_clock::now(), resume ? "resumed" : "done"});
    const WorldInfo& w = world();
    const std::string where = w.size > 1 ? fmt::format(" (rank {})", w.rank) : "";
    const std::string what = (resume ? "resuming " + existing : std::string("started")) + where;
    if (w.rank == 0) console::info(fmt::format("{}: {}", line(i), what));
    else send_text(0, kSuiteReport, json{{"started", i}, {"what", what}}.dump());
    return true;
}

// How a run process ended: its status, error and directory.
json RunPool::ended(pid_t pid, int status) {
    const auto it = running_.find(pid);
    const std::size_t i = it->second.index;
    const auto started = it->second.started;
    const std::string ok_status = it->second.status;
    running_.erase(it);  // releases the claim
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    json j{{"ended", i}, {"secs", seconds_since(started)}, {"dir", find_run_dir(dir_.run_root(plan_[i].name), hashes_[i])}};
    if (code == 0) {
        j["status"] = ok_status;
    } else if (code == 130) {
        j["status"] = "interrupted";
    } else {
        j["status"] = "failed";
        j["code"] = code;
        j["error"] = last_line(dir_.run_log(plan_[i].name).string());
    }
    return j;
}

// The lead's record of a run that ended on any rank, and its line.
void RunPool::record(const json& j) {
    const std::size_t i = j["ended"].get<std::size_t>();
    auto& r = result_.runs[i];
    r.status = j["status"].get<std::string>();
    r.dir = j["dir"].get<std::string>();
    ++ended_;
    const std::string eta_text = fmt::format(" | {} of {} ended, suite ETA {}", ended_, todo_,
                                             eta(seconds_since(started_) / double(ended_) * double(todo_ - ended_)));
    if (r.status == "interrupted") {
        console::info(fmt::format("{}: interrupted (checkpoint written)", line(i)));
    } else if (r.status == "failed") {
        r.error = j["error"].get<std::string>();
        ++result_.failed;
        console::warn(fmt::format("{}: FAILED (exit {}): {}{}", line(i), j["code"].get<int>(), r.error, eta_text));
    } else if (r.status == "busy") {
        console::info(fmt::format("{}: skipped: {}", line(i), j["error"].get<std::string>()));
    } else {
        console::info(fmt::format("{}: {} in {:.0f} s{}", line(i), r.status, j["secs"].get<double>(), eta_text));
    }
}

json RunPool::busy_record(std::size_t i, const std::string& why) const {
    return json{{"ended", i}, {"status", "busy"}, {"dir", result_.runs[i].dir}, {"error", why}, {"secs", 0.0}};
}

void RunPool::forward_stop() {
    if (!g_suite_stop.load() || forwarded_) return;
    forwarded_ = true;
    for (auto& [p, r] : running_) kill(p, SIGINT);  // each run checkpoints and stops
}

// Rank 0's messages from the other ranks: a request for a run, a run started,
// one ended, a rank done. True when there was any.
bool RunPool::answer_workers(std::deque<std::size_t>& queue, int& workers) {
    bool any = false;
    while (workers > 0) {
        auto m = poll_text(kSuiteReport);
        if (!m) break;
        any = true;
        const json j = json::parse(m->second);
        if (j.contains("want")) {
            std::int64_t i = -1;
            if (!g_suite_stop.load() && !queue.empty()) {
                i = static_cast<std::int64_t>(queue.front());
                queue.pop_front();
            }
            send_text(m->first, kSuiteAssign, json{{"run", i}}.dump());
        } else if (j.contains("started")) {
            console::info(fmt::format("{}: {}", line(j["started"].get<std::size_t>()), j["what"].get<std::string>()));
        } else if (j.contains("ended")) {
            record(j);
        } else if (j.contains("done")) {
            --workers;
        }
    }
    return any;
}

void RunPool::drive_lead(std::deque<std::size_t>& queue) {
    int workers = world().size - 1;
    // Stopped (Ctrl-C), queued runs stay queued: the loop ends once the running ones have.
    while ((!queue.empty() && !g_suite_stop.load()) || !running_.empty() || workers > 0) {
        bool busy_loop = false;
        while (!g_suite_stop.load() && !queue.empty() && static_cast<int>(running_.size()) < jobs_) {
            const std::size_t i = queue.front();
            queue.pop_front();
            std::string why;
            if (!launch(i, &why)) record(busy_record(i, why));
            busy_loop = true;
        }
        forward_stop();
        busy_loop |= answer_workers(queue, workers);
        int status = 0;
        const pid_t pid = running_.empty() ? 0 : waitpid(-1, &status, WNOHANG);
        if (pid > 0 && running_.count(pid)) {
            record(ended(pid, status));
            busy_loop = true;
        }
        if (!busy_loop) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

void RunPool::drive_worker() {
    bool more = true;
    while (true) {
        while (more && !g_suite_stop.load() && static_cast<int>(running_.size()) < jobs_) {
            send_text(0, kSuiteReport, json{{"want", true}}.dump());
            const std::int64_t i = json::parse(receive_text(0, kSuiteAssign))["run"].get<std::int64_t>();
            if (i < 0) {
                more = false;
                break;
            }
            std::string why;
            if (!launch(static_cast<std::size_t>(i), &why))
                send_text(0, kSuiteReport, busy_record(static_cast<std::size_t>(i), why).dump());
        }
        forward_stop();
        if (running_.empty()) break;
        int status = 0;
        const pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0) continue;  // EINTR: Ctrl-C is passed on above
        if (running_.count(pid)) send_text(0, kSuiteReport, ended(pid, status).dump());
    }
    send_text(0, kSuiteReport, json{{"done", true}}.dump());
}

bool RunPool::run(std::deque<std::size_t>& queue) {
    todo_ = queue.size();
    started_ = std::chrono::steady_clock::now();
    if (world().rank == 0) drive_lead(queue);
    else drive_worker();
    return any_rank(g_suite_stop.load());
}

}  // namespace infomax::detail
