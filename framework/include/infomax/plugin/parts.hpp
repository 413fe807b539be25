// The parts an experiment is made of. Each is an abstract class here; plugins
// (built-in or third-party) implement them and register with INFOMAX_PLUGIN.
//
//   Encoder        x -> Features {global y, local M, named taps}
//   Discriminator  scores pairs (M or x, y or z) -> (N, P); or single inputs (prior)
//   Estimator      Scores {pos (N, P), neg (N, K)} -> Bound {value in nats, loss}
//   Prior          samples to match y against
//   Dataset        samples (and labels) by split: train, validation, test
//   SampleEstimator  paired samples (x, y) -> an MI estimate (KSG, CCA, a histogram): no critic
//
// Estimators are pure functions of scores, so any estimator pairs with any
// discriminator. Part authors compose ops (infomax/ops/ops.hpp): gradients come
// by themselves.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "infomax/autograd/var.hpp"
#include "infomax/nn/init.hpp"
#include "infomax/nn/module.hpp"
#include "infomax/tensor/random.hpp"

namespace infomax {

// Every part derives from Part (so the registry can hold any of them).
class Part {
public:
    virtual ~Part() = default;
};

// What a factory knows when it builds a part: shapes inferred from the parts
// built before it (per sample, without the batch dimension) and the init.
struct BuildContext {
    Rng* rng = nullptr;                          // the "init" stream
    nn::Init init = nn::Init::pytorch_default;   // default initialiser
    Shape input_shape;    // (C, H, W) of the data
    Shape local_shape;    // (C, H, W) of M, or (D) of x for vector data
    Shape global_shape;   // (D) of y, or of z
    std::int64_t batch_size = 0;  // data.batch_size of the spec
};

struct Features {
    Var global;  // y: (N, D)
    Var local;   // M: (N, C, H, W)
    std::vector<std::pair<std::string, Var>> taps;  // every named tap, in order
};

class Encoder : public nn::Module, public Part {
public:
    virtual Features encode(const Var& x) = 0;
    Var forward(const Var& x) override { return encode(x).global; }
};

class Discriminator : public nn::Module, public Part {
public:
    // Scores of aligned pairs: a (N, ...) with b (N, ...) -> (N, P).
    // P is 1 for a global score, H*W for one score per location.
    virtual Var pairs(const Var& a, const Var& b);
    // Every a_j with every b_i -> (N_b, N_a, P). The default tiles both sides
    // and calls pairs() on N_b * N_a pairs; separable critics override it
    // with one matrix product.
    virtual Var all_pairs(const Var& a, const Var& b);
    // Score of single inputs (the prior discriminator): a (N, D) -> (N, 1).
    virtual Var score(const Var& a);
    Var forward(const Var& x) override { return score(x); }
};

// Scores for an estimator: row i holds sample i's positive scores (N, P) and
// its negative scores (N, K). Every positive of row i is contrasted with every
// negative of row i (InfoNCE); JSD, DV and NWJ use all entries.
struct Scores {
    Var pos;
    Var neg;
};

// An estimate of I in nats read from a bound's scores, named by how it is
// read ("mi_smile", "mi_nwj"): logged as <objective>.<name>.
struct Reading {
    std::string name;
    Var value;  // a scalar, without gradient
};

struct Bound {
    Var value;  // the estimate (scalar), in nats; `quantity()` says of what
    Var loss;   // the scalar to minimise
    // When `value` is not an estimate of I (a divergence such as JSD): MI read
    // from the same scores, the first being the one tables, mi_levels and
    // held-out results use. Empty when `value` is one.
    std::vector<Reading> readings;
};

class Estimator : public Part {
public:
    // The name of what value() estimates: "jsd", "mi_dv", "mi_infonce", "mi_nwj".
    virtual std::string quantity() const = 0;
    // The unit of value(): "nats" for MI and the KL-type divergences, "" for a
    // dimensionless one (Pearson chi-square, squared Hellinger). Readings are in nats.
    virtual std::string unit() const { return "nats"; }
    virtual Bound bound(const Scores& s) = 0;
    // Whether the bound's partition term is a mean of e^T over the negatives
    // (DV, NWJ, TUBA, I_alpha, SMILE): then one large score can carry it, and
    // held-out evaluation reports how much the largest term does.
    virtual bool exponential_partition() const { return false; }
    // Negative sampling used when the spec names none.
    virtual std::string default_negatives() const { return "roll"; }
    // The most the bound can read with k negatives per positive (InfoNCE:
    // log(k + 1)), drawn as a line beside its estimates; infinity when none.
    virtual double ceiling(std::int64_t k) const;
    // State carried between steps (DV's moving average), for checkpoints.
    virtual std::vector<double> state() const { return {}; }
    virtual void set_state(const std::vector<double>&) {}
    // Parameters the bound learns itself (a learned baseline), nullptr when it
    // has none: trained with its objective's critic by the same optimizer and
    // saved in checkpoints as objectives.<name>.estimator.<param>.
    virtual nn::Module* module() { return nullptr; }
};

// An MI estimator that reads paired samples rather than a critic's scores:
// no training, one number (KSG, CCA, a histogram). Row i of x goes with row i
// of y; both are plain f32 (n, dx) and (n, dy).
class SampleEstimator : public Part {
public:
    // The name of what estimate() gives: "mi_ksg", "mi_cca", "mi_binned".
    virtual std::string quantity() const = 0;
    virtual std::string unit() const { return "nats"; }
    virtual double estimate(const Tensor& x, const Tensor& y) = 0;
};

class Prior : public Part {
public:
    // Samples of shape (N, D) from the prior.
    virtual Tensor sample(const Shape& shape, Rng& rng) = 0;
    // Maps y into the prior's support before matching (uniform: sigmoid).
    virtual Var transform(const Var& y) { return y; }
};

// Where samples come from. Splits are "train", "validation" and "test"; a
// dataset without one reports size 0. Samples are kept compactly (bytes) and
// converted per batch.
class Dataset : public Part {
public:
    virtual std::string describe() const = 0;
    virtual Shape sample_shape() const = 0;  // (C, H, W) or (D)
    virtual int classes() const { return 0; }  // 0: no labels
    virtual std::int64_t size(const std::string& split) const = 0;
    // Samples `index` of `split` as f32, shape (n, sample_shape...).
    virtual Tensor batch(const std::string& split, const std::vector<std::int64_t>& index) const = 0;
    virtual std::vector<std::int64_t> labels(const std::string& split, const std::vector<std::int64_t>& index) const;
    // Paired data (x, z) for MI estimation: z for the same samples as batch().
    virtual bool paired() const { return false; }
    virtual Tensor pair(const std::string& split, const std::vector<std::int64_t>& index) const;
    // The true I(x; z) in nats of the pair at `index`, when the data knows it
    // (synthetic pairs); NaN otherwise.
    virtual double true_mi(const std::string& split, std::int64_t index) const;
    // Streamed data draws each sample fresh from its index: the trainer takes
    // the training split in order (step s uses samples [s*B, (s+1)*B)), never
    // shuffles and never repeats it. Schedules (the MI staircase) rely on it.
    virtual bool streamed() const { return false; }
    // A mixture of Gaussian modes (the 25-Gaussians GAN target): the centers
    // (K, D) and the common standard deviation, so generated samples can be
    // scored by modes covered. An undefined tensor when the data is not one.
    virtual Tensor mode_centers() const { return Tensor(); }
    virtual double mode_std() const { return 0.0; }
};

// Negative sampling: how mismatched pairs are made from a batch.
//   roll               pair a_{i-1} with b_i (the seeds' choice)
//   permutation        pair a_{p(i)} with b_i, p a random derangement
//   shuffle_locations  each location of a from an independently chosen other sample (DIM paper)
//   all                every other sample's a, every location (InfoNCE)
// `count` negatives per sample for roll (shifts 1..count) and permutation
// (count independent derangements); all and shuffle_locations take one.
// Returns the positive and negative scores for an estimator.
Scores make_scores(Discriminator& d, const Var& a, const Var& b, const std::string& negatives, Rng& rng,
                   std::int64_t count = 1);
// Rows [first, last) of those scores, the same values (data-parallel training
// scores each rank's rows of the gathered batch); rng is drawn as for all rows.
Scores make_scores(Discriminator& d, const Var& a, const Var& b, const std::string& negatives, Rng& rng,
                   std::int64_t count, std::int64_t first, std::int64_t last);
const std::vector<std::string>& negative_sampling_names();

}  // namespace infomax
