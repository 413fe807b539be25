#include "infomax/eval/plot.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace infomax::eval {

namespace {

const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"};

std::string escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '&') out += "&amp;";
        else if (c == '<') out += "&lt;";
        else if (c == '>') out += "&gt;";
        else if (c == '"') out += "&quot;";
        else out += c;
    }
    return out;
}

// About `n` round tick values covering [lo, hi].
std::vector<double> ticks(double lo, double hi, int n = 6) {
    const double span = hi - lo;
    const double raw = span / n, mag = std::pow(10.0, std::floor(std::log10(raw)));
    double step = mag;
    for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
        if (m * mag >= raw) {
            step = m * mag;
            break;
        }
    std::vector<double> t;
    for (double v = std::ceil(lo / step) * step; v <= hi + 1e-9 * span; v += step) t.push_back(std::abs(v) < 1e-12 * span ? 0 : v);
    return t;
}

std::string label_of(double v) {
    if (v != 0 && (std::abs(v) >= 1e5 || std::abs(v) < 1e-3)) return fmt::format("{:.1e}", v);
    return fmt::format("{:g}", v);
}

// An SVG document's opening: its size, a white background, and the title
// centred at title_x.
std::string svg_open(double width, double height, double title_x, const std::string& title) {
    return fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
        "font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        "<text x=\"{2}\" y=\"22\" font-size=\"15\" text-anchor=\"middle\">{3}</text>\n",
        width, height, title_x, escape(title));
}

}  // namespace

std::string svg(const Chart& c) {
    const double inf = std::numeric_limits<double>::infinity();
    double x0 = inf, x1 = -inf, y0 = inf, y1 = -inf;
    for (const auto& s : c.series)
        for (std::size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
            if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
            x0 = std::min(x0, s.x[i]);
            x1 = std::max(x1, s.x[i]);
            y0 = std::min(y0, s.y[i]);
            y1 = std::max(y1, s.y[i]);
        }
    if (!std::isfinite(x0)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
    if (c.x_min) x0 = *c.x_min;
    if (c.x_max) x1 = *c.x_max;
    if (c.y_min) y0 = *c.y_min;
    if (c.y_max) y1 = *c.y_max;
    if (x1 <= x0) x1 = x0 + 1;
    if (y1 <= y0) y1 = y0 + 1;
    if (!c.y_min && !c.y_max) {  // a little air above and below
        const double pad = 0.04 * (y1 - y0);
        y0 -= pad;
        y1 += pad;
    }
    const double left = 70, right = 170, top = 40, bottom = 55;
    double pw = c.width - left - right, ph = c.height - top - bottom;
    if (c.equal_axes) {  // one unit is as long on both axes
        const double k = std::min(pw / (x1 - x0), ph / (y1 - y0));
        pw = k * (x1 - x0);
        ph = k * (y1 - y0);
    }
    auto px = [&](double x) { return left + (x - x0) / (x1 - x0) * pw; };
    auto py = [&](double y) { return top + ph - (y - y0) / (y1 - y0) * ph; };

    std::string o = svg_open(c.width, c.height, left + pw / 2, c.title);
    for (double t : ticks(x0, x1)) {
        o += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#e5e5e5\"/>\n", px(t), top, top + ph);
        o += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", px(t), top + ph + 16, label_of(t));
    }
    for (double t : ticks(y0, y1)) {
        o += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"#e5e5e5\"/>\n", left, py(t), left + pw);
        o += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", left - 6, py(t) + 4, label_of(t));
    }
    o += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"none\" stroke=\"#444\"/>\n", left, top, pw, ph);
    o += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", left + pw / 2, top + ph + 40, escape(c.x_label));
    o += fmt::format("<text transform=\"translate(18 {:.1f}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n", top + ph / 2,
                     escape(c.y_label));
    o += fmt::format("<clipPath id=\"plot\"><rect x=\"{}\" y=\"{}\" width=\"{:.1f}\" height=\"{:.1f}\"/></clipPath>\n<g clip-path=\"url(#plot)\">\n",
                     left, top, pw, ph);
    std::size_t next_colour = 0;
    std::vector<std::string> colours;
    for (const auto& s : c.series) {
        const std::string col = s.color.empty() ? kPalette[next_colour++ % 8] : s.color;
        colours.push_back(col);
        const std::size_t n = std::min(s.x.size(), s.y.size());
        if (s.points) {
            for (std::size_t i = 0; i < n; ++i)
                if (std::isfinite(s.x[i]) && std::isfinite(s.y[i]))
                    o += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{}\" fill=\"{}\" fill-opacity=\"0.6\"/>\n", px(s.x[i]),
                                     py(s.y[i]), s.radius, col);
            continue;
        }
        const std::size_t stride = n > 4000 ? (n + 3999) / 4000 : 1;
        std::string path;
        bool pen = false;
        for (std::size_t i = 0; i < n; i += stride) {
            if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) {
                pen = false;
                continue;
            }
            path += fmt::format("{}{:.1f},{:.1f} ", pen ? "L" : "M", px(s.x[i]), py(s.y[i]));
            pen = true;
        }
        o += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\"{}/>\n", path, col, s.dashed ? 1.5 : 1.2,
                         s.dashed ? " stroke-dasharray=\"6 4\"" : "");
    }
    o += "</g>\n";
    double ly = top + 8;
    for (std::size_t i = 0; i < c.series.size(); ++i) {
        const auto& s = c.series[i];
        if (s.label.empty()) continue;
        const double lx = left + pw + 14;
        if (s.points)
            o += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"4\" fill=\"{}\"/>\n", lx + 10, ly, colours[i]);
        else
            o += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" stroke-width=\"2\"{}/>\n", lx, ly,
                             lx + 20, ly, colours[i], s.dashed ? " stroke-dasharray=\"6 4\"" : "");
        o += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n", lx + 26, ly + 4, escape(s.label));
        ly += 18;
    }
    o += "</svg>\n";
    return o;
}

std::string bars_svg(const std::string& title, const std::vector<std::string>& labels, const std::vector<double>& values,
                     const std::vector<double>& errors, int best) {
    const double label_w = 260, bar_w = 380, row = 22, top = 40;
    const double height = top + row * double(labels.size()) + 30, width = label_w + bar_w + 110;
    double lo = 0, hi = 0;
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (!std::isfinite(values[i])) continue;
        const double e = i < errors.size() && std::isfinite(errors[i]) ? errors[i] : 0;
        lo = std::min(lo, values[i] - e);
        hi = std::max(hi, values[i] + e);
    }
    if (hi <= lo) hi = lo + 1;
    auto px = [&](double v) { return label_w + (v - lo) / (hi - lo) * bar_w; };
    std::string o = svg_open(width, height, width / 2, title);
    for (std::size_t i = 0; i < labels.size(); ++i) {
        const double y = top + row * double(i);
        o += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", label_w - 8, y + 15, escape(labels[i]));
        if (i >= values.size() || !std::isfinite(values[i])) continue;
        const double x0 = px(std::min(0.0, values[i])), x1 = px(std::max(0.0, values[i]));
        o += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{}\" fill=\"{}\"/>\n", x0, y + 3,
                         std::max(1.0, x1 - x0), row - 6, int(i) == best ? "#1f4e79" : "#7fa7d1");
        const double e = i < errors.size() && std::isfinite(errors[i]) ? errors[i] : 0;
        if (e > 0)
            o += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#222\"/>\n", px(values[i] - e),
                             y + row / 2, px(values[i] + e), y + row / 2);
        o += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n", label_w + bar_w + 8, y + 15,
                         label_of(values[i]) + (e > 0 ? " ± " + label_of(e) : ""));
    }
    o += "</svg>\n";
    return o;
}

std::string heatmap_svg(const std::string& title, const std::string& x_label, const std::vector<std::string>& x,
                        const std::string& y_label, const std::vector<std::string>& y,
                        const std::vector<std::vector<double>>& values) {
    const double cell = 64, left = 110, top = 50;
    const double width = std::max(360.0, left + cell * double(x.size()) + 30), height = top + cell * double(y.size()) + 60;
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const auto& r : values)
        for (double v : r)
            if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    std::string o = svg_open(width, height, width / 2, title);
    for (std::size_t r = 0; r < y.size(); ++r) {
        o += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", left - 8, top + cell * (double(r) + 0.5) + 4,
                         escape(y[r]));
        for (std::size_t c = 0; c < x.size(); ++c) {
            const double v = r < values.size() && c < values[r].size() ? values[r][c] : NAN;
            std::string fill = "#dddddd";
            if (std::isfinite(v)) {
                const double t = hi > lo ? (v - lo) / (hi - lo) : 1.0;  // light yellow to dark blue
                fill = fmt::format("rgb({},{},{})", int(255 - 220 * t), int(250 - 170 * t), int(200 - 60 * t));
            }
            o += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{}\" height=\"{}\" fill=\"{}\" stroke=\"white\"/>\n",
                             left + cell * double(c), top + cell * double(r), cell, cell, fill);
            if (std::isfinite(v)) {
                const double t = hi > lo ? (v - lo) / (hi - lo) : 1.0;
                o += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" fill=\"{}\">{}</text>\n",
                                 left + cell * (double(c) + 0.5), top + cell * (double(r) + 0.5) + 4, t > 0.55 ? "white" : "black",
                                 fmt::format("{:.4g}", v));
            }
        }
    }
    for (std::size_t c = 0; c < x.size(); ++c)
        o += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", left + cell * (double(c) + 0.5),
                         top + cell * double(y.size()) + 16, escape(x[c]));
    o += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", left + cell * double(x.size()) / 2,
                     top + cell * double(y.size()) + 40, escape(x_label));
    o += fmt::format("<text transform=\"translate(16 {:.1f}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
                     top + cell * double(y.size()) / 2, escape(y_label));
    o += "</svg>\n";
    return o;
}

}  // namespace infomax::eval
