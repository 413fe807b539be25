// One session per command: the plugin registry, the thread budget and the
// precision, each set once by one rule for every setting:
//   schema default < spec < command line.
// For threads: the default is $INFOMAX_THREADS, else every core this process
// may use; the spec's train.threads replaces it; --threads (or a suite's
// threads_per_run, passed to each run as --threads) wins over both.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "infomax/experiment/experiment.hpp"

namespace infomax {

class Registry;

struct SessionOptions {
    int threads = 0;  // --threads N; 0: not given on the command line
    std::vector<std::string> plugin_paths;  // --plugin-path DIR ...
};

class Session {
public:
    explicit Session(SessionOptions options = {});
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    Registry& registry();
    // Loads a spec with its overrides, loads the plugins it lists, validates
    // it and reads it typed. All problems come in one config::SpecError.
    Experiment load(const std::string& file, const std::vector<std::string>& overrides = {});
    // Sets threads and precision for `e` by the rule above (precision is the
    // spec's; the previous one is restored when the session ends). Returns the thread count.
    int apply(const Experiment& e);
    // The thread count this session gives an experiment, without setting it.
    int threads_for(const Experiment& e) const;
    // True when nothing fixes the count (no --threads, train.threads or
    // $INFOMAX_THREADS): a run's count then follows the machine's load.
    bool threads_follow_load(const Experiment& e) const;
    const SessionOptions& options() const { return options_; }

private:
    SessionOptions options_;
    std::unique_ptr<Registry> registry_;
    struct Scope;
    std::unique_ptr<Scope> scope_;
};

}  // namespace infomax
