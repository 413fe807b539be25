// HTML reports of runs and suites, and the suite's tables. Every figure is a
// standalone SVG under the directory's figures/ (eval/plot.hpp), shown by the
// page as an image: the pages need no network and no script, and papers take
// the files as they are.
#include "config/document.hpp"
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

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
        else if (c == '"') o += "&quot;";
        else o += c;
    }
    return o;
}

// A run or setting name's key=value parts: "a.b=1,c=[x, y],seed=2" ->
// (a.b, 1), (c, [x, y]), (seed, 2). A comma inside brackets or braces belongs
// to its value (a swept list).
std::vector<std::pair<std::string, std::string>> name_parts(const std::string& name) {
    std::vector<std::pair<std::string, std::string>> out;
    std::string part;
    int depth = 0;
    auto flush = [&] {
        const std::size_t eq = part.find('=');
        if (!part.empty()) out.emplace_back(part.substr(0, eq), eq == std::string::npos ? "" : part.substr(eq + 1));
        part.clear();
    };
    for (char c : name) {
        if (c == '[' || c == '{') ++depth;
        if (c == ']' || c == '}') --depth;
        if (c == ',' && depth <= 0) flush();
        else part += c;
    }
    flush();
    return out;
}

// Short labels that tell the names apart: only the keys whose values differ
// between them, each key by the fewest trailing parts that no other kept key
// shares ("objectives.global.weight" -> "weight", or "global.weight" beside
// "local.weight"), a spec by its file's stem. {"...weight=0.5,seed=1", ...}
// -> {"weight=0.5 seed=1", ...}.
std::vector<std::string> distinct_labels(const std::vector<std::string>& names) {
    std::vector<std::map<std::string, std::string>> parts;
    std::vector<std::string> keys;  // in order of first appearance
    for (const auto& n : names) {
        parts.emplace_back();
        for (const auto& [k, v] : name_parts(n)) {
            if (!parts.back().count(k) && std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
            parts.back()[k] = v;
        }
    }
    std::vector<std::string> kept;
    for (const auto& k : keys) {
        std::set<std::string> values;
        for (const auto& p : parts) values.insert(p.count(k) ? p.at(k) : std::string("\x01"));  // absent differs from any value
        if (values.size() > 1) kept.push_back(k);
    }
    auto suffix = [](const std::string& key, std::size_t n) {  // the last n dotted parts
        std::size_t at = key.size();
        for (std::size_t i = 0; i < n && at != std::string::npos && at > 0; ++i) at = key.rfind('.', at - 1);
        return at == std::string::npos ? key : key.substr(at + 1);
    };
    std::map<std::string, std::string> shown;
    for (const auto& k : kept) {
        std::size_t n = 1;
        auto clashes = [&](const std::string& s) {
            // A bare index ("layers.4") says nothing alone: take its parent too.
            if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos && s != k) return true;
            for (const auto& other : kept)
                if (other != k && suffix(other, n) == s) return true;
            return false;
        };
        while (suffix(k, n) != k && clashes(suffix(k, n))) ++n;
        shown[k] = suffix(k, n);
    }
    std::vector<std::string> out;
    for (std::size_t i = 0; i < names.size(); ++i) {
        std::string label;
        for (const auto& k : kept) {
            if (!parts[i].count(k)) continue;
            label += (label.empty() ? "" : " ") + (k == "spec" ? parts[i].at(k) : shown[k] + "=" + parts[i].at(k));
        }
        out.push_back(label.empty() ? names[i] : label);  // one name, or names that differ in nothing
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
    "pre{background:#f7f7f7;padding:8px;overflow:auto;max-height:400px}figure{display:inline-block;margin:8px;vertical-align:top}"
    "figcaption{max-width:540px;font-size:13px;color:#444}img{max-width:100%}.sub{color:#777;font-size:12px}"
    ".failed{color:#b00}</style>\n";

// Figures go to <figures>/<name>.svg (RunDir::figures, SuiteDir::figures);
// the page beside that folder shows them by relative path.
class Figures {
public:
    explicit Figures(fs::path figures) : dir_(std::move(figures)) {}
    // Writes the SVG and returns the HTML figure showing it.
    std::string add(const std::string& name, const std::string& svg, const std::string& caption) {
        std::string file = name;
        for (auto& ch : file)
            if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '-')) ch = '_';
        while (written_.count(file + ".svg")) file += "_";
        written_.insert(file + ".svg");
        fs::create_directories(dir_);
        data::write_file_atomic((dir_ / (file + ".svg")).string(), svg);
        return fmt::format("<figure><img src=\"{}/{}.svg\" alt=\"{}\">{}</figure>\n", html_escape(dir_.filename().string()),
                           html_escape(file), html_escape(name),
                           caption.empty() ? "" : "<figcaption>" + caption + "</figcaption>");
    }
    // Figures of an earlier report that this one did not write go (once the
    // page is written: a report that failed half-way keeps the old ones).
    void remove_stale() {
        std::error_code ec;
        if (!fs::is_directory(dir_, ec)) return;
        for (const auto& e : fs::directory_iterator(dir_, ec))
            if (e.path().extension() == ".svg" && !written_.count(e.path().filename().string())) fs::remove(e.path(), ec);
    }

private:
    fs::path dir_;
    std::set<std::string> written_;
};

// A value's unit: as the run's estimators declared it (a run's manifest
// "units", by metrics column), else from its name: MI readings and losses are
// in nats (natural logarithms), accuracies and shares are shown in percent.
using Units = std::map<std::string, std::string>;
std::string unit_of(const std::string& name, const Units& units = {}) {
    if (auto it = units.find(name); it != units.end()) return it->second;
    const std::string last = name.substr(name.rfind('.') == std::string::npos ? 0 : name.rfind('.') + 1);
    if (last.ends_with("accuracy") || last.ends_with("share")) return "%";
    if (name.starts_with("mi_levels.")) return last == "variance" || last == "mse" ? "nats²" : last == "rows" ? "" : "nats";
    if (name.starts_with("held_out.") && (last == "value" || last == "mi" || last == "true_mi")) return "nats";
    static const std::set<std::string> nats = {"mi", "true_mi", "cross_entropy", "loss", "g_loss", "d_loss"};
    if (nats.count(last) || last.starts_with("mi_")) return "nats";
    return "";
}
std::string with_unit(const std::string& label, const std::string& unit) { return unit.empty() ? label : label + " (" + unit + ")"; }

// The centred running median over 2h+1 values (fewer at the ends), NaN
// skipped: it follows the trend and, unlike a mean or an EMA, a single spike
// does not move it.
std::vector<double> running_median(const std::vector<double>& y, std::size_t h) {
    std::vector<double> out(y.size(), NAN), w;
    for (std::size_t i = 0; i < y.size(); ++i) {
        w.clear();
        for (std::size_t j = i > h ? i - h : 0; j <= std::min(y.size() - 1, i + h); ++j)
            if (std::isfinite(y[j])) w.push_back(y[j]);
        if (w.empty() || !std::isfinite(y[i])) continue;
        std::nth_element(w.begin(), w.begin() + long(w.size() / 2), w.end());
        out[i] = w[w.size() / 2];
    }
    return out;
}

// The units a run's manifest records for its bounds, added to `units`; a
// manifest without them (an older run) or one that does not read adds none.
void read_units(const fs::path& dir, Units& units) {
    const fs::path file = detail::RunDir(dir).manifest();
    if (!fs::exists(file)) return;
    try {
        const json m = detail::read_json(file);
        if (!m.is_object() || !m.contains("units") || !m["units"].is_object()) return;
        for (const auto& [k, v] : m["units"].items())
            if (v.is_string()) units[k] = v.get<std::string>();
    } catch (const Error&) {
    }
}

// A group of runs drawn as one line: a setting's seeds, or a single run.
struct CurveGroup {
    std::string label;
    std::vector<fs::path> runs;
};

// One chart per metrics column (not step, epoch, throughput): per group the
// mean over its runs at each step (faint), its running median (solid, in the
// group's colour) and the min-max band of its runs. A metrics.csv that does
// not read is named in the page, and its run left out.
std::string curves(Figures& figures, const std::vector<CurveGroup>& groups) {
    std::string problems;
    std::vector<std::string> columns;
    // column -> group -> step -> values of the group's runs
    std::map<std::string, std::map<std::size_t, std::map<double, std::vector<double>>>> data;
    std::size_t most_runs = 0;
    Units units;
    for (std::size_t g = 0; g < groups.size(); ++g) {
        most_runs = std::max(most_runs, groups[g].runs.size());
        for (const auto& dir : groups[g].runs) {
            const fs::path csv = detail::RunDir(dir).metrics_csv();
            if (!fs::exists(csv)) continue;
            read_units(dir, units);
            eval::MetricsTable t;
            std::size_t step = 0;
            try {
                t = eval::read_metrics_csv(csv.string());
                step = t.column("step");
            } catch (const Error& e) {
                problems += "<p class=\"failed\">" + html_escape(e.what()) + ": its curves are left out</p>\n";
                continue;
            }
            for (std::size_t c = 0; c < t.columns.size(); ++c) {
                const std::string& name = t.columns[c];
                if (name == "step" || name == "epoch" || name == "images_per_s") continue;
                if (!data.count(name)) columns.push_back(name);
                auto& by_step = data[name][g];
                const double scale = unit_of(name, units) == "%" ? 100 : 1;
                for (const auto& row : t.rows)
                    if (std::isfinite(row[step])) by_step[row[step]].push_back(scale * row[c]);
            }
        }
    }
    std::string o = problems;
    const bool single = groups.size() == 1;
    for (const auto& name : columns) {
        eval::Chart chart;
        chart.title = name;
        chart.x_label = "training step";
        chart.y_label = with_unit(name, unit_of(name, units));
        chart.width = 540;  // two beside each other on a wide screen
        chart.height = 340;
        std::size_t window = 0;  // 0: too few values to smooth
        std::vector<eval::Series> raw, smooth;
        std::vector<std::size_t> group_of;
        for (const auto& [g, by_step] : data[name]) {
            eval::Series r, s;
            for (const auto& [x, vs] : by_step) {
                double sum = 0, lo = INFINITY, hi = -INFINITY;
                int n = 0;
                for (double v : vs)
                    if (std::isfinite(v)) sum += v, ++n, lo = std::min(lo, v), hi = std::max(hi, v);
                r.x.push_back(x);
                r.y.push_back(n ? sum / n : NAN);
                s.band_lo.push_back(n ? lo : NAN);
                s.band_hi.push_back(n ? hi : NAN);
            }
            if (groups[g].runs.size() < 2) s.band_lo.clear(), s.band_hi.clear();
            // Half a window of about a fiftieth of the points, at least 2 (a
            // median of 5): smoothing only where there is something to smooth.
            const std::size_t h = std::max<std::size_t>(2, r.y.size() / 50);
            const bool smoothed = r.y.size() >= 10;
            if (smoothed) window = std::max(window, 2 * h + 1);
            s.x = r.x;
            s.y = smoothed ? running_median(r.y, h) : r.y;
            s.stroke = 1.8;
            s.label = !single ? groups[g].label : smoothed ? fmt::format("running median of {} logged values", 2 * h + 1) : "logged values";
            r.opacity = 0.3;
            r.stroke = 1;
            if (single && smoothed) r.label = "logged values";
            if (!smoothed) r.y.clear();  // the solid line is the raw one
            raw.push_back(std::move(r));
            group_of.push_back(g);
            smooth.push_back(std::move(s));
        }
        // One colour per group in every chart, the faint raw line and the smooth one alike.
        for (std::size_t k = 0; k < raw.size(); ++k) {
            raw[k].color = smooth[k].color = eval::palette_colour(group_of[k]);
            chart.series.push_back(std::move(raw[k]));
        }
        for (auto& s : smooth) chart.series.push_back(std::move(s));
        int outside = 0;
        const std::string svg = eval::svg(chart, &outside);
        const std::string values = !single && most_runs > 1 ? "the logged values' mean over the seeds" : "the logged values";
        std::string caption = window ? fmt::format("Solid: the centred running median of (up to) {} of {} (a spike does not move "
                                                   "it); faint: {} themselves.",
                                                   window, values, values)
                                     : "The " + values.substr(4) + " (too few to smooth).";
        if (!single && most_runs > 1) caption += " Band: min-max over the seeds.";
        if (outside)
            caption += fmt::format(" <b>{} point{} outside the y axis</b> (marked at its edge): the axis spans the values' 2-98% "
                                   "quantiles widened by half their span.",
                                   outside, outside == 1 ? " lies" : "s lie");
        o += figures.add("curve-" + name, svg, caption);
    }
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

// A number of results.json at key, or NaN when it is absent or not a number.
double number(const json& j, const std::string& key) {
    if (!j.is_object()) return NAN;
    const auto it = j.find(key);
    return it != j.end() && it->is_number() ? it->get<double>() : NAN;
}
std::string percent(double v) { return std::isfinite(v) ? fmt::format("{:.2f}", 100 * v) : "—"; }
std::string nats(double v) { return std::isfinite(v) ? fmt::format("{:.4f}", v) : "—"; }

// A Markdown table (as mi_levels.md writes it) as an HTML table; other lines
// are kept as paragraphs.
std::string markdown_table_html(const std::string& md) {
    std::string o, rows;
    bool header = true;
    auto cells = [](std::string line) {
        std::vector<std::string> out;
        if (line.starts_with("|")) line.erase(0, 1);
        if (line.ends_with("|")) line.pop_back();
        std::size_t start = 0;
        while (start <= line.size()) {
            const std::size_t end = std::min(line.find('|', start), line.size());
            std::string c = line.substr(start, end - start);
            c.erase(0, c.find_first_not_of(' '));
            c.erase(c.find_last_not_of(' ') + 1);
            out.push_back(c);
            start = end + 1;
        }
        return out;
    };
    std::istringstream in(md);
    std::string line;
    while (std::getline(in, line)) {
        if (!line.starts_with("|")) {
            if (!line.empty()) o += "<p>" + html_escape(line) + "</p>\n";
            continue;
        }
        if (line.find("---") != std::string::npos && line.find_first_not_of("|-: ") == std::string::npos) continue;  // the rule
        rows += "<tr>";
        for (const auto& c : cells(line)) rows += (header ? "<th>" : "<td>") + html_escape(c) + (header ? "</th>" : "</td>");
        rows += "</tr>\n";
        header = false;
    }
    return (rows.empty() ? "" : "<table>\n" + rows + "</table>\n") + o;
}

std::string run_report(const fs::path& dir) {
    const std::string name = dir.parent_path().filename().string() + "/" + dir.filename().string();
    std::string o = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + html_escape(name) + "</title>" + kStyle +
                    "</head><body>\n<h1>" + html_escape(name) + "</h1>\n";
    const detail::RunDir run(dir);
    Figures figures(run.figures());
    json res;
    if (run.finished()) res = detail::read_json(run.results());
    else o += fmt::format("<p class=\"failed\">No {}: the run has not finished.</p>\n", run.results().filename().string());

    // What a reader looks for first: how well the features classify.
    if (res.contains("probes") && res["probes"].is_object()) {
        std::vector<std::string> probes;
        for (const auto& [tap, by_probe] : res["probes"].items())
            if (by_probe.is_object())
                for (const auto& [probe, r] : by_probe.items())
                    if (std::find(probes.begin(), probes.end(), probe) == probes.end()) probes.push_back(probe);
        o += "<h2>Probe accuracy</h2>\n<p class=\"sub\">Test accuracy (%) of each probe (columns) trained on each "
             "feature (rows); train accuracy below.</p>\n<table id=\"probes\"><tr><th>feature</th>";
        for (const auto& p : probes) o += "<th>" + html_escape(p) + "</th>";
        o += "</tr>\n";
        for (const auto& [tap, by_probe] : res["probes"].items()) {
            o += "<tr><td>" + html_escape(tap) + "</td>";
            for (const auto& p : probes) {
                const json r = by_probe.is_object() && by_probe.contains(p) ? by_probe[p] : json();
                o += fmt::format("<td>{}<br><span class=\"sub\">train {}</span></td>", percent(number(r, "test_accuracy")),
                                 percent(number(r, "train_accuracy")));
            }
            o += "</tr>\n";
        }
        o += "</table>\n";
    }
    if (res.contains("classifier"))
        o += fmt::format("<h2>Classifier</h2>\n<table><tr><th>split</th><th>accuracy (%)</th></tr><tr><td>test</td><td>{}</td></tr></table>\n",
                         percent(number(res["classifier"], "test_accuracy")));
    if (res.contains("held_out") && res["held_out"].is_object()) {
        o += "<h2>Held-out bounds</h2>\n<p class=\"sub\">Each objective's estimator on held-out data, in nats (natural "
             "logarithms); the MI reading is the bound read as mutual information where the estimator has one.</p>\n<table>"
             "<tr><th>objective</th><th>quantity</th><th>value (nats)</th><th>MI reading (nats)</th><th>true MI (nats)</th>"
             "<th>split, batches</th></tr>\n";
        for (const auto& [obj, h] : res["held_out"].items()) {
            const auto text = [&](const char* k) { return h.is_object() && h.contains(k) && h[k].is_string() ? h[k].get<std::string>() : ""; };
            o += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}, {}</td></tr>\n", html_escape(obj),
                             html_escape(text("quantity")), nats(number(h, "value")), nats(number(h, "mi")), nats(number(h, "true_mi")),
                             html_escape(text("split")), std::isfinite(number(h, "batches")) ? fmt::format("{:g}", number(h, "batches")) : "—");
        }
        o += "</table>\n";
    }
    if (res.contains("measures") && res["measures"].is_object()) {
        o += "<h2>Representation measures</h2>\n<p class=\"sub\">Of the frozen encoder's y, each a critic trained on "
             "the training split and read in DV form on held-out batches, in nats: NDM (y against y with each dimension "
             "shuffled on its own; 0 for independent dimensions) and MINE's I(X; Y) between the input and y. Bias: the same "
             "measure on a Gaussian proxy of the same dimensions whose truth is the value (estimate - truth); past 1 nat "
             "the value is a ranking at most.</p>\n<table>"
             "<tr><th>measure</th><th>value (nats)</th><th>bias on a proxy (nats)</th><th>critic steps</th><th>split, batches</th></tr>\n";
        for (const auto& [name, h] : res["measures"].items()) {
            const std::string split = h.is_object() && h.contains("split") && h["split"].is_string() ? h["split"].get<std::string>() : "";
            const bool calibrated = h.is_object() && h.contains("calibration") && h["calibration"].is_object();
            const bool warned = h.is_object() && h.contains("warning");
            o += fmt::format("<tr><td>{}</td><td>{}</td><td>{}{}</td><td>{:g}</td><td>{}, {:g}</td></tr>\n",
                             name == "mine" ? "MINE I(X; Y)" : name == "ndm" ? "NDM" : html_escape(name),
                             nats(number(h, "value")), calibrated ? nats(number(h["calibration"], "bias")) : "-",
                             warned ? " (over 1 nat)" : "", number(h, "steps"), html_escape(split), number(h, "batches"));
        }
        o += "</table>\n";
    }
    if (fs::exists(run.mi_levels_md()) || fs::exists(run.mi_plot())) {
        o += "<h2>MI estimates by level</h2>\n";
        if (fs::exists(run.mi_levels_md()))
            o += "<p class=\"sub\">Each estimator over the last steps (window) of each true-MI level, in nats: mean, "
                 "median and interquartile range (robust to a wild batch), bias (mean - true), variance and MSE.</p>\n" +
                 markdown_table_html(read_text(run.mi_levels_md()));
        if (fs::exists(run.mi_plot()))
            o += fmt::format("<figure><img src=\"{0}\" alt=\"{0}\"><figcaption>{0}: the estimates at every logged step beside "
                             "the truth.</figcaption></figure>\n",
                             run.mi_plot().filename().string());
        for (const char* kind : {"bias", "variance", "mse"}) {
            const std::string f = run.mi_statistic_plot(kind).filename().string();
            if (fs::exists(run.mi_statistic_plot(kind)))
                o += fmt::format("<figure><img src=\"{0}\" alt=\"{0}\"><figcaption>{0}: each estimate's {1} per level "
                                 "against the true MI.</figcaption></figure>\n",
                                 f, kind);
        }
    }
    if (res.contains("gan") && res["gan"].is_object()) {
        const json& g = res["gan"];
        o += fmt::format("<h2>GAN mode coverage</h2>\n<p class=\"sub\">A sample is of high quality within 3 std of its nearest "
                         "mode; a mode is covered with at least {} high-quality samples.</p>\n<table>"
                         "<tr><th>modes covered</th><th>high-quality samples (%)</th><th>samples</th></tr>\n"
                         "<tr><td>{:g} of {:g}</td><td>{}</td><td>{:g}</td></tr>\n</table>\n",
                         number(g, "covered_threshold"), number(g, "modes_covered"), number(g, "modes"),
                         percent(number(g, "high_quality_share")), number(g, "samples"));
        if (g.contains("per_mode") && g["per_mode"].is_array()) {
            std::vector<std::string> labels;
            std::vector<double> counts;
            for (std::size_t k = 0; k < g["per_mode"].size(); ++k) {
                labels.push_back(fmt::format("mode {}", k + 1));
                counts.push_back(g["per_mode"][k].is_number() ? g["per_mode"][k].get<double>() : NAN);
            }
            eval::Bars b{"High-quality samples by mode", "high-quality samples (count)", labels, counts, {}, {}, -1};
            o += figures.add("gan-per-mode", eval::svg(b),
                             fmt::format("A mode with fewer than {:g} high-quality samples is not covered.", number(g, "covered_threshold")));
        }
    }
    if (fs::exists(run.samples_plot()))
        o += fmt::format("<figure><img src=\"{0}\" alt=\"{0}\"><figcaption>{0}: generated samples and the modes.</figcaption>"
                         "</figure>\n",
                         run.samples_plot().filename().string());
    o += "<h2>Training curves</h2>\n" + curves(figures, {{name, {dir}}});
    if (!res.is_null()) {
        o += "<h2>All results</h2>\n<details><summary>" + run.results().filename().string() + ", every value</summary>\n<table><tr><th>result</th><th>value</th></tr>\n";
        for (const auto& [k, v] : flat_results(res)) o += "<tr><td>" + html_escape(k) + "</td><td>" + html_escape(v) + "</td></tr>\n";
        o += "</table>\n</details>\n";
    }
    o += "<h2>Spec (resolved)</h2>\n<details><summary>" + run.resolved().filename().string() + "</summary>\n<pre>" +
         html_escape(read_text(run.resolved())) +
         "</pre>\n</details>\n";
    o += "</body></html>\n";
    const fs::path out = run.report();
    data::write_file_atomic(out.string(), o);
    figures.remove_stale();
    return out.string();
}

struct Metric {
    std::string path, label, better;
    bool percent = false;
};


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

// bmi's results layout (estimator_id, task_id, n_samples, seed, mi_estimate,
// mi_true, time), one row per finished run whose results hold the protocol's
// estimate, and one per sample estimator it ran (eval.sample_estimators); the
// ids from the run's resolved spec: "infomax-<estimator>-<critic>" ("infomax-ksg"),
// the data's bmi task (or its type), the sample's N and seed. "" when no run has one.
// `results[i]` is the results.json of `run_dirs[i]`, as the suite report read it.
std::string bmi_rows(const std::vector<std::pair<std::string, fs::path>>& run_dirs, const std::vector<json>& results) {
    std::string csv;
    for (std::size_t i = 0; i < run_dirs.size(); ++i) {
        const detail::RunDir run(run_dirs[i].second);
        const json& res = results[i];
        const bool protocol = res.contains("protocol") && res["protocol"].is_object();
        const bool samples = res.contains("sample_estimates") && res["sample_estimates"].is_object();
        if (!protocol && !samples) continue;
        const YAML::Node spec = config::parse(read_text(run.resolved()), run.resolved().string()).root;
        std::string estimator = "infomax";
        for (const auto& o : spec["objectives"]) {  // the first objective: what the protocol tracks
            estimator += "-" + o.second["estimator"]["type"].Scalar() + "-" + o.second["discriminator"]["type"].Scalar();
            break;
        }
        const YAML::Node data = spec["data"];
        const std::string task = data["task"] ? data["task"].Scalar() : data["type"].Scalar();
        std::int64_t n = 0;
        for (const char* k : {"size", "test_size"})
            if (data[k]) n += data[k].as<std::int64_t>();
        const std::string seed = data["seed"] ? data["seed"].Scalar() : spec["seed"].Scalar();
        auto row = [&](const std::string& id, const json& estimate, const json& truth, double seconds) {
            csv += fmt::format("{},{},{},{},{:.17g},{},{:.3f}\n", id, task, n, seed, estimate.get<double>(),
                               truth.is_number() ? fmt::format("{:.17g}", truth.get<double>()) : std::string(), seconds);
        };
        if (protocol) {
            const json& p = res["protocol"];
            row(estimator, p["estimate"], p.contains("true_mi") ? p["true_mi"] : json(),
                res.contains("train") && res["train"].contains("seconds") ? res["train"]["seconds"].get<double>() : NAN);
        }
        if (samples)  // the classical estimators on the same sample: infomax-ksg, infomax-cca, ...
            for (const auto& [name, v] : res["sample_estimates"].items())
                row("infomax-" + name, v["value"], v.contains("true_mi") ? v["true_mi"] : json(), v["seconds"].get<double>());
    }
    return csv.empty() ? csv : "estimator_id,task_id,n_samples,seed,mi_estimate,mi_true,time\n" + csv;
}

std::string suite_report(const fs::path& dir) {
    const detail::SuiteDir layout(dir);
    config::Document suite = detail::load_suite(layout.suite().string());
    const YAML::Node& root = suite.root;
    const json runs = detail::read_json(layout.runs());
    // Results by run, and the settings in order of first appearance.
    std::vector<std::string> settings;
    std::map<std::string, std::vector<json>> by_setting;
    std::vector<json> all;
    std::vector<std::pair<std::string, fs::path>> run_dirs;  // run name, directory
    std::map<std::string, std::vector<fs::path>> dirs_by_setting;
    for (const auto& r : runs) {
        const std::string setting = r["setting"].get<std::string>();
        if (!by_setting.count(setting)) settings.push_back(setting);
        by_setting[setting];
        const std::string d = r["dir"].get<std::string>();
        if (d.empty() || !detail::RunDir(d).finished()) continue;
        json res = detail::read_json(detail::RunDir(d).results());
        by_setting[setting].push_back(res);
        all.push_back(res);
        run_dirs.emplace_back(r["name"].get<std::string>(), fs::path(d));
        dirs_by_setting[setting].push_back(d);
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
                if (const json* x = detail::number_at(r, m.path)) v.push_back(x->get<double>());
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
    data::write_file_atomic(layout.table_md().string(), md);
    data::write_file_atomic(layout.table_csv().string(), csv);
    if (const std::string rows = bmi_rows(run_dirs, all); !rows.empty()) data::write_file_atomic(layout.bmi_results().string(), rows);

    // report.html
    Figures figures(layout.figures());
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
            if (d.empty() || !detail::RunDir(d).finished()) continue;
            const json res = detail::read_json(detail::RunDir(d).results());
            if (const json* x = detail::number_at(res, hm)) vals[{vx, vy}].push_back(x->get<double>());
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
        o += "<h2>Heat map: " + html_escape(title) + "</h2>\n" +
             figures.add("heatmap-" + hm, eval::heatmap_svg(title, hx, xs, hy, ys, grid),
                         "Each cell: the mean over the seeds of its setting; grey: no run with results.");
    }
    o += "<h2>By setting</h2>\n";
    const std::vector<std::string> setting_labels = distinct_labels(settings);
    for (const auto& m : metrics) {
        bool any = false;
        for (const auto& st : settings) any |= cells[st][m.path].n > 0;
        if (!any) continue;  // no run reported this metric
        eval::Bars b;
        b.title = m.label;
        b.value_label = with_unit(m.label, m.percent ? "%" : unit_of(m.path));
        b.labels = setting_labels;
        for (std::size_t i = 0; i < settings.size(); ++i) {
            const Cell& c = cells[settings[i]][m.path];
            b.values.push_back(m.percent ? 100 * c.mean : c.mean);
            b.errors.push_back(c.n > 1 ? (m.percent ? 100 * c.std : c.std) : NAN);
            b.n.push_back(c.n);
            if (c.n && best[m.path] == settings[i]) b.best = static_cast<int>(i);
        }
        o += figures.add("bars-" + m.path, eval::svg(b),
                         fmt::format("Mean over the seeds of each setting; whiskers: ± the standard deviation over the seeds "
                                     "(none with one run); n: runs with results. Dark: the best ({}).",
                                     m.better == "closer_to_zero" ? "closest to 0" : m.better));
    }
    std::vector<std::string> names;
    for (const auto& [name, d] : run_dirs) names.push_back(name);
    const std::vector<std::string> run_labels = distinct_labels(names);
    bool mi = false;
    for (const auto& [name, d] : run_dirs) mi |= fs::exists(detail::RunDir(d).mi_plot()) || fs::exists(detail::RunDir(d).samples_plot());
    if (mi) {
        o += "<h2>Estimates and samples</h2>\n";
        for (std::size_t k = 0; k < run_dirs.size(); ++k) {
            const detail::RunDir run(run_dirs[k].second);
            for (const fs::path& svg : {run.mi_plot(), run.samples_plot()})
                if (fs::exists(svg))
                    o += fmt::format("<figure><img src=\"{}\" alt=\"{}\" width=\"560\"><figcaption>{}</figcaption></figure>\n",
                                     html_escape(fs::relative(svg, dir).string()), svg.filename().string(), html_escape(run_labels[k]));
        }
    }
    std::vector<CurveGroup> groups;
    for (std::size_t i = 0; i < settings.size(); ++i)
        if (dirs_by_setting.count(settings[i])) groups.push_back({setting_labels[i], dirs_by_setting[settings[i]]});
    o += "<h2>Training curves</h2>\n<p class=\"sub\">One colour per setting: " +
         html_escape(fmt::format("{}", fmt::join(setting_labels, "; "))) + ".</p>\n" + curves(figures, groups);
    o += "<h2>Runs</h2>\n<ul>\n";
    for (const auto& r : runs) {
        const std::string d = r["dir"].get<std::string>();
        const std::string status = r["status"].get<std::string>();
        o += fmt::format("<li{}>{}: {}{}</li>\n", status == "failed" ? " class=\"failed\"" : "",
                         d.empty() ? html_escape(r["name"].get<std::string>())
                                   : fmt::format("<a href=\"{}\">{}</a>", html_escape(fs::relative(detail::RunDir(d).report(), dir).string()),
                                                 html_escape(r["name"].get<std::string>())),
                         html_escape(status), r["error"].get<std::string>().empty() ? "" : " — " + html_escape(r["error"].get<std::string>()));
    }
    o += "</ul>\n</body></html>\n";
    const fs::path out = layout.report();
    data::write_file_atomic(out.string(), o);
    figures.remove_stale();
    return out.string();
}

}  // namespace

std::string write_report(const std::string& dir_in) {
    const fs::path dir = dir_in;
    // The JSON files are read as this infomax wrote them: a value of another
    // type (an edited file) is the user's problem to fix, not an internal error.
    try {
        if (detail::SuiteDir(dir).is_suite()) return suite_report(dir);
        if (detail::RunDir(dir).is_run()) return run_report(dir);
    } catch (const nlohmann::json::exception& e) {
        throw Error(fmt::format("{}: {} or a run's {} holds a value of an unexpected type ({}): the file was edited or "
                                "damaged; run the suite (or the run) again to rewrite it",
                                dir_in, detail::SuiteDir(dir).runs().filename().string(),
                                detail::RunDir(dir).results().filename().string(), e.what()));
    }
    throw Error(fmt::format("{}: neither a suite directory ({}, {}) nor a run directory ({})", dir_in,
                            detail::SuiteDir(dir).suite().filename().string(), detail::SuiteDir(dir).runs().filename().string(),
                            detail::RunDir(dir).resolved().filename().string()));
}

}  // namespace infomax
