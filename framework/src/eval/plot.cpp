#include "infomax/eval/plot.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace infomax::eval {

std::string palette_colour(std::size_t i) {
    static const char* palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"};
    if (i < std::size(palette)) return palette[i];
    // HSL to RGB hex (SVG 1.1 readers, e.g. for papers, know no hsl()).
    const double h = std::fmod(double(i) * 137.508, 360.0) / 60, s = 0.65, l = i % 2 ? 0.35 : 0.5;
    const double chroma = (1 - std::abs(2 * l - 1)) * s, x = chroma * (1 - std::abs(std::fmod(h, 2.0) - 1)), m = l - chroma / 2;
    const int sector = static_cast<int>(h);
    const double r = sector == 0 || sector == 5 ? chroma : sector == 1 || sector == 4 ? x : 0;
    const double g = sector == 1 || sector == 2 ? chroma : sector == 0 || sector == 3 ? x : 0;
    const double b = sector == 3 || sector == 4 ? chroma : sector == 2 || sector == 5 ? x : 0;
    return fmt::format("#{:02x}{:02x}{:02x}", int(255 * (r + m)), int(255 * (g + m)), int(255 * (b + m)));
}

namespace {

// About how wide a text is in DejaVu Sans (its glyphs average about 0.6 em;
// 0.65 errs on the wide side, so labels get room rather than overlap).
double text_width(const std::string& s, double font_size = 12) {
    std::size_t chars = 0;
    for (unsigned char ch : s) chars += (ch & 0xC0) != 0x80;  // UTF-8: count code points
    return 0.65 * font_size * double(chars);
}

// The p-quantile of sorted values, linearly interpolated.
double quantile(const std::vector<double>& sorted, double p) {
    const double at = p * double(sorted.size() - 1);
    const std::size_t i = static_cast<std::size_t>(at);
    return i + 1 < sorted.size() ? sorted[i] + (at - double(i)) * (sorted[i + 1] - sorted[i]) : sorted.back();
}

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

std::string svg(const Chart& c, int* outside) {
    const double inf = std::numeric_limits<double>::infinity();
    double x0 = inf, x1 = -inf, y0 = inf, y1 = -inf;
    std::vector<double> ys;  // every finite value the y axis should show: lines, dots and bands
    for (const auto& s : c.series) {
        const std::size_t n = std::min(s.x.size(), s.y.size());
        for (std::size_t i = 0; i < n; ++i) {
            if (!std::isfinite(s.x[i])) continue;
            for (const auto* v : {&s.y, &s.band_lo, &s.band_hi}) {
                if (i >= v->size() || !std::isfinite((*v)[i])) continue;
                x0 = std::min(x0, s.x[i]);
                x1 = std::max(x1, s.x[i]);
                ys.push_back((*v)[i]);
            }
        }
    }
    if (!ys.empty()) {
        std::sort(ys.begin(), ys.end());
        y0 = ys.front();
        y1 = ys.back();
        if (c.robust_y && !c.y_min && !c.y_max) {
            const double lo = quantile(ys, 0.02), hi = quantile(ys, 0.98), margin = 0.5 * (hi - lo);
            y0 = std::max(y0, lo - margin);
            y1 = std::min(y1, hi + margin);
        }
    }
    if (!std::isfinite(x0)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
    if (c.x_min) x0 = *c.x_min;
    if (c.x_max) x1 = *c.x_max;
    if (c.y_min) y0 = *c.y_min;
    if (c.y_max) y1 = *c.y_max;
    if (x1 <= x0) {  // one step (or one value, below): a unit-wide axis around it
        x0 -= 0.5;
        x1 += 0.5;
    }
    if (y1 <= y0) {
        y0 -= 0.5;
        y1 += 0.5;
    }
    if (!c.y_min && !c.y_max) {  // a little air above and below
        const double pad = 0.04 * (y1 - y0);
        y0 -= pad;
        y1 += pad;
    }
    // The y axis's title sits left of its widest tick label, never on it.
    double widest_tick = 0;
    for (double t : ticks(y0, y1)) widest_tick = std::max(widest_tick, text_width(label_of(t)));
    const double left = std::max(70.0, widest_tick + 36), right = 20, top = 40, bottom = 55;
    double pw = c.width - left - right, ph = c.height - top - bottom;
    if (c.equal_axes) {  // one unit is as long on both axes
        const double k = std::min(pw / (x1 - x0), ph / (y1 - y0));
        pw = k * (x1 - x0);
        ph = k * (y1 - y0);
    }
    auto px = [&](double x) { return left + (x - x0) / (x1 - x0) * pw; };
    auto py = [&](double y) { return top + ph - (y - y0) / (y1 - y0) * ph; };

    // Colours first: the legend and the outside marks need them.
    std::size_t next_colour = 0;
    std::vector<std::string> colours;
    for (const auto& s : c.series) colours.push_back(s.color.empty() ? palette_colour(next_colour++) : s.color);

    // The legend below the plot, in rows that fit the width; the document
    // widens for a label longer than the plot.
    struct Entry {
        std::size_t series;
        double x, y;
    };
    std::vector<Entry> legend;
    // Entries in columns as wide as the widest entry.
    double entry = 0;
    for (const auto& s : c.series)
        if (!s.label.empty()) entry = std::max(entry, 30 + text_width(s.label) + 16);
    double width = std::max(c.equal_axes ? left + pw + right : double(c.width), left + entry);
    const std::size_t columns = entry > 0 ? std::max<std::size_t>(1, static_cast<std::size_t>((width - left) / entry)) : 1;
    for (std::size_t i = 0; i < c.series.size(); ++i) {
        if (c.series[i].label.empty()) continue;
        const std::size_t k = legend.size();
        legend.push_back({i, left + entry * double(k % columns), top + ph + 62 + 18 * double(k / columns)});
    }
    // Points beyond the y axis (the robust range left them out).
    int beyond = 0;
    std::string marks;
    for (std::size_t k = 0; k < c.series.size(); ++k) {
        const auto& s = c.series[k];
        double last = -inf;
        for (std::size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
            if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i]) || (s.y[i] >= y0 && s.y[i] <= y1)) continue;
            ++beyond;
            const bool above = s.y[i] > y1;
            const double x = px(s.x[i]);
            if (std::abs(x - last) < 3) continue;  // one mark per few pixels
            last = x;
            // A triangle inside the frame, its tip on the edge the point lies beyond.
            marks += fmt::format("<path d=\"M{0:.1f},{1:.1f} l-4,{2} l8,0 z\" fill=\"{3}\"/>\n", x, above ? top : top + ph, above ? 8 : -8,
                                 colours[k]);
        }
    }
    if (outside) *outside = beyond;
    const std::string note = fmt::format("{} point{} beyond the y axis, marked at its edge", beyond, beyond == 1 ? "" : "s");
    if (beyond) width = std::max(width, left + text_width(note) + 10);
    const double height = (legend.empty() ? top + ph + 50 : legend.back().y + 16) + (beyond ? 20 : 0);

    std::string o = svg_open(width, height, left + pw / 2, c.title);
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
    for (std::size_t k = 0; k < c.series.size(); ++k) {
        const auto& s = c.series[k];
        const std::string& col = colours[k];
        const std::size_t n = std::min(s.x.size(), s.y.size());
        const std::size_t stride = n > 4000 ? (n + 3999) / 4000 : 1;
        if (s.band_lo.size() >= n && s.band_hi.size() >= n && n) {  // one closed shape per unbroken stretch
            std::size_t i = 0;
            while (i < n) {
                auto ok = [&](std::size_t j) { return std::isfinite(s.x[j]) && std::isfinite(s.band_lo[j]) && std::isfinite(s.band_hi[j]); };
                if (!ok(i)) {
                    ++i;
                    continue;
                }
                std::vector<std::size_t> run;
                for (; i < n && ok(i); i += stride) run.push_back(i);
                std::string d;
                for (std::size_t j : run) d += fmt::format("{}{:.1f},{:.1f} ", d.empty() ? "M" : "L", px(s.x[j]), py(s.band_hi[j]));
                for (auto j = run.rbegin(); j != run.rend(); ++j) d += fmt::format("L{:.1f},{:.1f} ", px(s.x[*j]), py(s.band_lo[*j]));
                o += fmt::format("<path d=\"{}z\" fill=\"{}\" fill-opacity=\"0.15\" stroke=\"none\"/>\n", d, col);
            }
        }
        if (s.points) {
            for (std::size_t i = 0; i < n; ++i)
                if (std::isfinite(s.x[i]) && std::isfinite(s.y[i]))
                    o += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{}\" fill=\"{}\" fill-opacity=\"{:.2f}\"/>\n", px(s.x[i]),
                                     py(s.y[i]), s.radius, col, 0.6 * s.opacity);
            continue;
        }
        std::string path, dots;
        auto finite_at = [&](std::size_t i) { return i < n && std::isfinite(s.x[i]) && std::isfinite(s.y[i]); };
        for (std::size_t i = 0; i < n; i += stride) {
            if (!finite_at(i)) continue;
            // Beyond the axis a point is drawn just past the edge: the line
            // still leaves the plot there, and the edge mark says so.
            const double x = px(s.x[i]), y = py(std::clamp(s.y[i], y0 - 0.02 * (y1 - y0), y1 + 0.02 * (y1 - y0)));
            const bool joined = i >= stride && finite_at(i - stride);
            path += fmt::format("{}{:.1f},{:.1f} ", joined ? "L" : "M", x, y);
            if (!joined && !finite_at(i + stride))  // a point with no line to it would not show
                dots += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.5\" fill=\"{}\"/>\n", x, y, col);
        }
        o += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\"{}{}/>\n", path, col, s.stroke,
                         s.dashed ? " stroke-dasharray=\"6 4\"" : "",
                         s.opacity < 1 ? fmt::format(" stroke-opacity=\"{:.2f}\"", s.opacity) : "");
        o += dots;
    }
    o += "</g>\n" + marks;
    for (const auto& e : legend) {
        const auto& s = c.series[e.series];
        const std::string& col = colours[e.series];
        if (!s.band_lo.empty())
            o += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"24\" height=\"10\" fill=\"{}\" fill-opacity=\"0.15\"/>\n", e.x,
                             e.y - 5, col);
        if (s.points)
            o += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"4\" fill=\"{}\"/>\n", e.x + 12, e.y, col);
        else
            o += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" stroke-width=\"2\"{}{}/>\n", e.x,
                             e.y, e.x + 24, e.y, col, s.dashed ? " stroke-dasharray=\"6 4\"" : "",
                             s.opacity < 1 ? fmt::format(" stroke-opacity=\"{:.2f}\"", s.opacity) : "");
        o += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n", e.x + 30, e.y + 4, escape(s.label));
    }
    if (beyond)
        o += fmt::format("<text x=\"{}\" y=\"{:.1f}\" fill=\"#b00000\">{}</text>\n", left, height - 8, note);
    o += "</svg>\n";
    return o;
}

std::string svg(const Bars& b) {
    const std::size_t rows = b.labels.size();
    auto at = [](const std::vector<double>& v, std::size_t i) { return i < v.size() && std::isfinite(v[i]) ? v[i] : NAN; };
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (std::size_t i = 0; i < rows; ++i) {
        const double v = at(b.values, i), e = std::isfinite(at(b.errors, i)) ? std::abs(at(b.errors, i)) : 0;
        if (!std::isfinite(v)) continue;
        lo = std::min(lo, v - e);
        hi = std::max(hi, v + e);
    }
    if (!std::isfinite(lo)) lo = 0, hi = 1;
    // Close values on one side of 0 (their spread under half their size): the
    // axis spans them and a margin instead of starting at 0.
    const double size = std::max(std::abs(lo), std::abs(hi));
    const bool zoom = (lo > 0 || hi < 0) && hi - lo < 0.5 * size;
    if (zoom) {
        const double margin = hi > lo ? 0.25 * (hi - lo) : 0.05 * size;
        lo -= margin;
        hi += margin;
    } else {
        lo = std::min(lo, 0.0);
        hi = std::max(hi, 0.0);
    }
    if (hi <= lo) hi = lo + 1;
    const std::vector<double> tick = ticks(lo, hi, 5);
    if (tick.size() > 1) {  // round the axis out to its ticks, without crossing 0
        const double step = tick[1] - tick[0];
        const double l = std::floor(lo / step + 1e-9) * step, h = std::ceil(hi / step - 1e-9) * step;
        if (!(lo >= 0 && l < 0)) lo = l;
        if (!(hi <= 0 && h > 0)) hi = h;
    }
    const std::vector<double> axis_ticks = ticks(lo, hi, 5);
    double label_w = 60;
    for (const auto& l : b.labels) label_w = std::max(label_w, text_width(l) + 16);
    std::vector<std::string> value_text(rows);
    double value_w = 40;
    for (std::size_t i = 0; i < rows; ++i) {
        const double v = at(b.values, i), e = at(b.errors, i);
        if (std::isfinite(v))
            value_text[i] = fmt::format("{:.4g}", v) + (std::isfinite(e) && e > 0 ? fmt::format(" ± {:.2g}", e) : "");
        if (i < b.n.size()) value_text[i] += fmt::format("{}(n={})", value_text[i].empty() ? "" : " ", b.n[i]);
        value_w = std::max(value_w, text_width(value_text[i]) + 16);
    }
    const double bar_w = 380, row = 22, top = 40;
    const double axis_y = top + row * double(rows) + 4;
    const double height = axis_y + 58 + (zoom ? 16 : 0);
    const double base = std::clamp(0.0, lo, hi);  // bars grow from 0, or from the axis end nearest to it
    const std::string note = zoom ? fmt::format("the axis {} at {}, not at 0: the bars are cut, compare their ends, not their lengths",
                                                base == lo ? "starts" : "ends", label_of(base))
                                  : "";
    const double width = std::max({label_w + bar_w + value_w, text_width(b.title, 15) + 20, text_width(note) + 20});
    auto px = [&](double v) { return label_w + (std::clamp(v, lo, hi) - lo) / (hi - lo) * bar_w; };
    std::string o = svg_open(width, height, width / 2, b.title);
    for (double t : axis_ticks) {
        o += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#e5e5e5\"/>\n", px(t), top, axis_y);
        o += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", px(t), axis_y + 16, label_of(t));
    }
    o += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#444\"/>\n", label_w, axis_y, label_w + bar_w, axis_y);
    o += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", label_w + bar_w / 2, axis_y + 38,
                     escape(b.value_label));
    if (zoom)
        o += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" fill=\"#b00000\">{}</text>\n",
                         std::max(label_w + bar_w / 2, text_width(note) / 2 + 10), axis_y + 54, note);
    for (std::size_t i = 0; i < rows; ++i) {
        const double y = top + row * double(i);
        o += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", label_w - 8, y + 15, escape(b.labels[i]));
        const double v = at(b.values, i);
        if (std::isfinite(v)) {
            const double a = std::min(px(base), px(v)), z = std::max(px(base), px(v));
            o += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{}\" fill=\"{}\"/>\n", a, y + 3, std::max(1.0, z - a),
                             row - 6, int(i) == b.best ? "#1f4e79" : "#7fa7d1");
            if (zoom) {  // a break mark where the bar's cut base is
                const double bx = px(base);
                o += fmt::format("<path d=\"M{0:.1f},{1:.1f} l4,-6 M{2:.1f},{1:.1f} l4,-6\" stroke=\"white\" stroke-width=\"2\"/>\n",
                                 bx + (base == lo ? 3 : -9), y + row - 3, bx + (base == lo ? 8 : -4));
            }
            const double e = at(b.errors, i);
            if (std::isfinite(e) && e > 0)
                o += fmt::format("<path d=\"M{0:.1f},{2:.1f} v8 M{0:.1f},{3:.1f} H{1:.1f} M{1:.1f},{2:.1f} v8\" stroke=\"#222\" "
                                 "fill=\"none\"/>\n",
                                 px(v - e), px(v + e), y + row / 2 - 4, y + row / 2);
        }
        o += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n", label_w + bar_w + 8, y + 15, escape(value_text[i]));
    }
    o += "</svg>\n";
    return o;
}

std::string heatmap_svg(const std::string& title, const std::string& x_label, const std::vector<std::string>& x,
                        const std::string& y_label, const std::vector<std::string>& y,
                        const std::vector<std::vector<double>>& values) {
    double cell = 64, left = 110;
    const double top = 50;
    for (const auto& v : x) cell = std::max(cell, text_width(v) + 10);  // labels never run into each other
    for (const auto& v : y) left = std::max(left, text_width(v) + 40);
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
