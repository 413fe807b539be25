#include "experiment/trainer.hpp"

#include "experiment/runner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>

#include "infomax/runtime/error.hpp"
#include "run_dir/run_dir.hpp"
#include "infomax/runtime/world.hpp"
#include "ops/batch_stats.hpp"

namespace infomax::detail {

namespace {

std::vector<std::int64_t> epoch_order(std::uint64_t seed, std::int64_t epoch, std::int64_t n) {
    std::vector<std::int64_t> p(n);
    std::iota(p.begin(), p.end(), 0);
    Rng rng(seed, fmt::format("data/epoch/{}", epoch));
    for (std::int64_t i = n - 1; i > 0; --i) std::swap(p[i], p[rng.below(i + 1)]);
    return p;
}

// Pads by `pad` (zeros), crops back at a random offset, flips with p = 1/2.
void augment_batch(Tensor& x, const Augment& a, Rng& rng) {
    const std::int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
    std::vector<float> tmp(static_cast<std::size_t>(c * h * w));
    for (std::int64_t i = 0; i < n; ++i) {
        const std::int64_t dy = a.crop_padding ? static_cast<std::int64_t>(rng.below(2 * a.crop_padding + 1)) - a.crop_padding : 0;
        const std::int64_t dx = a.crop_padding ? static_cast<std::int64_t>(rng.below(2 * a.crop_padding + 1)) - a.crop_padding : 0;
        const bool flip = a.flip && rng.below(2) == 1;
        float* img = x.data() + i * c * h * w;
        for (std::int64_t k = 0; k < c; ++k)
            for (std::int64_t y = 0; y < h; ++y)
                for (std::int64_t xx = 0; xx < w; ++xx) {
                    const std::int64_t sy = y + dy, sx0 = flip ? w - 1 - xx : xx, sx = sx0 + dx;
                    tmp[(k * h + y) * w + xx] = sy < 0 || sy >= h || sx < 0 || sx >= w ? 0.0f : img[(k * h + sy) * w + sx];
                }
        std::copy(tmp.begin(), tmp.end(), img);
    }
}

}  // namespace

std::string encode_doubles(const std::vector<double>& v) {
    std::string s;
    for (double d : v) s += fmt::format("{}{:.17g}", s.empty() ? "" : ",", d);
    return s;
}

std::vector<double> decode_doubles(const std::string& s, const std::string& what) {
    std::vector<double> v;
    std::size_t start = 0;
    while (start < s.size()) {
        const auto end = std::min(s.find(',', start), s.size());
        double d = 0;
        const auto [ptr, ec] = std::from_chars(s.data() + start, s.data() + end, d);
        if (start == end || ec != std::errc() || ptr != s.data() + end)
            throw Error(fmt::format("{}: '{}' is not a number", what, s.substr(start, end - start)));
        v.push_back(d);
        start = end + 1;
    }
    return v;
}

Trainer::Trainer(Model& model, const Experiment& e) : m_(model) {
    seed_ = e.seed;
    batch_ = e.data.batch_size;
    augment_.crop_padding = e.data.crop_padding;
    augment_.flip = e.data.flip;
    const std::int64_t n = m_.data->size("train");
    steps_per_epoch_ = n / batch_;
    if (steps_per_epoch_ < 1)
        e.fail("data.batch_size", fmt::format("batch size {} is larger than the {} training samples", batch_, n));
    if (!e.train.steps && m_.data->streamed() && steps_per_epoch_ > (std::int64_t{1} << 31))
        e.fail("train", fmt::format("{} draws samples without end: set train.steps", m_.data->describe()));
    if (e.train.steps) {
        total_steps_ = *e.train.steps;
    } else {
        const std::int64_t epochs = m_.data->streamed() ? 1 : e.train.epochs;
        // Steps are counted in 64 bits, and the sample index of a step too.
        if (epochs > std::numeric_limits<std::int64_t>::max() / steps_per_epoch_ / batch_)
            e.fail("train.epochs", fmt::format("{} epochs of {} steps are more steps than can be counted; use fewer epochs "
                                               "or train.steps",
                                               epochs, steps_per_epoch_));
        total_steps_ = steps_per_epoch_ * epochs;
    }
    if (m_.data->streamed() && total_steps_ > std::numeric_limits<std::int64_t>::max() / batch_)
        e.fail("train.steps", fmt::format("{} steps of batch {} index more samples than can be counted", total_steps_, batch_));

    if (world().size > 1) {
        if (!m_.runner->data_parallel())
            throw Error(fmt::format("kind {} trains on one process, and this is rank {} of {} (mpirun): run it without "
                                    "mpirun, or put such runs in a suite, whose runs mpirun shares among the ranks",
                                    to_string(e.kind), world().rank, world().size));
        if (batch_ % world().size != 0)
            e.fail("data.batch_size", fmt::format("the global batch of {} does not split evenly over {} ranks: use a "
                                                  "multiple of {}",
                                                  batch_, world().size, world().size));
        // Summed: what each rank has in part (data_parallel.hpp), in the
        // order backward completes them (the discriminators', then the encoder's).
        // An estimator's own parameters are not: every rank computes the bound
        // on the gathered scores, so each already has their whole gradient.
        std::vector<Var> partial;
        for (const auto& o : m_.objectives)
            for (auto& p : o.discriminator->parameters()) partial.push_back(p.var);
        for (auto& p : m_.encoder->parameters()) partial.push_back(p.var);
        grad_sum_ = std::make_unique<GradientSum>(std::move(partial), std::size_t{1} << 20);
    }
    const OptimizerSpec& os = e.optimizer;
    optim::AdamOptions o;
    o.lr = static_cast<float>(os.lr);
    o.beta1 = static_cast<float>(os.beta1);
    o.beta2 = static_cast<float>(os.beta2);
    o.eps = static_cast<float>(os.eps);
    o.weight_decay = static_cast<float>(os.weight_decay);
    if (os.clip_grad_norm) clip_ = static_cast<float>(*os.clip_grad_norm);
    const bool sgd = os.type == "sgd";
    // Which optimizer updates a parameter: the prior's and the GAN critic's learn
    // their own losses; an objective's critic has its own when it has its own
    // learning rate, or when its loss is not the generator's (gan). Groups are
    // named by the optimizer ("adam", "prior_adam", ...; "sgd", ... for sgd):
    // the names prefix their state in a checkpoint.
    const std::string opt_name = sgd ? "sgd" : "adam";
    opt_name_ = opt_name;
    const bool own_objective_optimizer = m_.runner->objectives_own_optimizer();
    std::map<std::string, std::pair<std::vector<Var>, float>> by_group;
    std::vector<std::string> order{opt_name};
    auto group_of = [&](const std::string& name) -> std::pair<std::string, float> {
        if (name.starts_with("prior.")) return {"prior_" + opt_name, o.lr};
        if (name.starts_with("critic.")) return {"critic_" + opt_name, o.lr};
        for (const auto& ob : m_.objectives)
            if (name.starts_with(fmt::format("objectives.{}.", ob.name)) && (ob.lr > 0 || own_objective_optimizer))
                return {fmt::format("objective_{}.{}", opt_name, ob.name), ob.lr > 0 ? ob.lr : o.lr};
        return {opt_name, o.lr};
    };
    std::map<std::string, std::vector<std::string>> names;
    for (const auto& [name, v] : parameters()) {
        const auto [g, lr] = group_of(name);
        if (!by_group.count(g) && g != opt_name) order.push_back(g);
        by_group[g].first.push_back(v);
        by_group[g].second = lr;
        names[g].push_back(name);
    }
    for (const auto& g : order) {
        if (!by_group.count(g)) continue;
        std::unique_ptr<optim::Optimizer> opt;
        if (sgd) {
            optim::SgdOptions so;
            so.lr = by_group[g].second;
            so.momentum = static_cast<float>(os.momentum);
            so.weight_decay = o.weight_decay;
            opt = std::make_unique<optim::Sgd>(by_group[g].first, so);
        } else {
            optim::AdamOptions go = o;
            go.lr = by_group[g].second;
            opt = std::make_unique<optim::Adam>(by_group[g].first, go);
        }
        groups_.push_back({g, names[g], std::move(opt)});
    }
}

}  // namespace infomax::detail

namespace infomax {
std::int64_t training_steps(Model& model, const Experiment& e) { return detail::Trainer(model, e).total_steps(); }
}  // namespace infomax

namespace infomax::detail {

Trainer::Group* Trainer::group(const std::string& role) {
    for (auto& g : groups_)
        if (g.name == role + "_" + opt_name_) return &g;
    return nullptr;
}

std::vector<std::pair<std::string, nn::Module*>> Trainer::modules() const {
    std::vector<std::pair<std::string, nn::Module*>> out;
    if (m_.encoder) out.emplace_back("encoder.", m_.encoder.get());
    if (m_.generator) out.emplace_back("generator.", m_.generator.get());
    if (m_.critic) out.emplace_back("critic.", m_.critic.get());
    for (const auto& o : m_.objectives) {
        out.emplace_back(fmt::format("objectives.{}.discriminator.", o.name), o.discriminator.get());
        if (nn::Module* own = o.estimator->module()) out.emplace_back(fmt::format("objectives.{}.estimator.", o.name), own);
    }
    if (m_.prior) out.emplace_back("prior.discriminator.", m_.prior->discriminator.get());
    if (m_.head) out.emplace_back("head.", m_.head.get());
    return out;
}

std::vector<std::pair<std::string, Var>> Trainer::parameters() const {
    std::vector<std::pair<std::string, Var>> out;
    for (const auto& [prefix, m] : modules())
        for (auto& p : m->parameters()) out.emplace_back(prefix + p.name, p.var);
    return out;
}

namespace {
// Whether `t` holds a NaN or an infinity: an all-ones exponent, counted with
// integer operations the compiler vectorises (any layout: padding is zero).
bool has_nonfinite(const Tensor& t) {
    if (t.dtype() != DType::f32 || !t.data()) return false;
    const auto* bits = reinterpret_cast<const std::uint32_t*>(t.data());
    const std::size_t n = t.bytes() / 4;
    std::uint32_t bad = 0;
    for (std::size_t i = 0; i < n; ++i) bad += (bits[i] & 0x7f800000u) == 0x7f800000u;
    return bad != 0;
}
}  // namespace

std::string Trainer::nonfinite_state(bool optimizer) const {
    for (const auto& [name, v] : parameters())
        if (has_nonfinite(v.value())) return fmt::format("parameter '{}'", name);
    if (optimizer)
        for (const auto& [name, t] : optimizer_state())
        if (has_nonfinite(*t)) return fmt::format("optimizer state '{}'", name);
    return "";
}

std::vector<std::pair<std::string, Tensor*>> Trainer::buffers() const {
    std::vector<std::pair<std::string, Tensor*>> out;
    for (const auto& [prefix, m] : modules())
        for (auto& b : m->buffers()) out.emplace_back(prefix + b.name, b.tensor);
    return out;
}

std::vector<std::pair<std::string, Tensor*>> Trainer::optimizer_state() const {
    std::vector<std::pair<std::string, Tensor*>> out;
    for (const auto& g : groups_) {
        const auto state = g.opt->state();
        for (std::size_t i = 0; i < g.params.size(); ++i)
            for (const auto& [what, tensors] : state) out.emplace_back(fmt::format("{}/{}/{}", g.name, what, g.params[i]), &(*tensors)[i]);
    }
    return out;
}

double finite(double v, std::int64_t step, const std::string& term) {
    if (!std::isfinite(v)) throw Error(fmt::format("step {}: {} is {}: training stops here", step, term, v));
    return v;
}

void copy_tensor(const data::TensorFile& f, const std::string& name, Tensor& into) {
    auto it = f.tensors.find(name);
    if (it == f.tensors.end()) throw Error(fmt::format("checkpoint has no tensor '{}': it belongs to another model", name));
    if (it->second.shape() != into.shape())
        throw Error(fmt::format("checkpoint tensor '{}' has shape {}, the model's is {}", name,
                                to_string(it->second.shape()), to_string(into.shape())));
    std::copy_n(it->second.data(), into.numel(), into.data());
}

Trainer::Batch Trainer::batch_at(std::int64_t step) const {
    std::vector<std::int64_t> idx(batch_);
    if (m_.data->streamed()) {  // fresh samples in order: schedules follow the step
        std::iota(idx.begin(), idx.end(), step * batch_);
    } else {
        const std::int64_t epoch = step / steps_per_epoch_, k = step % steps_per_epoch_;
        if (order_epoch_ != epoch) {
            order_ = epoch_order(seed_, epoch, m_.data->size("train"));
            order_epoch_ = epoch;
        }
        std::copy(order_.begin() + k * batch_, order_.begin() + (k + 1) * batch_, idx.begin());
    }
    Batch b{m_.data->batch("train", idx), {}, {}, 0.0};
    if (augment_.crop_padding || augment_.flip) {
        Rng rng(seed_, fmt::format("augment/{}", step));
        augment_batch(b.x, augment_, rng);
    }
    m_.runner->complete_batch(b, m_, idx);
    if (grad_sum_) {  // this rank's rows; labels stay global (the head scores every rank's rows)
        const auto [first, last] = my_rows(batch_);
        b.x = rows_of(b.x, first, last);
    }
    return b;
}

Trainer::Batch Trainer::next_batch() const { return batch_at(step_); }


namespace {
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
}  // namespace

Features Trainer::encode(const Var& x) {
    GlobalBatchStats global(grad_sum_ != nullptr);
    return m_.encoder->encode(x);
}

void Trainer::begin_step() {
    for (auto& g : groups_) g.opt->zero_grad();
    mark_ = Clock::now();
}

void Trainer::forward_done() {
    phases_.forward = since(mark_);
    mark_ = Clock::now();
}

void Trainer::backward_done() { phases_.backward = since(mark_); }

void Trainer::finish_step(StepMetrics& out, Var total, Var prior_d_loss) {
    out.emplace_back("loss", finite(total.item(), step_ + 1, "the total loss"));
    forward_done();
    {
        const auto hook = grad_sum_ ? grad_sum_->during_backward() : nullptr;
        total.backward();
    }
    if (grad_sum_) grad_sum_->finish();
    if (auto* pg = group("prior")) {
        pg->opt->zero_grad();  // drop what the encoder's term sent into D
        prior_d_loss.backward();
    }
    if (clip_ > 0) out.emplace_back("grad_norm", optim::clip_grad_norm(groups_[0].opt->params(), clip_));
    backward_done();
    apply_updates();
}

void Trainer::apply_updates() {
    const auto t = Clock::now();
    for (auto& g : groups_) g.opt->step();
    phases_.optimizer = since(t);
    ++step_;
}

data::TensorFile Trainer::checkpoint() const {
    data::TensorFile f;
    for (const auto& [name, v] : parameters()) f.tensors["param/" + name] = v.value();
    for (const auto& [name, t] : buffers()) f.tensors["buffer/" + name] = *t;
    for (const auto& [name, t] : optimizer_state()) f.tensors[name] = *t;
    f.metadata["step"] = std::to_string(step_);
    // Informational: a checkpoint holds no per-rank state and resumes on any number of ranks.
    f.metadata["world_size"] = std::to_string(world().size);
    for (const auto& g : groups_) f.metadata[g.name + "_steps"] = std::to_string(g.opt->steps());
    for (const auto& o : m_.objectives) f.metadata["estimator_state/" + o.name] = encode_doubles(o.estimator->state());
    return f;
}

void Trainer::restore(const data::TensorFile& f) {
    for (auto& [name, v] : parameters()) copy_tensor(f, "param/" + name, v.value());
    for (auto& [name, t] : buffers()) copy_tensor(f, "buffer/" + name, *t);
    for (auto& [name, t] : optimizer_state()) copy_tensor(f, name, *t);
    const auto step = f.metadata.find("step");
    if (step == f.metadata.end()) throw Error("checkpoint has no step");
    step_ = parse_count(step->second, "the checkpoint's step");
    for (auto& g : groups_) {
        auto it = f.metadata.find(g.name + "_steps");
        if (it == f.metadata.end()) throw Error(fmt::format("checkpoint has no step count of optimizer '{}'", g.name));
        g.opt->set_steps(parse_count(it->second, fmt::format("the checkpoint's step count of optimizer '{}'", g.name)));
    }
    for (auto& o : m_.objectives)
        if (auto it = f.metadata.find("estimator_state/" + o.name); it != f.metadata.end())
            o.estimator->set_state(decode_doubles(it->second, "the checkpoint's estimator_state/" + o.name));
}

// The network a run produces: the encoder (dim, supervised), the generator
// (gan), or the critics (mi_estimation).
nn::Module* Trainer::product(std::string* what) const {
    if (m_.encoder) return *what = "encoder", m_.encoder.get();
    if (m_.generator) return *what = "generator", m_.generator.get();
    return nullptr;
}

void Trainer::load_encoder_weights(const data::TensorFile& f) {
    std::string what;
    nn::Module* m = product(&what);
    if (!m) throw Error("this experiment has no encoder or generator to load");
    for (auto& p : m->parameters()) copy_tensor(f, p.name, p.var.value());
    for (auto& b : m->buffers()) copy_tensor(f, b.name, *b.tensor);
}

data::TensorFile Trainer::encoder_weights() const {
    data::TensorFile f;
    std::string what;
    if (nn::Module* m = product(&what)) {
        for (auto& p : m->parameters()) f.tensors[p.name] = p.var.value();
        for (auto& b : m->buffers()) f.tensors[b.name] = *b.tensor;
        f.metadata["format"] = "infomax " + what;
    }
    return f;
}

}  // namespace infomax::detail
