// The spec loader: YAML, then overrides (one per line after a line
// "#overrides"), through the session's load (parse, schema, parts' params,
// the typed experiment). Inputs naming plugins or other files are skipped: a
// fuzzer must not load libraries or read files it names.
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "infomax/experiment/session.hpp"
#include "infomax/runtime/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace infomax;
    static Session session;
    std::string text(reinterpret_cast<const char*>(data), size);
    if (text.find("plugin") != std::string::npos || text.find("extends") != std::string::npos) return 0;
    std::vector<std::string> overrides;
    if (const auto cut = text.find("\n#overrides\n"); cut != std::string::npos) {
        for (std::size_t p = cut + 12; p < text.size();) {
            const auto end = text.find('\n', p);
            overrides.push_back(text.substr(p, end == std::string::npos ? std::string::npos : end - p));
            p = end == std::string::npos ? text.size() : end + 1;
        }
        text.resize(cut);
    }
    const std::string file = fuzz::write_input("spec.yaml", reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
    try {
        session.load(file, overrides);
    } catch (const Error&) {
    }
    return 0;
}
