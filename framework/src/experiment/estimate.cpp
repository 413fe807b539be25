#include "infomax/experiment/estimate.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <fstream>
#include <numeric>
#include <tuple>

#include "config/document.hpp"
#include "experiment/held_out.hpp"
#include "infomax/autograd/var.hpp"
#include "infomax/data/files.hpp"
#include "infomax/eval/sample_mi.hpp"
#include "infomax/experiment/mi_term.hpp"
#include "infomax/ops/ops.hpp"
#include "infomax/plugin/registry.hpp"
#include "infomax/runtime/console.hpp"
#include "infomax/runtime/error.hpp"
#include "infomax/runtime/threads.hpp"
#include "infomax/tensor/random.hpp"

namespace infomax {

namespace {

// One CSV field as a number, or an Error at file:line:column.
float csv_number(const std::string& field, const std::string& path, std::int64_t line, std::size_t column) {
    float v = 0;
    const char* b = field.data();
    const char* e = field.data() + field.size();
    while (b < e && *b == ' ') ++b;
    while (e > b && (e[-1] == ' ' || e[-1] == '\r')) --e;
    const auto [p, ec] = std::from_chars(b, e, v);
    if (ec != std::errc() || p != e || b == e || !std::isfinite(v)) {
        const std::string shown = field.size() > 40 ? field.substr(0, 40) + "..." : field;
        throw Error(fmt::format("{}:{}:{}: expected a finite number, found '{}'", path, line, column, shown));
    }
    return v;
}

// bmi's save_sample layout: X0..X{dx-1},Y0..Y{dy-1}, then one sample a row.
std::vector<float> read_csv(const std::string& path, std::int64_t dx, std::int64_t dy, std::int64_t* rows) {
    std::ifstream in(path, std::ios::binary);
    std::string line;
    if (!std::getline(in, line)) throw Error(fmt::format("{}: empty file: expected a header X0,...,Y0,... and rows of numbers", path));
    std::vector<std::string> header = data::split_csv_line(line);
    for (auto& h : header)
        if (!h.empty() && h.back() == '\r') h.pop_back();
    std::vector<std::string> want;
    for (std::int64_t i = 0; i < dx; ++i) want.push_back(fmt::format("X{}", i));
    for (std::int64_t i = 0; i < dy; ++i) want.push_back(fmt::format("Y{}", i));
    if (header != want) {
        std::size_t k = 0;
        while (k < header.size() && k < want.size() && header[k] == want[k]) ++k;
        throw Error(fmt::format("{}:1: the header has {} columns{}, DIM_X {} and DIM_Y {} need {}: {} (bmi's save_sample "
                                "layout); check the dimensions",
                                path, header.size(),
                                k < header.size() ? fmt::format(" and column {} is '{}'", k + 1, header[k].substr(0, 40)) : "",
                                dx, dy, want.size(),
                                want.size() <= 6 ? fmt::format("{}", fmt::join(want, ","))
                                                 : fmt::format("X0,...,X{},Y0,...,Y{}", dx - 1, dy - 1)));
    }
    std::vector<float> values;
    std::int64_t number = 1;
    while (std::getline(in, line)) {
        ++number;
        if (line.empty() || line == "\r") continue;
        const std::vector<std::string> fields = data::split_csv_line(line);
        if (static_cast<std::int64_t>(fields.size()) != dx + dy)
            throw Error(fmt::format("{}:{}: {} values, the header has {}", path, number, fields.size(), dx + dy));
        std::size_t column = 1;
        for (const auto& f : fields) {
            values.push_back(csv_number(f, path, number, column));
            column += f.size() + 1;
        }
    }
    *rows = static_cast<std::int64_t>(values.size()) / (dx + dy);
    return values;
}

// Each column to mean 0 and standard deviation 1 (a constant column to 0).
void standardize(Tensor& t) { eval::standardize_columns(t.data(), t.size(0), t.size(1)); }

// Rows `index` of t.
Var rows(const Tensor& t, const std::vector<std::int64_t>& index) { return ops::index_select(Var(t), 0, index); }

// The part named on the command line, its params checked against its schema
// (errors at their PARAM=VALUE argument); kind: sample_estimator or estimator.
struct NamedPart {
    std::string kind;
    config::Document doc;
};
NamedPart named_part(const Registry& registry, const EstimateOptions& o) {
    NamedPart part;
    for (const char* kind : {"sample_estimator", "estimator"})
        if (registry.find(kind, o.estimator)) part.kind = kind;
    if (part.kind.empty()) {
        std::vector<std::string> known = registry.names("sample_estimator");
        for (const auto& n : registry.names("estimator")) known.push_back(n);
        throw Error(fmt::format("--estimator: {}", config::unknown_name("estimator", o.estimator, known)));
    }
    part.doc = config::parse(fmt::format("type: {}\n", o.estimator), "--estimator");
    std::vector<config::Diagnostic> problems;
    config::apply_overrides(part.doc, o.params, problems);
    const config::Schema schema = config::Schema::from_yaml(
        fmt::format("type: object\nx-plugin: {}\nproperties: {{type: {{type: string}}}}\n", part.kind));
    for (auto& d : config::validate(part.doc, schema, registry.schema_lookup())) problems.push_back(d);
    if (!problems.empty()) {
        config::sort_diagnostics(problems);
        throw config::SpecError(problems);
    }
    return part;
}

// The part's validated map on one line ({type: infonce, ...}), as MiTerm takes it.
std::string flow(const YAML::Node& n) {
    YAML::Node c = YAML::Clone(n);
    c.SetStyle(YAML::EmitterStyle::Flow);  // a map loaded in block style keeps its style otherwise
    YAML::Emitter e;
    e << c;
    return e.c_str();
}

ConvergenceFlags convergence(const std::vector<double>& train, bool stopped_early) {
    const detail::ConvergenceCheck c = detail::convergence_of(train);
    ConvergenceFlags f;
    f.early_stopping_not_triggered = !stopped_early;
    f.max_training_mi_decreased = c.max_training_mi_decreased;
    f.training_mi_still_increasing = c.training_mi_still_increasing;
    return f;
}

EstimateResult train_bound(const NamedPart& part, const Tensor& x, const Tensor& y, const EstimateOptions& o) {
    const std::int64_t n = x.size(0);
    std::vector<std::int64_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    Rng split(o.seed, "estimate/split");
    for (std::int64_t i = n - 1; i > 0; --i) std::swap(order[i], order[split.below(std::uint64_t(i) + 1)]);
    const std::int64_t n_test = std::clamp<std::int64_t>(std::llround(o.test_fraction * double(n)), 0, n);
    const std::vector<std::int64_t> test(order.begin(), order.begin() + n_test), train(order.begin() + n_test, order.end());
    if (static_cast<std::int64_t>(train.size()) < o.batch || n_test < o.batch)
        throw Error(fmt::format("{}: {} samples give {} to train and {} to test, fewer than a batch of {}: give more samples "
                                "or a smaller batch",
                                o.samples, n, train.size(), n_test, o.batch));
    MiTermOptions mo;
    mo.estimator = flow(part.doc.root);
    mo.discriminator = o.critic;
    mo.lr = o.lr;
    mo.seed = o.seed;
    mo.plugin_paths = o.plugin_paths;
    MiTerm term(mo, Shape{x.size(1)}, Shape{y.size(1)});
    const Tensor x_test = rows(x, test).value(), y_test = rows(y, test).value();
    // The bound on each batch of `batch` rows of the test half (their mean is the estimate).
    auto held_out = [&] {
        NoGradGuard ng;
        std::vector<double> values;
        for (std::int64_t b = 0; b < n_test / o.batch; ++b) {
            std::vector<std::int64_t> idx(o.batch);
            std::iota(idx.begin(), idx.end(), b * o.batch);
            values.push_back(term(rows(x_test, idx), rows(y_test, idx)).value.item());
        }
        return values;
    };
    EstimateResult r;
    r.n_train = static_cast<std::int64_t>(train.size());
    r.n_test = n_test;
    Rng draw(o.seed, "estimate/batches");
    std::vector<double> train_values;
    detail::HeldOutState held;
    std::vector<std::int64_t> idx(o.batch);
    for (std::int64_t step = 1; step <= o.max_steps; ++step) {
        for (auto& i : idx) i = train[draw.below(train.size())];
        train_values.push_back(term.train_critic(rows(x, idx), rows(y, idx)).value.item());
        r.steps = step;
        if (step % o.eval_every != 0 && step != o.max_steps) continue;
        const bool stop = held.record(step, held_out(), o.patience);
        console::detail(fmt::format("estimate: step {} train {:.4f} test {:.4f}", step, train_values.back(),
                                    held.evaluations.back().second));
        if (stop) break;
    }
    r.mi = held.best;
    r.best_step = held.best_step;
    const bool stopped = held.stopped_early;
    r.flags = convergence(train_values, stopped);
    r.quantity = term.quantity();
    std::tie(r.interval_lo, r.interval_hi) = detail::bootstrap_interval(held.best_batches, 0.95, 2000, o.seed);
    r.ceiling = term.ceiling(o.batch);
    r.saturated = detail::saturated(r.mi, r.ceiling);
    return r;
}

}  // namespace

std::string EstimateResult::verdict() const {
    if (kind != "estimator")
        return "a sample estimator: no training to check (KSG reads low in many dimensions, CCA assumes a Gaussian, "
               "the histogram suits 1 or 2 dimensions)";
    std::vector<std::string> raised;
    if (flags.early_stopping_not_triggered) raised.push_back("early stopping never triggered");
    if (flags.max_training_mi_decreased) raised.push_back("the training estimate fell from its maximum");
    if (flags.training_mi_still_increasing) raised.push_back("the training estimate was still rising");
    if (saturated) raised.push_back(fmt::format("saturated ({:.3f} of a {:.3f} ceiling: the batch, not the data, caps it)", mi, ceiling));
    const std::string interval = std::isfinite(interval_lo)
                                     ? fmt::format("95% interval [{:.4f}, {:.4f}] over the held-out batches (their noise, "
                                                   "not the bound's bias)",
                                                   interval_lo, interval_hi)
                                     : "no interval (one held-out batch)";
    if (raised.empty()) return "no flag raised; " + interval;
    return fmt::format("FLAGGED: {}; {}", fmt::join(raised, "; "), interval);
}

std::pair<Tensor, Tensor> read_samples(const std::string& path, std::int64_t dx, std::int64_t dy) {
    if (dx < 1 || dy < 1) throw Error(fmt::format("DIM_X and DIM_Y must be at least 1 (got {} and {})", dx, dy));
    std::ifstream probe(path, std::ios::binary);
    if (!probe) throw Error(fmt::format("{}: cannot read it (no such file or not readable)", path));
    char magic[6] = {0};
    probe.read(magic, 6);
    probe.close();
    std::vector<float> values;
    std::int64_t n = 0;
    if (std::string(magic, 6) == "\x93NUMPY") {
        const data::NpyArray a = data::read_npy(path);
        if (a.shape.size() != 2 || a.shape[1] != dx + dy)
            throw Error(fmt::format("{}: an array of shape ({}) where DIM_X {} and DIM_Y {} need (n, {})", path,
                                    fmt::join(a.shape, ", "), dx, dy, dx + dy));
        n = a.shape[0];
        if (a.is_uint8) values.assign(a.bytes.begin(), a.bytes.end());
        else values = a.values;
        for (std::size_t i = 0; i < values.size(); ++i)
            if (!std::isfinite(values[i]))
                throw Error(fmt::format("{}: row {}, column {} is not finite", path, i / (dx + dy), i % (dx + dy)));
    } else {
        values = read_csv(path, dx, dy, &n);
    }
    if (n < 2) throw Error(fmt::format("{}: {} sample{}: an MI estimate needs at least 2", path, n, n == 1 ? "" : "s"));
    Tensor x = Tensor::empty({n, dx}), y = Tensor::empty({n, dy});
    for (std::int64_t i = 0; i < n; ++i) {
        std::copy_n(values.data() + i * (dx + dy), dx, x.data() + i * dx);
        std::copy_n(values.data() + i * (dx + dy) + dx, dy, y.data() + i * dy);
    }
    return {x, y};
}

EstimateResult estimate_mi(const EstimateOptions& o) {
    const auto start = std::chrono::steady_clock::now();
    if (o.threads > 0) set_threads(o.threads);
    Registry registry;
    registry.load_defaults(o.plugin_paths);
    const NamedPart part = named_part(registry, o);
    auto [x, y] = read_samples(o.samples, o.dim_x, o.dim_y);
    EstimateResult r;
    if (part.kind == "sample_estimator") {
        BuildContext ctx;
        auto est = registry.create_as<SampleEstimator>("sample_estimator", o.estimator, config::Params(part.doc, ""), ctx);
        r.mi = est->estimate(x, y);
        r.quantity = est->quantity();
    } else {
        if (o.standardize) {
            standardize(x);
            standardize(y);
        }
        r = train_bound(part, x, y, o);
    }
    r.kind = part.kind;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return r;
}

}  // namespace infomax
