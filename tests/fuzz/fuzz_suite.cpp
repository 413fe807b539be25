// The suite planner and the Slurm writer's checks, chosen at compile time:
//  suite: a suite file (base spec: a tiny one written beside it), loaded,
//         validated and planned into runs (nothing runs);
//  slurm: the values written into job scripts, one a line (partition, time,
//         account, mem), through the checks that guard the #SBATCH lines.
// Inputs naming plugins are skipped: a fuzzer must not load libraries.
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "config/document.hpp"
#include "experiment/suite_internal.hpp"
#include "fuzz_support.hpp"
#include "infomax/runtime/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace infomax;
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
#if FUZZ_TARGET_suite
        if (text.find("plugin") != std::string::npos) return 0;
        static const std::string base = [] {
            const std::string spec = "name: tiny\nkind: mi_estimation\ndata: {type: gaussian, batch_size: 8}\n"
                                     "objectives: {mi: {estimator: infonce, discriminator: {type: joint, critic_layers: [4]}}}\n";
            return fuzz::write_input("tiny.yaml", reinterpret_cast<const std::uint8_t*>(spec.data()), spec.size());
        }();
        (void)base;
        const std::string file = fuzz::write_input("suite.yaml", data, size);
        const config::Document doc = detail::load_suite(file);
        std::vector<detail::SweptKey> swept;
        detail::plan_suite(doc, file, &swept);
#elif FUZZ_TARGET_slurm
        SuiteOptions o;
        std::istringstream lines(text);
        for (std::string* field : {&o.partition, &o.time, &o.account, &o.mem})
            if (!std::getline(lines, *field)) break;
        detail::check_slurm_options(o, fuzz::work_dir() / "suite");
#else
#error "FUZZ_TARGET_<name> is not set"
#endif
    } catch (const Error&) {
    }
    return 0;
}
