#include "infomax/report/compare.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "infomax/data/files.hpp"
#include "infomax/runtime/error.hpp"
#include "run_dir/run_dir.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace infomax {

namespace {

// A CSV line's fields without the spaces (and a CRLF's CR) around them.
std::vector<std::string> fields(const std::string& line) {
    std::vector<std::string> out = data::split_csv_line(line);
    for (auto& f : out) {
        while (!f.empty() && (f.back() == '\r' || f.back() == ' ')) f.pop_back();
        while (!f.empty() && f.front() == ' ') f.erase(f.begin());
    }
    return out;
}

}  // namespace

CompareResult compare_suite(const std::string& suite_dir, const std::string& reference_csv, double tolerance) {
    const detail::SuiteDir suite(suite_dir);
    // Each setting's metric values over its finished runs.
    const json runs = detail::read_json(suite.runs());
    std::map<std::string, std::vector<json>> results;
    std::set<std::string> settings;
    for (const auto& r : runs) {
        const std::string setting = r.value("setting", std::string());
        settings.insert(setting);
        const std::string d = r.value("dir", std::string());
        if (!d.empty() && detail::RunDir(d).finished()) results[setting].push_back(detail::read_json(detail::RunDir(d).results()));
    }
    std::ifstream in(reference_csv);
    if (!in) throw Error(fmt::format("{}: cannot read it (no such file or not readable)", reference_csv));
    std::string line;
    int number = 0;
    while (std::getline(in, line) && (++number, !line.empty() && line[0] == '#')) {  // comments before the header
    }
    const auto header = fields(line);
    if (header.size() < 3 || header[0] != "setting" || header[1] != "metric" || header[2] != "value")
        throw Error(fmt::format("{}:{}: expected the header setting,metric,value[,source]", reference_csv, std::max(number, 1)));
    CompareResult out;
    while (std::getline(in, line)) {
        ++number;
        if (line.empty() || line[0] == '#') continue;
        const auto f = fields(line);
        if (f.size() < 3) throw Error(fmt::format("{}:{}: expected setting,metric,value", reference_csv, number));
        CompareCell c;
        c.setting = f[0];
        c.metric = f[1];
        c.source = f.size() > 3 ? f[3] : "";
        const char* b = f[2].data();
        const auto [p, ec] = std::from_chars(b, b + f[2].size(), c.reference);
        if (ec != std::errc() || p != b + f[2].size() || !std::isfinite(c.reference))
            throw Error(fmt::format("{}:{}: the value '{}' is not a finite number", reference_csv, number, f[2]));
        if (!settings.count(c.setting))
            throw Error(fmt::format("{}:{}: the suite has no setting '{}' (its settings are as runs.json names them, e.g. "
                                    "'{}')",
                                    reference_csv, number, c.setting, settings.empty() ? "" : *settings.begin()));
        double sum = 0;
        for (const auto& res : results[c.setting])
            if (const json* v = detail::number_at(res, c.metric)) {
                sum += v->get<double>();
                ++c.runs;
            }
        c.value = c.runs ? sum / c.runs : NAN;
        c.difference = c.value - c.reference;
        c.pass = c.runs > 0 && std::abs(c.difference) <= tolerance;
        out.failed += !c.pass;
        out.text += fmt::format("{} {} {}: {:.4f} (mean of {} run{}) against {:.4f}{}: {:+.4f} {}\n", c.pass ? "pass" : "FAIL",
                                c.setting, c.metric, c.value, c.runs, c.runs == 1 ? "" : "s", c.reference,
                                c.source.empty() ? "" : " (" + c.source + ")", c.difference,
                                c.runs ? (c.pass ? "within" : "beyond") + fmt::format(" {:g}", tolerance) : "no run has this metric");
        out.cells.push_back(c);
    }
    out.text += fmt::format("compare: {} of {} cells within {:g} of {}\n", out.cells.size() - out.failed, out.cells.size(),
                            tolerance, reference_csv);
    return out;
}

}  // namespace infomax
