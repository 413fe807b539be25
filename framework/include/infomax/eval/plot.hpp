// Charts as standalone SVG: line charts (learning curves, MI estimate vs
// truth) and scatter plots (GAN samples). No script and no network at view
// time: a browser, an image viewer or a Markdown preview shows them as files.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace infomax::eval {

struct Series {
    std::string label;
    std::vector<double> x, y;
    std::string color;     // empty: the next colour of the palette
    bool dashed = false;   // a reference line (truth, a cap)
    bool points = false;   // a scatter of dots instead of a line
    double radius = 1.5;   // dot radius in pixels (points)
};

struct Chart {
    std::string title, x_label, y_label;
    std::vector<Series> series;
    int width = 720, height = 420;
    std::optional<double> x_min, x_max, y_min, y_max;  // default: the data's range
    bool equal_axes = false;  // same scale on both axes (scatter of 2-D samples)
};

// The chart as an SVG document. Non-finite values are skipped (they break a
// line); lines longer than 4000 points are thinned to every k-th point.
std::string svg(const Chart& chart);

// Horizontal bars with error whiskers (mean ± std by setting); the best bar
// (index `best`, -1 for none) is drawn darker.
std::string bars_svg(const std::string& title, const std::vector<std::string>& labels, const std::vector<double>& values,
                     const std::vector<double>& errors, int best = -1);

// A grid of values (rows y, columns x) coloured from low (light) to high
// (dark), each cell labelled; NaN cells are left grey.
std::string heatmap_svg(const std::string& title, const std::string& x_label, const std::vector<std::string>& x,
                        const std::string& y_label, const std::vector<std::string>& y,
                        const std::vector<std::vector<double>>& values);

}  // namespace infomax::eval
