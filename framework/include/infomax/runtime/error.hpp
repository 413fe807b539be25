// Error types. Every error message names what was wrong and what was expected.
#pragma once

#include <stdexcept>
#include <string>

namespace infomax {

// A problem with user input: a spec, a file, a shape. Exit code 1 in the CLI.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// An op was given shapes it cannot work with; the message names op and shapes.
class ShapeError : public Error {
public:
    using Error::Error;
};

// A failure inside oneDNN or another library. Exit code 2 in the CLI.
class InternalError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace infomax
