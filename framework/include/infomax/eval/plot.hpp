// Charts as standalone SVG: line charts (learning curves, MI estimate vs
// truth), scatter plots (GAN samples), bars and heat maps. No script and no
// network at view time: a browser, an image viewer or a paper's LaTeX (after
// conversion) shows them as files.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace infomax::eval {

struct Series {
    std::string label;     // empty: not in the legend
    std::vector<double> x, y;
    std::string color;     // empty: the next colour of the palette
    bool dashed = false;   // a reference line (truth, a cap)
    bool points = false;   // a scatter of dots instead of a line
    double radius = 1.5;   // dot radius in pixels (points)
    double opacity = 1;    // < 1: a faint line (raw values under their smoothed line)
    double stroke = 1.2;   // line width in pixels
    // A shaded band around the line (e.g. min-max over seeds), one value per
    // x; empty: none. NaN breaks the band like the line.
    std::vector<double> band_lo = {}, band_hi = {};
};

struct Chart {
    std::string title, x_label, y_label;  // labels carry their unit, e.g. "estimate (nats)"
    std::vector<Series> series;
    int width = 720, height = 420;  // the plot's frame; the legend below adds height
    std::optional<double> x_min, x_max, y_min, y_max;  // default: the data's range
    bool equal_axes = false;  // same scale on both axes (scatter of 2-D samples)
    // Without a fixed y range, the y axis spans the 2%-98% quantiles of the
    // values widened by half their span (never past the data), so one spike
    // cannot flatten a curve; points beyond it are marked at the edge and
    // counted in a note under the plot.
    bool robust_y = true;
};

// The chart as an SVG document. Non-finite values are skipped (they break a
// line); lines longer than 4000 points are thinned to every k-th point. The
// legend sits below the plot, wrapped into rows, and the document widens
// rather than cut a label. `outside`, when given, receives the number of
// points beyond the robust y axis.
std::string svg(const Chart& chart, int* outside = nullptr);

// The i-th colour of the charts' palette, then hues spread by the golden
// angle: series drawn apart (a faint raw line and its smooth one) can share one.
std::string palette_colour(std::size_t i);

// Horizontal bars with error whiskers, e.g. mean ± std over seeds by setting.
struct Bars {
    std::string title, value_label;  // value_label: the value axis, with its unit
    std::vector<std::string> labels;
    std::vector<double> values, errors;  // errors: NaN or 0 draws no whisker
    std::vector<int> n;                  // runs behind each bar, printed beside it; empty: not printed
    int best = -1;                       // drawn darker; -1: none
};
// Bars start at 0, unless the values (± errors) lie close together on one side
// of it: then the axis spans just them, so 75% and 76% differ visibly, and the
// plot says that the axis does not start at 0 (a break mark at each bar's base
// and a note).
std::string svg(const Bars& bars);

// A grid of values (rows y, columns x) coloured from low (light) to high
// (dark), each cell labelled; NaN cells are left grey.
std::string heatmap_svg(const std::string& title, const std::string& x_label, const std::vector<std::string>& x,
                        const std::string& y_label, const std::vector<std::string>& y,
                        const std::vector<std::vector<double>>& values);

}  // namespace infomax::eval
