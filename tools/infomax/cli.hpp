// The command line, declared once (CLI11): the parsing, each command's --help
// and the completion scripts all come from that one declaration (cli.cpp).
#pragma once

#include <string>
#include <vector>

#include "infomax/runtime/error.hpp"

namespace infomax::cli {

// A command line that does not fit the declaration; its message starts with
// the command ("infomax run: ...") and is printed as it is.
struct UsageError : Error {
    using Error::Error;
};

// Parses argv (without the program name) and runs the command it names.
// Returns the exit code; throws infomax::Error (and the library's errors)
// for the caller to print: 0 ok, 1 bad input, 3 reproduce found a difference,
// 130 interrupted.
int run_command_line(const std::vector<std::string>& argv);

}  // namespace infomax::cli
