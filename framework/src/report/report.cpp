// HTML reports of runs and suites, and the suite's tables. Plots are inline
// SVG (report/plot.hpp) and the run's own SVG files: the pages need no
// network and no script.
#include "config/document.hpp"
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "run_dir/run_dir.hpp"
#include "experiment/suite_internal.hpp"
#include "infomax/data/files.hpp"
#include "infomax/eval/mi.hpp"
#include "infomax/report/report.hpp"
#include "infomax/eval/plot.hpp"
#include "infomax/runtime/error.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace infomax {

namespace {

std::string html_escape(const std::string& s) {
    std::string o;
    for (char c : s) {
        if (c == '&') o += "&amp;";
        else if (c == '<') o += "&lt;";
        else if (c == '>') o += "&gt;";
        else o += c;
    }
    return o;
}

// "objectives.global.weight=0.5,seed=1" -> "global.weight=0.5,seed=1":
// keys keep their last two parts, so labels fit beside bars and in legends.
std::string short_label(const std::string& setting) {
    std::string out;
    std::size_t start = 0;
    while (start <= setting.size()) {
        const std::size_t end = std::min(setting.find(',', start), setting.size());
        std::string part = setting.substr(start, end - start);
        const std::size_t eq = part.find('=');
        std::string key = part.substr(0, eq);
        const std::size_t last = key.rfind('.');
        if (last != std::string::npos && last > 0) {
            const std::size_t prev = key.rfind('.', last - 1);
            if (prev != std::string::npos) key = key.substr(prev + 1);
        }
        out += (out.empty() ? "" : ",") + key + (eq == std::string::npos ? "" : part.substr(eq));
        start = end + 1;
    }
    return out;
}

std::string read_text(const fs::path& p) {
    std::ifstream in(p);
    return std::string((std::istreambuf_iterator<char>(in)), {});
}

const char* kStyle =
    "<style>body{font-family:'DejaVu Sans',Arial,sans-serif;margin:24px;color:#222;max-width:1200px}"
    "table{border-collapse:collapse;margin:12px 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
    "td:first-child,th:first-child{text-align:left}th{background:#f0f0f0}.best{font-weight:bold;background:#e6f0ff}"
    "pre{background:#f7f7f7;padding:8px;overflow:auto;max-height:400px}figure{display:inline-block;margin:8px}"
    ".failed{color:#b00}</style>\n";

// One line chart per metrics column (not step, epoch, timings), one series per run.
std::string curves(const std::vector<std::pair<std::string, fs::path>>& runs, std::size_t max_series = 12) {
    std::vector<std::string> columns;
    std::map<std::string, eval::Chart> charts;
    for (std::size_t k = 0; k < runs.size() && k < max_series; ++k) {
        const fs::path csv = runs[k].second / "metrics.csv";
        if (!fs::exists(csv)) continue;
        eval::MetricsTable t;
        try {
            t = eval::read_metrics_csv(csv.string());
        } catch (const Error&) {
            continue;
        }
        const std::size_t step = t.column("step");
        for (std::size_t c = 0; c < t.columns.size(); ++c) {
            const std::string& name = t.columns[c];
            if (name == "step" || name == "epoch" || name == "images_per_s") continue;
            if (!charts.count(name)) {
                columns.push_back(name);
                charts[name].title = name;
                charts[name].x_label = "step";
                charts[name].width = 560;
                charts[name].height = 320;
            }
            eval::Series s;
            s.label = runs[k].first;
            for (const auto& row : t.rows) {
                s.x.push_back(row[step]);
                s.y.push_back(row[c]);
            }
            charts[name].series.push_back(std::move(s));
        }
    }
    std::string o;
    for (const auto& c : columns) o += "<figure>" + eval::svg(charts[c]) + "</figure>\n";
    return o;
}

// results.json leaves as text for tables (lists longer than 30, like per-mode
// counts, stay one cell).
std::vector<std::pair<std::string, std::string>> flat_results(const json& j) {
    std::vector<std::pair<std::string, json>> leaves;
    detail::flatten_json(j, "", leaves, 30);
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [k, v] : leaves) out.emplace_back(k, v.is_number_float() ? fmt::format("{:.6g}", v.get<double>()) : v.dump());
    return out;
}

std::string run_report(const fs::path& dir) {
    const std::string name = dir.parent_path().filename().string() + "/" + dir.filename().string();
    std::string o = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + html_escape(name) + "</title>" + kStyle +
                    "</head><body>\n<h1>" + html_escape(name) + "</h1>\n";
    if (fs::exists(dir / "results.json")) {
        const auto flat = flat_results(detail::read_json(dir / "results.json"));
        o += "<h2>Results</h2>\n<table><tr><th>result</th><th>value</th></tr>\n";
        for (const auto& [k, v] : flat) o += "<tr><td>" + html_escape(k) + "</td><td>" + html_escape(v) + "</td></tr>\n";
        o += "</table>\n";
    } else {
        o += "<p class=\"failed\">No results.json: the run has not finished.</p>\n";
    }
    for (const char* svg : {"mi.svg", "samples.svg"})
        if (fs::exists(dir / svg)) o += fmt::format("<h2>{}</h2>\n<img src=\"{}\" alt=\"{}\">\n", svg, svg, svg);
    o += "<h2>Training curves</h2>\n" + curves({{name, dir}}, 1);
    o += "<h2>Spec (resolved)</h2>\n<pre>" + html_escape(read_text(dir / "resolved.yaml")) + "</pre>\n";
    o += "</body></html>\n";
    const fs::path out = dir / "report.html";
    data::write_file_atomic(out.string(), o);
    return out.string();
}

struct Metric {
    std::string path, label, better;
    bool percent = false;
};

const json* at_path(const json& j, const std::string& path) {
    const json* cur = &j;
    std::size_t start = 0;
    while (start <= path.size()) {
        const std::size_t end = std::min(path.find('.', start), path.size());
        const std::string part = path.substr(start, end - start);
        if (cur->is_object()) {
            auto it = cur->find(part);
            if (it == cur->end()) return nullptr;
            cur = &*it;
        } else if (cur->is_array()) {
            char* e = nullptr;
            const long k = std::strtol(part.c_str(), &e, 10);
            if (*e || k < 0 || k >= static_cast<long>(cur->size())) return nullptr;
            cur = &(*cur)[static_cast<std::size_t>(k)];
        } else {
            return nullptr;
        }
        start = end + 1;
    }
    return cur->is_number() ? cur : nullptr;
}

// Without `metrics:` in the suite: every probe's test accuracy, the
// classifier's, held-out bounds, GAN coverage and MI level bias.
std::vector<Metric> default_metrics(const std::vector<json>& results) {
    std::set<std::string> seen;
    std::vector<Metric> out;
    for (const auto& r : results) {
        for (const auto& [k, v] : flat_results(r)) {
            const bool take = (k.starts_with("probes.") && k.ends_with(".test_accuracy")) || k == "classifier.test_accuracy" ||
                              (k.starts_with("held_out.") && (k.ends_with(".value") || k.ends_with(".mi"))) ||
                              k == "gan.modes_covered" || k == "gan.high_quality_share" ||
                              (k.starts_with("mi_levels.") && k.ends_with(".bias"));
            if (take && seen.insert(k).second)
                out.push_back({k, k, k.ends_with(".bias") ? "closer_to_zero" : "higher"});
        }
    }
    return out;
}

std::string fmt_value(double v, bool percent) { return percent ? fmt::format("{:.2f}", 100 * v) : fmt::format("{:.4g}", v); }

std::string suite_report(const fs::path& dir) {
    config::Document suite = detail::load_suite((dir / "suite.yaml").string());
    const YAML::Node& root = suite.root;
    const json runs = detail::read_json(dir / "runs.json");
    // Results by run, and the settings in order of first appearance.
    std::vector<std::string> settings;
    std::map<std::string, std::vector<json>> by_setting;
    std::vector<json> all;
    std::vector<std::pair<std::string, fs::path>> run_dirs;
    for (const auto& r : runs) {
        const std::string setting = r["setting"].get<std::string>();
        if (!by_setting.count(setting)) settings.push_back(setting);
        by_setting[setting];
        const std::string d = r["dir"].get<std::string>();
        if (d.empty() || !fs::exists(fs::path(d) / "results.json")) continue;
        json res = detail::read_json(fs::path(d) / "results.json");
        by_setting[setting].push_back(res);
        all.push_back(res);
        run_dirs.emplace_back(short_label(r["name"].get<std::string>()), fs::path(d));
        run_report(d);
    }
    std::vector<Metric> metrics;
    for (const auto& m : root["metrics"]) {
        Metric x;
        if (m.IsScalar()) {
            x.path = x.label = m.Scalar();
            x.better = "higher";
        } else {
            x.path = m["path"].Scalar();
            x.label = m["label"] ? m["label"].Scalar() : x.path;
            x.better = m["better"].Scalar();
        }
        metrics.push_back(x);
    }
    if (metrics.empty()) metrics = default_metrics(all);
    for (auto& m : metrics) m.percent = m.path.ends_with("accuracy") || m.path.ends_with("share");

    struct Cell {
        double mean = NAN, std = NAN;
        int n = 0;
    };
    std::map<std::string, std::map<std::string, Cell>> cells;  // setting -> metric path
    std::map<std::string, std::string> best;                    // metric path -> setting
    for (const auto& m : metrics) {
        double best_score = -INFINITY;
        for (const auto& s : settings) {
            std::vector<double> v;
            for (const auto& r : by_setting[s])
                if (const json* x = at_path(r, m.path)) v.push_back(x->get<double>());
            Cell c;
            c.n = static_cast<int>(v.size());
            if (!v.empty()) {
                double sum = 0;
                for (double x : v) sum += x;
                c.mean = sum / double(v.size());
                double sq = 0;
                for (double x : v) sq += (x - c.mean) * (x - c.mean);
                c.std = v.size() > 1 ? std::sqrt(sq / double(v.size() - 1)) : 0.0;
                const double score = m.better == "lower" ? -c.mean : m.better == "closer_to_zero" ? -std::abs(c.mean) : c.mean;
                if (score > best_score) best_score = score, best[m.path] = s;
            }
            cells[s][m.path] = c;
        }
    }
    // table.md and table.csv
    std::string md = fmt::format("# {}\n\nMean ± std over seeds (n runs with results); best per column in bold.{}\n\n| setting | n |",
                                 root["name"].Scalar(), std::any_of(metrics.begin(), metrics.end(), [](const Metric& m) { return m.percent; })
                                                            ? " Accuracies and shares in %."
                                                            : "");
    std::string sep = "|---|---:|", csv = "setting,metric,mean,std,n,best\n";
    for (const auto& m : metrics) {
        md += " " + m.label + " |";
        sep += "---:|";
    }
    md += "\n" + sep + "\n";
    for (const auto& s : settings) {
        int n = 0;
        for (const auto& m : metrics) n = std::max(n, cells[s][m.path].n);
        md += fmt::format("| {} | {} |", s, n);
        for (const auto& m : metrics) {
            const Cell& c = cells[s][m.path];
            std::string v = c.n ? fmt::format("{} ± {}", fmt_value(c.mean, m.percent), fmt_value(c.std, m.percent)) : "—";
            if (c.n && best[m.path] == s) v = "**" + v + "**";
            md += " " + v + " |";
            if (c.n)
                csv += fmt::format("\"{}\",{},{:.10g},{:.10g},{},{}\n", s, m.path, c.mean, c.std, c.n, best[m.path] == s ? 1 : 0);
        }
        md += "\n";
    }
    std::vector<std::string> failed;
    for (const auto& r : runs)
        if (r["status"] != "finished" && r["status"] != "done" && r["status"] != "resumed")
            failed.push_back(fmt::format("{} ({}{})", r["name"].get<std::string>(), r["status"].get<std::string>(),
                                         r["error"].get<std::string>().empty() ? "" : ": " + r["error"].get<std::string>()));
    if (!failed.empty()) md += fmt::format("\nRuns without results: {}\n", fmt::join(failed, "; "));
    data::write_file_atomic((dir / "table.md").string(), md);
    data::write_file_atomic((dir / "table.csv").string(), csv);

    // report.html
    std::string o = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>suite " + html_escape(root["name"].Scalar()) +
                    "</title>" + kStyle + "</head><body>\n<h1>Suite " + html_escape(root["name"].Scalar()) + "</h1>\n";
    o += "<table><tr><th>setting</th><th>n</th>";
    for (const auto& m : metrics) o += "<th>" + html_escape(m.label) + (m.percent ? " (%)" : "") + "</th>";
    o += "</tr>\n";
    for (const auto& s : settings) {
        int n = 0;
        for (const auto& m : metrics) n = std::max(n, cells[s][m.path].n);
        o += fmt::format("<tr><td>{}</td><td>{}</td>", html_escape(s), n);
        for (const auto& m : metrics) {
            const Cell& c = cells[s][m.path];
            o += fmt::format("<td{}>{}</td>", c.n && best[m.path] == s ? " class=\"best\"" : "",
                             c.n ? fmt_value(c.mean, m.percent) + " ± " + fmt_value(c.std, m.percent) : "—");
        }
        o += "</tr>\n";
    }
    o += "</table>\n";
    if (root["heatmap"]) {
        const std::string hx = root["heatmap"]["x"].Scalar(), hy = root["heatmap"]["y"].Scalar(),
                          hm = root["heatmap"]["metric"].Scalar();
        // The heat map's axes: the values the suite gave the two keys, in order.
        std::vector<std::string> xs, ys;
        std::map<std::pair<std::string, std::string>, std::vector<double>> vals;
        for (const auto& r : runs) {
            std::string vx, vy;
            for (const auto& ov : r["overrides"]) {
                const std::string s = ov.get<std::string>();
                if (s.starts_with(hx + "=")) vx = s.substr(hx.size() + 1);
                if (s.starts_with(hy + "=")) vy = s.substr(hy.size() + 1);
            }
            if (vx.empty() || vy.empty()) continue;
            if (std::find(xs.begin(), xs.end(), vx) == xs.end()) xs.push_back(vx);
            if (std::find(ys.begin(), ys.end(), vy) == ys.end()) ys.push_back(vy);
            const std::string d = r["dir"].get<std::string>();
            if (d.empty() || !fs::exists(fs::path(d) / "results.json")) continue;
            const json res = detail::read_json(fs::path(d) / "results.json");
            if (const json* x = at_path(res, hm)) vals[{vx, vy}].push_back(x->get<double>());
        }
        std::vector<std::vector<double>> grid(ys.size(), std::vector<double>(xs.size(), NAN));
        for (std::size_t r = 0; r < ys.size(); ++r)
            for (std::size_t c = 0; c < xs.size(); ++c) {
                const auto& v = vals[{xs[c], ys[r]}];
                if (v.empty()) continue;
                double sum = 0;
                for (double x : v) sum += x;
                grid[r][c] = sum / double(v.size());
            }
        std::string title = hm;
        bool percent = hm.ends_with("accuracy") || hm.ends_with("share");
        for (const auto& m : metrics)
            if (m.path == hm) title = m.label;
        if (percent) {
            title += " (%)";
            for (auto& row : grid)
                for (auto& v : row) v *= 100;
        }
        o += "<h2>Heat map: " + html_escape(title) + " (mean over seeds)</h2>\n<figure>" +
             eval::heatmap_svg(title, hx, xs, hy, ys, grid) + "</figure>\n";
    }
    o += "<h2>By setting</h2>\n";
    for (const auto& m : metrics) {
        bool any = false;
        for (const auto& st : settings) any |= cells[st][m.path].n > 0;
        if (!any) continue;  // no run reported this metric
        std::vector<double> means, stds;
        int best_index = -1;
        for (std::size_t i = 0; i < settings.size(); ++i) {
            const Cell& c = cells[settings[i]][m.path];
            means.push_back(m.percent ? 100 * c.mean : c.mean);
            stds.push_back(m.percent ? 100 * c.std : c.std);
            if (c.n && best[m.path] == settings[i]) best_index = static_cast<int>(i);
        }
        std::vector<std::string> labels;
        for (const auto& st : settings) labels.push_back(short_label(st));
        o += "<figure>" + eval::bars_svg(m.label + (m.percent ? " (%)" : ""), labels, means, stds, best_index) + "</figure>\n";
    }
    bool mi = false;
    for (const auto& [name, d] : run_dirs) mi |= fs::exists(d / "mi.svg") || fs::exists(d / "samples.svg");
    if (mi) {
        o += "<h2>Estimates and samples</h2>\n";
        for (const auto& [name, d] : run_dirs)
            for (const char* svg : {"mi.svg", "samples.svg"})
                if (fs::exists(d / svg))
                    o += fmt::format("<figure><img src=\"{}\" alt=\"{}\" width=\"560\"><figcaption>{}</figcaption></figure>\n",
                                     html_escape(fs::relative(d / svg, dir).string()), svg, html_escape(name));
    }
    o += "<h2>Training curves</h2>\n" + curves(run_dirs);
    o += "<h2>Runs</h2>\n<ul>\n";
    for (const auto& r : runs) {
        const std::string d = r["dir"].get<std::string>();
        const std::string status = r["status"].get<std::string>();
        o += fmt::format("<li{}>{}: {}{}</li>\n", status == "failed" ? " class=\"failed\"" : "",
                         d.empty() ? html_escape(r["name"].get<std::string>())
                                   : fmt::format("<a href=\"{}\">{}</a>", html_escape(fs::relative(fs::path(d) / "report.html", dir).string()),
                                                 html_escape(r["name"].get<std::string>())),
                         html_escape(status), r["error"].get<std::string>().empty() ? "" : " — " + html_escape(r["error"].get<std::string>()));
    }
    o += "</ul>\n</body></html>\n";
    const fs::path out = dir / "report.html";
    data::write_file_atomic(out.string(), o);
    return out.string();
}

}  // namespace

std::string write_report(const std::string& dir_in) {
    const fs::path dir = dir_in;
    // The JSON files are read as this infomax wrote them: a value of another
    // type (an edited file) is the user's problem to fix, not an internal error.
    try {
        if (fs::exists(dir / "runs.json") && fs::exists(dir / "suite.yaml")) return suite_report(dir);
        if (fs::exists(dir / "resolved.yaml")) return run_report(dir);
    } catch (const nlohmann::json::exception& e) {
        throw Error(fmt::format("{}: runs.json or a run's results.json holds a value of an unexpected type ({}): the file "
                                "was edited or damaged; run the suite (or the run) again to rewrite it",
                                dir_in, e.what()));
    }
    throw Error(fmt::format("{}: neither a suite directory (suite.yaml, runs.json) nor a run directory (resolved.yaml)", dir_in));
}

}  // namespace infomax
