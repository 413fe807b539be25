// Shared by the fuzz harnesses: the readers take paths, so each input is
// written to a file of this process first. A harness lets infomax::Error (a
// located message for bad input) pass; anything else, a crash, a sanitizer
// report or another exception, is a finding.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

namespace infomax::fuzz {

// A folder of this process under the temporary directory, made once.
inline const std::filesystem::path& work_dir() {
    static const std::filesystem::path dir = [] {
        auto d = std::filesystem::temp_directory_path() / ("infomax-fuzz-" + std::to_string(::getpid()));
        std::filesystem::create_directories(d);
        return d;
    }();
    return dir;
}

// Writes the input to `name` in work_dir() (or a path below it) and returns the path.
inline std::string write_input(const std::string& name, const std::uint8_t* data, std::size_t size) {
    const auto p = work_dir() / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data),
                                                               static_cast<std::streamsize>(size));
    return p.string();
}

}  // namespace infomax::fuzz
