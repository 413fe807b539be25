#include "experiment/trainer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "infomax/eval/probes.hpp"
#include "infomax/ops/ops.hpp"
#include "infomax/runtime/error.hpp"

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

std::string encode_doubles(const std::vector<double>& v) {
    std::string s;
    for (double d : v) s += fmt::format("{}{:.17g}", s.empty() ? "" : ",", d);
    return s;
}

std::vector<double> decode_doubles(const std::string& s) {
    std::vector<double> v;
    std::size_t start = 0;
    while (start < s.size()) {
        const auto end = std::min(s.find(',', start), s.size());
        v.push_back(std::stod(s.substr(start, end - start)));
        start = end + 1;
    }
    return v;
}

}  // namespace

DimTrainer::DimTrainer(Model& model, const config::Document& spec) : m_(model) {
    const config::Params root(spec, "");
    seed_ = static_cast<std::uint64_t>(root.integer("seed"));
    const config::Params data = root.child("data");
    batch_ = data.integer("batch_size");
    if (data.has("augment")) {
        augment_.crop_padding = data.child("augment").integer("crop_padding");
        augment_.flip = data.child("augment").boolean("flip");
    }
    const std::int64_t n = m_.data->size("train");
    steps_per_epoch_ = n / batch_;
    if (steps_per_epoch_ < 1)
        data.fail("batch_size", fmt::format("batch size {} is larger than the {} training samples", batch_, n));
    const config::Params train = root.has("train") ? root.child("train") : config::Params(spec, "train");
    total_steps_ = root.has("train") && train.has("steps") ? train.integer("steps")
                                                           : steps_per_epoch_ * (root.has("train") ? train.integer("epochs") : 1);

    // One Adam for the encoder and the objectives' critics, one for the prior's.
    optim::AdamOptions o;
    if (root.has("optimizer")) {
        const config::Params op = root.child("optimizer");
        if (op.string("type") != "adam") op.fail("type", "only adam is wired into infomax run so far");
        o.lr = static_cast<float>(op.number("lr"));
        const auto betas = op.node()["betas"];
        o.beta1 = betas[0].as<float>();
        o.beta2 = betas[1].as<float>();
        o.eps = static_cast<float>(op.number("eps"));
        o.weight_decay = static_cast<float>(op.number("weight_decay"));
        if (op.has("clip_grad_norm")) clip_ = static_cast<float>(op.number("clip_grad_norm"));
    }
    std::vector<Var> main, prior;
    for (const auto& [name, v] : parameters()) {
        const bool is_prior = name.starts_with("prior.");
        (is_prior ? prior : main).push_back(v);
        (is_prior ? prior_names_ : main_names_).push_back(name);
    }
    opt_ = std::make_unique<optim::Adam>(main, o);
    if (!prior.empty()) prior_opt_ = std::make_unique<optim::Adam>(prior, o);
}

std::vector<std::pair<std::string, nn::Module*>> DimTrainer::modules() const {
    std::vector<std::pair<std::string, nn::Module*>> out{{"encoder.", m_.encoder.get()}};
    for (const auto& o : m_.objectives)
        out.emplace_back(fmt::format("objectives.{}.discriminator.", o.name), o.discriminator.get());
    if (m_.prior) out.emplace_back("prior.discriminator.", m_.prior->discriminator.get());
    if (m_.head) out.emplace_back("head.", m_.head.get());
    return out;
}

std::vector<std::pair<std::string, Var>> DimTrainer::parameters() const {
    std::vector<std::pair<std::string, Var>> out;
    for (const auto& [prefix, m] : modules())
        for (auto& p : m->parameters()) out.emplace_back(prefix + p.name, p.var);
    return out;
}

std::vector<std::pair<std::string, Tensor*>> DimTrainer::buffers() const {
    std::vector<std::pair<std::string, Tensor*>> out;
    for (const auto& [prefix, m] : modules())
        for (auto& b : m->buffers()) out.emplace_back(prefix + b.name, b.tensor);
    return out;
}

std::vector<std::pair<std::string, Tensor*>> DimTrainer::optimizer_state() const {
    std::vector<std::pair<std::string, Tensor*>> out;
    auto add = [&](const char* prefix, optim::Adam* opt, const std::vector<std::string>& names) {
        for (std::size_t i = 0; i < names.size(); ++i) {
            out.emplace_back(fmt::format("{}/m/{}", prefix, names[i]), &opt->m[i]);
            out.emplace_back(fmt::format("{}/v/{}", prefix, names[i]), &opt->v[i]);
        }
    };
    add("adam", opt_.get(), main_names_);
    if (prior_opt_) add("prior_adam", prior_opt_.get(), prior_names_);
    return out;
}

void copy_tensor(const data::TensorFile& f, const std::string& name, Tensor& into) {
    auto it = f.tensors.find(name);
    if (it == f.tensors.end()) throw Error(fmt::format("checkpoint has no tensor '{}': it belongs to another model", name));
    if (it->second.shape() != into.shape())
        throw Error(fmt::format("checkpoint tensor '{}' has shape {}, the model's is {}", name,
                                to_string(it->second.shape()), to_string(into.shape())));
    std::copy_n(it->second.data(), into.numel(), into.data());
}

DimTrainer::Batch DimTrainer::batch_at(std::int64_t step) const {
    const std::int64_t epoch = step / steps_per_epoch_, k = step % steps_per_epoch_;
    if (order_epoch_ != epoch) {
        order_ = epoch_order(seed_, epoch, m_.data->size("train"));
        order_epoch_ = epoch;
    }
    std::vector<std::int64_t> idx(order_.begin() + k * batch_, order_.begin() + (k + 1) * batch_);
    Batch b{m_.data->batch("train", idx), {}};
    if (augment_.crop_padding || augment_.flip) {
        Rng rng(seed_, fmt::format("augment/{}", step));
        augment_batch(b.x, augment_, rng);
    }
    if (m_.head) b.labels = m_.data->labels("train", idx);
    return b;
}

DimTrainer::Batch DimTrainer::next_batch() const { return batch_at(step_); }

StepMetrics DimTrainer::train_step(const Batch& batch) {
    StepMetrics out;
    m_.encoder->train(true);
    opt_->zero_grad();
    if (prior_opt_) prior_opt_->zero_grad();
    Features f = m_.encoder->encode(Var(batch.x));
    Var total;
    auto add = [&](const Var& v) { total = total.defined() ? total + v : v; };
    auto finite = [&](double v, const std::string& term) {
        if (!std::isfinite(v))
            throw Error(fmt::format("step {}: {} is {}: training stops here", step_ + 1, term, v));
        return v;
    };
    if (m_.head) {
        m_.head->train(true);
        Var logits = m_.head->forward(f.global);
        Var ce = ops::cross_entropy(logits, batch.labels);
        const std::int64_t correct = eval::count_correct(logits.value(), batch.labels.data());
        out.emplace_back("supervised.cross_entropy", finite(ce.item(), "the cross-entropy"));
        out.emplace_back("supervised.accuracy", double(correct) / double(batch.labels.size()));
        add(ce);
    }
    Rng neg(seed_, fmt::format("negatives/{}", step_));
    for (auto& o : m_.objectives) {
        Scores s = make_scores(*o.discriminator, f.local, f.global, o.negatives, neg);
        Bound b = o.estimator->bound(s);
        out.emplace_back(fmt::format("{}.{}", o.name, o.estimator->quantity()),
                         finite(b.value.item(), fmt::format("objective '{}' ({})", o.name, o.estimator->quantity())));
        add(b.loss * o.weight);
    }
    Var prior_d_loss;
    if (m_.prior) {
        auto& p = *m_.prior;
        Var yt = p.prior->transform(f.global);
        Rng rng(seed_, fmt::format("prior/{}", step_));
        Var real(p.prior->sample(yt.shape(), rng));
        // Encoder: make D call transform(y) real. D: tell real from fake (y detached).
        Var g_loss = ops::mean(ops::softplus(-p.discriminator->score(yt)));
        prior_d_loss = ops::mean(ops::softplus(-p.discriminator->score(real))) +
                       ops::mean(ops::softplus(p.discriminator->score(yt.detach())));
        out.emplace_back("prior.g_loss", finite(g_loss.item(), "the prior term (encoder)"));
        out.emplace_back("prior.d_loss", finite(prior_d_loss.item(), "the prior term (discriminator)"));
        add(g_loss * p.weight);
    }
    out.emplace_back("loss", finite(total.item(), "the total loss"));
    total.backward();
    if (prior_opt_) {
        prior_opt_->zero_grad();  // drop what the encoder's term sent into D
        prior_d_loss.backward();
    }
    if (clip_ > 0) out.emplace_back("grad_norm", optim::clip_grad_norm(opt_->params(), clip_));
    opt_->step();
    if (prior_opt_) prior_opt_->step();
    ++step_;
    return out;
}

data::TensorFile DimTrainer::checkpoint() const {
    data::TensorFile f;
    for (const auto& [name, v] : parameters()) f.tensors["param/" + name] = v.value();
    for (const auto& [name, t] : buffers()) f.tensors["buffer/" + name] = *t;
    for (const auto& [name, t] : optimizer_state()) f.tensors[name] = *t;
    f.metadata["step"] = std::to_string(step_);
    f.metadata["adam_steps"] = std::to_string(opt_->steps());
    if (prior_opt_) f.metadata["prior_adam_steps"] = std::to_string(prior_opt_->steps());
    for (const auto& o : m_.objectives) f.metadata["estimator_state/" + o.name] = encode_doubles(o.estimator->state());
    return f;
}

void DimTrainer::restore(const data::TensorFile& f) {
    for (auto& [name, v] : parameters()) copy_tensor(f, "param/" + name, v.value());
    for (auto& [name, t] : buffers()) copy_tensor(f, "buffer/" + name, *t);
    for (auto& [name, t] : optimizer_state()) copy_tensor(f, name, *t);
    step_ = std::stoll(f.metadata.at("step"));
    opt_->set_steps(std::stoll(f.metadata.at("adam_steps")));
    if (prior_opt_) prior_opt_->set_steps(std::stoll(f.metadata.at("prior_adam_steps")));
    for (auto& o : m_.objectives)
        if (auto it = f.metadata.find("estimator_state/" + o.name); it != f.metadata.end())
            o.estimator->set_state(decode_doubles(it->second));
}

void DimTrainer::load_encoder_weights(const data::TensorFile& f) {
    for (auto& p : m_.encoder->parameters()) copy_tensor(f, p.name, p.var.value());
    for (auto& b : m_.encoder->buffers()) copy_tensor(f, b.name, *b.tensor);
}

data::TensorFile DimTrainer::encoder_weights() const {
    data::TensorFile f;
    for (auto& p : m_.encoder->parameters()) f.tensors[p.name] = p.var.value();
    for (auto& b : m_.encoder->buffers()) f.tensors[b.name] = *b.tensor;
    f.metadata["format"] = "infomax encoder";
    return f;
}

}  // namespace infomax::detail
