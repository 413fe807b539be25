// Reports as readers use them: a swept suite's curves with short distinct
// labels, one colour per setting and seeds as a band; a spike clipped and
// marked; close bars on an axis that does not start at 0, with error bars and
// n; run reports (DIM, MI, GAN) that open with their tables; every figure a
// well-formed standalone SVG; every page drawn by headless Chromium.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "experiment/render.hpp"
#include "infomax/experiment/run.hpp"
#include "infomax/report/report.hpp"
#include "infomax/runtime/error.hpp"
#include "sdk/support.hpp"

using namespace infomax;
namespace fs = std::filesystem;
using test::read_file;

namespace {

struct Text {
    double x = 0;
    std::string text, fill;
};

// The <text> elements of an SVG (x and text), in order.
std::vector<Text> texts(const std::string& svg) {
    static const std::regex re("<text x=\"([-0-9.]+)\"[^>]*>([^<]*)</text>");
    std::vector<Text> out;
    for (std::sregex_iterator it(svg.begin(), svg.end(), re), end; it != end; ++it)
        out.push_back({std::stod((*it)[1]), (*it)[2], ""});
    return out;
}

double svg_width(const std::string& svg) {
    std::smatch m;
    REQUIRE(std::regex_search(svg, m, std::regex("<svg [^>]*width=\"([0-9.]+)\"")));
    return std::stod(m[1]);
}

int count(const std::string& s, const std::string& what) {
    int n = 0;
    for (std::size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
    return n;
}

// A swept suite written by hand, as `infomax suite` leaves it: 4 x 2 settings
// of two objective weights, seeds 1 and 2, each run with results.json and a
// metrics.csv of 100 rows. Accuracies lie close together (75-77%); held-out
// values spread across 0; run (weight 1.0, 1.0, seed 2) logs one spike of
// -47774849.78 in global.mi, as a JSD critic read through the NWJ bound did.
fs::path swept_suite(const test::TempDir& t) {
    const fs::path dir = t.path / "swept";
    fs::create_directories(dir);
    t.write("tiny.yaml", "name: tiny\n");
    std::ofstream(dir / "suite.yaml") << "name: swept\nbase: " << (t.path / "tiny.yaml").string()
                                      << "\nsweep:\n  - grid: {objectives.global.weight: [0.0, 0.5, 1.0, 2.0]}\n"
                                         "  - grid: {objectives.local.weight: [0.0, 1.0]}\nseeds: [1, 2]\n";
    nlohmann::json runs = nlohmann::json::array();
    int index = 0;
    for (const char* g : {"0.0", "0.5", "1.0", "2.0"})
        for (const char* l : {"0.0", "1.0"}) {
            const std::string setting = fmt::format("objectives.global.weight={},objectives.local.weight={}", g, l);
            for (int seed : {1, 2}) {
                const std::string name = fmt::format("{},seed={}", setting, seed);
                const fs::path run = dir / name / "tiny" / "20260101-000000-00000000";
                fs::create_directories(run);
                std::ofstream(run / "resolved.yaml") << "name: tiny\n";
                nlohmann::json res;
                res["probes"]["global"]["linear"] = {{"test_accuracy", 0.75 + 0.0025 * index + 0.002 * seed},
                                                     {"train_accuracy", 0.8}};
                res["held_out"]["global"] = {{"quantity", "jsd"}, {"value", -1.0 + 0.4 * index + 0.01 * seed}};
                std::ofstream(run / "results.json") << res.dump(2);
                std::string csv = "step,epoch,global.jsd,global.mi,images_per_s\n";
                for (int s = 1; s <= 100; ++s) {
                    double mi = 0.1 * index + 1.5 * (1 - std::exp(-s / 20.0)) + 0.02 * ((s * 7 + seed) % 5);
                    if (g == std::string("1.0") && l == std::string("1.0") && seed == 2 && s == 50) mi = -47774849.78;
                    csv += fmt::format("{},{},{},{},300\n", 10 * s, s / 39.0, -1.3 + 0.01 * s + 0.05 * index, mi);
                }
                std::ofstream(run / "metrics.csv") << csv;
                runs.push_back({{"name", name}, {"setting", setting}, {"spec", (t.path / "tiny.yaml").string()},
                                {"overrides", {"objectives.global.weight=" + std::string(g), "objectives.local.weight=" + std::string(l),
                                               fmt::format("seed={}", seed)}},
                                {"status", "done"}, {"dir", run.string()}, {"error", ""}, {"seed", seed}});
            }
            ++index;
        }
    std::ofstream(dir / "runs.json") << runs.dump(2);
    return dir;
}

RunResult run_spec(const std::string& file) {
    RunOptions o;
    o.spec = file;
    o.progress = false;
    return run_experiment(o);
}

}  // namespace

TEST_CASE("a swept suite's curves: distinct whole labels, one colour per setting, seeds as a band, a spike clipped and marked",
          "[report][suite]") {
    test::TempDir t("report-test");
    const fs::path dir = swept_suite(t);
    REQUIRE(write_report(dir.string()) == (dir / "report.html").string());
    const std::string html = read_file(dir / "report.html");
    const std::string mi = read_file(dir / "figures" / "curve-global.mi.svg"), jsd = read_file(dir / "figures" / "curve-global.jsd.svg");
    REQUIRE_FALSE(mi.empty());
    REQUIRE_FALSE(jsd.empty());

    // The legend: each setting once, by the swept keys alone (both end in
    // "weight", so each keeps its parent), no seed, and it fits the figure.
    std::set<std::string> expected;
    for (const char* g : {"0.0", "0.5", "1.0", "2.0"})
        for (const char* l : {"0.0", "1.0"}) expected.insert(fmt::format("global.weight={} local.weight={}", g, l));
    std::map<std::string, std::string> colour_of;  // label -> legend colour, in global.mi
    for (const auto* svg : {&mi, &jsd}) {
        std::set<std::string> found;
        const double width = svg_width(*svg);
        for (const auto& tx : texts(*svg)) {
            if (!expected.count(tx.text)) {
                CHECK(tx.text.find("seed") == std::string::npos);
                CHECK(tx.text.find("objectives.") == std::string::npos);
                continue;
            }
            CHECK(found.insert(tx.text).second);
            // DejaVu Sans averages under 0.6 em a glyph: the text ends inside the figure.
            CHECK(tx.x + 0.6 * 12 * double(tx.text.size()) <= width);
        }
        CHECK(found == expected);
        // The legend's swatch before each label: one colour per setting, the same in every chart.
        for (const auto& label : expected) {
            std::smatch m;
            const std::regex swatch("stroke=\"(#[0-9a-f]{6})\" stroke-width=\"2\"/>\n<text x=\"[0-9.]+\" y=\"[0-9.]+\">" + label + "<");
            REQUIRE(std::regex_search(*svg, m, swatch));
            if (svg == &mi) colour_of[label] = m[1];
            else CHECK(colour_of[label] == m[1]);
        }
    }
    std::set<std::string> colours;
    for (const auto& [label, c] : colour_of) colours.insert(c);
    CHECK(colours.size() == expected.size());
    // Seeds: a band per setting (min-max), said in the caption; the smoothing is named.
    CHECK(count(mi, "fill-opacity=\"0.15\" stroke=\"none\"") >= 8);
    CHECK_THAT(html, Catch::Contains("Band: min-max over the seeds") && Catch::Contains("running median of (up to) 5"));

    // The spike: outside the axis, counted and marked; the axis keeps the curves' scale.
    CHECK_THAT(mi, Catch::Contains("1 point beyond the y axis, marked at its edge"));
    CHECK_THAT(html, Catch::Contains("1 point lies outside the y axis"));
    CHECK(count(mi, "l-4,8 l8,0 z") + count(mi, "l-4,-8 l8,0 z") == 1);
    int y_ticks = 0;
    for (const auto& tx : texts(mi)) {
        char* end = nullptr;
        const double v = std::strtod(tx.text.c_str(), &end);
        if (tx.x < 70 && !tx.text.empty() && *end == 0) {  // the y axis' tick labels, left of the plot
            ++y_ticks;
            CHECK(std::abs(v) < 10);
        }
    }
    CHECK(y_ticks >= 3);
    CHECK_THAT(jsd, !Catch::Contains("beyond the y axis"));

    // Close accuracies: an axis that does not start at 0 and says so, whiskers and n per bar.
    const std::string acc = read_file(dir / "figures" / "bars-probes.global.linear.test_accuracy.svg");
    std::smatch start;
    REQUIRE(std::regex_search(acc, start, std::regex("the axis starts at ([0-9.]+), not at 0")));
    CHECK(std::stod(start[1]) > 70);
    CHECK(std::stod(start[1]) < 75.4);  // the lowest bar, 75.3 - its std, still shows
    CHECK(count(acc, "(n=2)") == 8);
    CHECK(count(acc, " v8 M") == 8);  // a whisker per bar: std over two seeds
    for (const auto& label : expected) CHECK_THAT(acc, Catch::Contains(">" + label + "<"));
    // Values on both sides of 0: bars from 0, no note.
    const std::string held = read_file(dir / "figures" / "bars-held_out.global.value.svg");
    CHECK_THAT(held, !Catch::Contains("not at 0") && Catch::Contains("held_out.global.value (nats)"));

    CHECK(test::svg_files_well_formed(dir / "figures") == 4);
    CHECK(test::rendered_ink(dir / "report.html", t.path) > 0.03);
}

TEST_CASE("a damaged metrics.csv is named in the report, its curves left out, and damaged results stop it with the file's name",
          "[report][errors]") {
    test::TempDir t("report-test");
    const fs::path dir = swept_suite(t);
    const fs::path run = dir / "objectives.global.weight=0.5,objectives.local.weight=0.0,seed=1" / "tiny" / "20260101-000000-00000000";
    std::string csv = read_file(run / "metrics.csv");
    csv.replace(csv.find("\n30,"), 4, "\n3x,");
    std::ofstream(run / "metrics.csv") << csv;
    write_report(run.string());
    CHECK_THAT(read_file(run / "report.html"),
               Catch::Contains((run / "metrics.csv").string() + ":4: '3x' is not a number: the file was edited or damaged: its curves are left out"));
    write_report(dir.string());
    CHECK_THAT(read_file(dir / "report.html"), Catch::Contains("'3x' is not a number"));
    std::ofstream(run / "results.json") << "{\"probes\": ";
    CHECK_THROWS_WITH(write_report(run.string()), Catch::Contains((run / "results.json").string() + ": not valid JSON"));
}

TEST_CASE("run reports open with their tables: probes in %, bounds in nats, MI levels, GAN coverage, raw results last",
          "[report][run]") {
    test::TempDir t("report-test");
    SECTION("DIM") {
        const auto r = run_spec(t.write("dim.yaml", test::tiny_dim_spec(t.path / "runs", 20)));
        const std::string html = read_file(write_report(r.dir));
        const auto res = nlohmann::json::parse(read_file(fs::path(r.dir) / "results.json"));
        // The first table is the probes', rows by feature, in percent.
        CHECK(html.find("<table") == html.find("<table id=\"probes\">"));
        CHECK(html.find("<table") < html.find("Held-out bounds"));
        for (const char* tap : {"global", "local"}) {
            const double acc = res["probes"][tap]["linear"]["test_accuracy"].get<double>();
            CHECK_THAT(html, Catch::Contains(fmt::format("<tr><td>{}</td><td>{:.2f}<br>", tap, 100 * acc)));
        }
        CHECK_THAT(html, Catch::Contains("<th>value (nats)</th>"));
        CHECK(html.find("Held-out bounds") < html.find("Training curves"));
        // The raw results come last, folded.
        const auto details = html.find("<details><summary>results.json");
        REQUIRE(details != std::string::npos);
        CHECK(html.find("probes.global.linear.test_accuracy") > details);
        CHECK(html.find("Training curves") < details);
        CHECK(test::svg_files_well_formed(fs::path(r.dir) / "figures") >= 4);
        CHECK(test::rendered_ink(fs::path(r.dir) / "report.html", t.path) > 0.03);
    }
    SECTION("MI") {
        const auto r = run_spec(t.write("mi.yaml",
            "name: mi-report\nkind: mi_estimation\nseed: 3\n"
            "data: {type: gaussian, dim: 2, mi: [0.5, 1.0], steps_per_level: 40, batch_size: 32}\n"
            "objectives:\n  mi:\n    estimator: nwj\n    discriminator: {type: separable, critic_layers: [16], embed_dim: 8}\n"
            "optimizer: {lr: 1.0e-3}\ntrain: {log_every: 1}\neval: {window: 10}\n"
            "output: {dir: " + (t.path / "runs").string() + "}\n"));
        const std::string html = read_file(write_report(r.dir));
        const auto res = nlohmann::json::parse(read_file(fs::path(r.dir) / "results.json"));
        // mi_levels.md as an HTML table: its header and a row per level, no Markdown left.
        CHECK_THAT(html, Catch::Contains("<tr><th>estimate</th><th>true MI</th><th>steps</th>"));
        CHECK(count(html, "<tr><td>" + res["mi_levels"][0]["estimate"].get<std::string>() + "</td>") == 2);
        CHECK_THAT(html, !Catch::Contains("|---"));
        CHECK(html.find("MI estimates by level") < html.find("Training curves"));
        CHECK_THAT(html, Catch::Contains("<img src=\"mi.svg\""));
        CHECK(test::svg_files_well_formed(fs::path(r.dir) / "figures") >= 2);
        CHECK(test::rendered_ink(fs::path(r.dir) / "report.html", t.path) > 0.03);
    }
    SECTION("GAN") {
        const auto r = run_spec(t.write("gan.yaml",
            "name: gan-report\nkind: gan\nseed: 2\n"
            "data: {type: gaussian_grid, batch_size: 32}\nnoise: {distribution: normal, dim: 2}\n"
            "generator: {type: layer_stack, layers: [{linear: {out: 16}}, relu, {linear: {out: 2}}]}\n"
            "critic: {type: prior_mlp, hidden: [16]}\noptimizer: {lr: 1.0e-3, betas: [0.5, 0.999]}\n"
            "train: {steps: 30, log_every: 1}\neval: {samples: 200}\n"
            "output: {dir: " + (t.path / "runs").string() + "}\n"));
        const std::string html = read_file(write_report(r.dir));
        const auto res = nlohmann::json::parse(read_file(fs::path(r.dir) / "results.json"));
        CHECK_THAT(html, Catch::Contains(fmt::format("<td>{} of 25</td><td>{:.2f}</td><td>200</td>", res["gan"]["modes_covered"].get<int>(),
                                                     100 * res["gan"]["high_quality_share"].get<double>())));
        CHECK(html.find("GAN mode coverage") < html.find("Training curves"));
        const std::string per_mode = read_file(fs::path(r.dir) / "figures" / "gan-per-mode.svg");
        CHECK(count(per_mode, ">mode ") == 25);
        CHECK(test::svg_files_well_formed(fs::path(r.dir) / "figures") >= 3);
        CHECK(test::rendered_ink(fs::path(r.dir) / "report.html", t.path) > 0.03);
    }
}
