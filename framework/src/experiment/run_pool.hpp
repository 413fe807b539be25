// A suite's process pool (internal): each planned run in an `infomax run`
// process of its own, `jobs` at once, under a claim (an flock on
// <run>/.claim) so two suite processes never train one run twice. Under
// mpirun rank 0 keeps the queue and hands runs to whichever rank has a free
// slot (itself included); the other ranks ask, run and report. Ctrl-C or
// SIGTERM stops handing out runs and passes SIGINT to the running ones, which
// checkpoint.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "infomax/experiment/suite.hpp"
#include "run_dir/run_dir.hpp"
#include "suite_internal.hpp"

namespace infomax::detail {

class RunPool {
public:
    // `result.runs` has one entry per planned run; the pool fills in status,
    // dir and error as runs end (on rank 0), and counts failures.
    RunPool(const SuiteOptions& opt, SuiteDir dir, const std::vector<PlannedRun>& plan, const std::vector<std::string>& hashes,
            int threads_per_run, int jobs, SuiteResult& result);
    ~RunPool();
    RunPool(const RunPool&) = delete;
    RunPool& operator=(const RunPool&) = delete;

    // Runs the queue (rank 0's; other ranks pass theirs empty) until it is
    // empty or a stop, and every started run has ended. Runs a stop left
    // queued stay in `queue`. Returns whether any rank was stopped.
    bool run(std::deque<std::size_t>& queue);

private:
    struct Running {
        std::size_t index;
        DirClaim claim;
        std::chrono::steady_clock::time_point started;
        std::string status;  // done or resumed, if it ends well
    };
    bool launch(std::size_t i, std::string* busy);
    std::vector<std::string> run_arguments(std::size_t i, const std::string& existing) const;
    nlohmann::json ended(pid_t pid, int status);
    void record(const nlohmann::json& j);
    nlohmann::json busy_record(std::size_t i, const std::string& why) const;
    void forward_stop();
    void drive_lead(std::deque<std::size_t>& queue);
    bool answer_workers(std::deque<std::size_t>& queue, int& workers);
    void drive_worker();
    std::string line(std::size_t i) const;

    const SuiteOptions& opt_;
    SuiteDir dir_;
    const std::vector<PlannedRun>& plan_;
    const std::vector<std::string>& hashes_;
    int per_run_, jobs_;
    SuiteResult& result_;
    std::map<pid_t, Running> running_;
    std::vector<std::string> env_store_;
    std::vector<char*> env_;
    std::size_t todo_ = 0, ended_ = 0;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    bool forwarded_ = false;
};

}  // namespace infomax::detail
