// The infomax command line. Subcommands come from one table; an unknown one
// lists those that exist. Exit codes: 0 ok, 1 user error, 2 internal error.
#include <fmt/format.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "infomax/runtime/error.hpp"
#include "infomax/runtime/threads.hpp"
#include "infomax/version.hpp"

namespace {

struct Command {
    const char* name;
    const char* summary;
    std::function<int(const std::vector<std::string>&)> run;
};

int cmd_version(const std::vector<std::string>&) {
    fmt::print("{}\n", infomax::build_info());
    return 0;
}

const std::vector<Command>& commands();

int cmd_help(const std::vector<std::string>&) {
    fmt::print(
        "infomax {} - Deep InfoMax and mutual-information learning on the CPU\n\n"
        "usage: infomax [--threads N] <command> [args]\n\n"
        "commands:\n",
        infomax::version());
    for (const auto& c : commands()) fmt::print("  {:<10} {}\n", c.name, c.summary);
    fmt::print(
        "\noptions:\n"
        "  --threads N   threads for oneDNN and TBB together (default: $INFOMAX_THREADS, else all cores)\n"
        "  --version     same as 'infomax version'\n"
        "  -h, --help    this text\n\n"
        "Training from YAML specs (run, validate, show, plugins, eval) is not implemented yet;\n"
        "the compute core (tensors, ops, autograd, optimizers) is in libinfomax.\n");
    return 0;
}

const std::vector<Command>& commands() {
    static const std::vector<Command> table{
        {"help", "show this help", cmd_help},
        {"version", "print versions of infomax, oneDNN (ISA, runtime), oneTBB and the thread count", cmd_version},
    };
    return table;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    try {
        int threads = 0;
        std::vector<std::string> rest;
        for (std::size_t i = 0; i < args.size(); ++i) {
            const std::string& a = args[i];
            if (a == "--threads") {
                if (i + 1 >= args.size()) throw infomax::Error("--threads needs a number, e.g. --threads 2");
                char* end = nullptr;
                const long n = std::strtol(args[++i].c_str(), &end, 10);
                if (*end != '\0' || n < 1) throw infomax::Error(fmt::format("--threads '{}': expected a whole number >= 1", args[i]));
                threads = static_cast<int>(n);
            } else if (a == "-h" || a == "--help") {
                rest.insert(rest.begin(), "help");
            } else if (a == "--version") {
                rest.insert(rest.begin(), "version");
            } else {
                rest.push_back(a);
            }
        }
        infomax::set_threads(threads);
        if (rest.empty()) return cmd_help({}), 1;
        for (const auto& c : commands())
            if (rest[0] == c.name) return c.run(std::vector<std::string>(rest.begin() + 1, rest.end()));
        std::string known;
        for (const auto& c : commands()) known += (known.empty() ? "" : ", ") + std::string(c.name);
        fmt::print(stderr, "infomax: unknown command '{}' (known: {})\n", rest[0], known);
        return 1;
    } catch (const infomax::Error& e) {
        fmt::print(stderr, "infomax: {}\n", e.what());
        return 1;
    } catch (const std::exception& e) {
        fmt::print(stderr, "infomax: internal error: {}\n", e.what());
        return 2;
    }
}
