// Reports: read run and suite directories (through the run-directory module)
// and write what a reader wants from them. Reports sit above the experiment
// layer: runs and suites never call them; the CLI does, after a run or a suite.
#pragma once

#include <string>

namespace infomax {

// Writes table.md, table.csv and report.html of a suite directory (from its
// suite.yaml and runs.json), or report.html of a run directory. Returns the
// report's path.
std::string write_report(const std::string& dir);

}  // namespace infomax
