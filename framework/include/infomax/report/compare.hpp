// A suite against published numbers: `infomax suite SUITE --compare REF.csv
// [--tolerance T]`. REF.csv has (after '#' comment lines) a header
// `setting,metric,value[,source]` and a
// row per cell: a setting of the suite as its runs.json names it
// ("spec=infonce_joint"), a path into results.json ("mi_levels.0.median") and
// the reference value. The suite's value of a cell is the mean of the metric
// over the setting's runs with results.
#pragma once

#include <string>
#include <vector>

namespace infomax {

struct CompareCell {
    std::string setting, metric, source;
    double reference = 0, value = 0, difference = 0;  // difference = value - reference
    int runs = 0;                                      // runs of the setting with the metric
    bool pass = false;                                 // |difference| <= tolerance
};

struct CompareResult {
    std::vector<CompareCell> cells;
    int failed = 0;
    std::string text;  // one line per cell and a summary, for stdout
};

// Errors (a reference that does not read, a setting the suite does not have)
// name the reference file and line.
CompareResult compare_suite(const std::string& suite_dir, const std::string& reference_csv, double tolerance);

}  // namespace infomax
