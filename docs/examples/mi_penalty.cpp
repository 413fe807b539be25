// An MI penalty in one's own training loop, with infomax::MiTerm (see
// docs/estimators.md, "The estimator as a library").
//
// x = (s, u): s is a nuisance (say, a protected attribute), u the signal. An
// encoder z = W x feeds a head that predicts sum(u). Trained on the task
// alone, z keeps part of s (0.21 of 0.72 nats: the task clears it from the
// head's direction only); with lambda * I(s; z) added to the loss, estimated
// by an InfoNCE critic that learns beside the model, the encoder drops s
// (0.001 nats) and the task does not suffer. I(s; z) is measured before and after by a fresh
// critic trained for the measurement alone.
//
// Build against an installed infomax (find_package(infomax)) or in the tree
// (tests/CMakeLists.txt builds it as example_mi_penalty and runs it).
#include <infomax/experiment/mi_term.hpp>
#include <infomax/nn/module.hpp>
#include <infomax/ops/ops.hpp>
#include <infomax/optim/optim.hpp>
#include <infomax/tensor/random.hpp>

#include <cstdio>
#include <cstdlib>
#include <vector>

using namespace infomax;

namespace {

constexpr std::int64_t kBatch = 128, kSignal = 3;

// An InfoNCE critic on (s, z): a separable critic, as the MI literature's.
MiTermOptions infonce_critic(std::uint64_t seed) {
    MiTermOptions o;
    o.estimator = "infonce";
    o.discriminator = "{type: separable, critic_layers: [32], embed_dim: 8}";
    o.lr = 3e-3f;
    o.seed = seed;
    return o;
}

// A batch: s (N, 1), x = (s, u) (N, 1 + kSignal), target sum(u) (N, 1).
struct Batch {
    Var s, x, target;
};
Batch draw(Rng& rng) {
    std::vector<float> s(kBatch), x(kBatch * (1 + kSignal)), t(kBatch);
    for (std::int64_t i = 0; i < kBatch; ++i) {
        s[i] = rng.normal();
        x[i * (1 + kSignal)] = s[i];
        t[i] = 0;
        for (std::int64_t j = 1; j <= kSignal; ++j) t[i] += x[i * (1 + kSignal) + j] = rng.normal();
    }
    return {Var(Tensor::from({kBatch, 1}, s)), Var(Tensor::from({kBatch, 1 + kSignal}, x)), Var(Tensor::from({kBatch, 1}, t))};
}

// I(s; z) of an encoder, by a critic of its own trained for 400 batches: the mean of its last 100 readings.
double measure(nn::Linear& encoder, std::uint64_t seed) {
    MiTerm probe(infonce_critic(seed), {1}, {2});
    Rng rng(seed, "measure");
    double sum = 0;
    for (int step = 0; step < 400; ++step) {
        Batch b = draw(rng);
        const Var z(encoder(b.x).value());  // the encoder fixed
        const double v = probe.train_critic(b.s, z).value.item();
        if (step >= 300) sum += v;
    }
    return sum / 100;
}

double task_mse(nn::Linear& encoder, nn::Linear& head, std::uint64_t seed) {
    Rng rng(seed, "task");
    NoGradGuard ng;
    double sum = 0;
    for (int i = 0; i < 20; ++i) {
        Batch b = draw(rng);
        Var d = head(encoder(b.x)) - b.target;
        sum += ops::mean(d * d).item();
    }
    return sum / 20;
}

}  // namespace

// example_mi_penalty [LAMBDA]: the penalty's weight (default 1; 0 trains on the task alone).
int main(int argc, char** argv) {
    const float lambda = argc > 1 ? std::strtof(argv[1], nullptr) : 1.0f;
    Rng init(1, "init");
    nn::Linear encoder(1 + kSignal, 2, init), head(2, 1, init);
    std::vector<Var> params;
    for (auto* m : {&encoder, &head})
        for (auto& p : m->parameters()) params.push_back(p.var);
    optim::AdamOptions options;
    options.lr = 1e-2f;
    optim::Adam adam(params, options);
    MiTerm penalty(infonce_critic(2), {1}, {2});

    const double mi_before = measure(encoder, 7), mse_before = task_mse(encoder, head, 8);
    Rng data(3, "train");
    for (int step = 1; step <= 1500; ++step) {
        Batch b = draw(data);
        penalty.train_critic(b.s, encoder(b.x));  // the critic keeps up with the encoder
        Var z = encoder(b.x);
        Var d = head(z) - b.target;
        Var loss = ops::mean(d * d) + lambda * penalty(b.s, z).value;
        adam.zero_grad();
        loss.backward();
        adam.step();
        if (step % 500 == 0) std::printf("step %d: loss %.4f\n", step, loss.item());
    }
    const double mi_after = measure(encoder, 7), mse_after = task_mse(encoder, head, 8);
    std::printf("lambda %g: I(s; z) by a fresh InfoNCE critic: %.3f nats before, %.3f after\n", lambda, mi_before, mi_after);
    std::printf("task MSE: %.3f before, %.3f after\n", mse_before, mse_after);
    // The penalty did its job if the nuisance is (nearly) gone and the task learnt. Trained on
    // the task alone (LAMBDA 0), the encoder keeps about 0.2 nats of s: only the head's
    // direction of z is cleared of it.
    const bool ok = mi_after < 0.05 && mse_after < 0.5 * mse_before;
    std::printf("%s\n", ok ? "ok: the encoder dropped s and kept the task" : "FAILED: the penalty did not work");
    return ok ? 0 : 1;
}
