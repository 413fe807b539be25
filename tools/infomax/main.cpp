// The infomax command line: main() and how errors reach the user. The
// commands and their options are declared in cli.cpp, their work is in
// commands.cpp. Exit codes: 0 ok, 1 user error (spec, data, plugin, command
// line), 2 internal error, 3 reproduce found a difference, 130 interrupted.
#include <fmt/format.h>

#include <exception>
#include <filesystem>
#include <new>
#include <string>
#include <vector>

#include "cli.hpp"
#include "infomax/config/spec.hpp"
#include "infomax/runtime/error.hpp"
#include "infomax/runtime/world.hpp"

namespace {

using infomax::Error;

// What a rank other than 0 prints starts with its rank: under mpirun every
// rank's output arrives on one terminal.
std::string rank_prefix() {
    const auto& w = infomax::world();
    return w.size > 1 && w.rank > 0 ? fmt::format("[rank {}] ", w.rank) : "";
}

int run_cli(const std::vector<std::string>& argv) {
    try {
        return infomax::cli::run_command_line(argv);
    } catch (const infomax::cli::UsageError& e) {
        fmt::print(stderr, "{}{}\n", rank_prefix(), e.what());
    } catch (const infomax::config::SpecError& e) {
        fmt::print(stderr, "{}{}\n", rank_prefix(), e.what());
    } catch (const Error& e) {
        fmt::print(stderr, "{}infomax: {}\n", rank_prefix(), e.what());
    } catch (const std::filesystem::filesystem_error& e) {
        // A folder or file the user gave that cannot be made, read or written.
        fmt::print(stderr, "{}infomax: {}: check the path and its permissions\n", rank_prefix(), e.what());
    } catch (const std::bad_alloc&) {
        fmt::print(stderr, "{}infomax: out of memory: lower the batch size or the model's size, or free memory\n",
                   rank_prefix());
    } catch (const std::exception& e) {
        fmt::print(stderr, "{}infomax: internal error: {}\n", rank_prefix(), e.what());
        return -2;
    }
    return -1;
}

}  // namespace

int main(int argc, char** argv) {
    infomax::init_world();  // under mpirun or srun; alone, nothing happens
    const int rc = run_cli(std::vector<std::string>(argv + 1, argv + argc));
    // An error on one rank: the others may be waiting for it in a collective,
    // so the whole job ends (mpirun reports the code).
    if (rc < 0 && infomax::world().size > 1) infomax::abort_world(-rc);
    infomax::finalize_world();
    return rc < 0 ? -rc : rc;
}
