// The Beyond-Normal MI benchmark's 40 tasks (bmi_tasks.hpp) and the `bmi_task` dataset.
#include "bmi_tasks.hpp"

#include <infomax/eval/sample_mi.hpp>

#include <fmt/format.h>

#include <cmath>
#include <numbers>
#include <stdexcept>

#include "infomax/plugin/plugin.hpp"
#include "infomax/runtime/error.hpp"
#include "vector_pairs.hpp"

namespace infomax::bmi {

// --- Closed forms ---------------------------------------------------------------

double mi_bivariate_normal(double rho) { return -0.5 * std::log1p(-rho * rho); }

double mi_additive_uniform(double eps) { return eps > 0.5 ? 0.25 / eps : eps - std::log(2.0 * eps); }

bool cholesky(std::vector<double>& a, int n) {
    for (int j = 0; j < n; ++j) {
        double d = a[j * n + j];
        for (int k = 0; k < j; ++k) d -= a[j * n + k] * a[j * n + k];
        if (!(d > 0)) return false;
        const double l = std::sqrt(d);
        a[j * n + j] = l;
        for (int i = j + 1; i < n; ++i) {
            double s = a[i * n + j];
            for (int k = 0; k < j; ++k) s -= a[i * n + k] * a[j * n + k];
            a[i * n + j] = s / l;
        }
        for (int k = j + 1; k < n; ++k) a[j * n + k] = 0;
    }
    return true;
}

namespace {

// log det of the leading (or trailing) principal block [from, from + m) of the n x n matrix.
double log_det_block(const std::vector<double>& cov, int n, int from, int m) {
    std::vector<double> b(static_cast<std::size_t>(m) * m);
    for (int i = 0; i < m; ++i)
        for (int j = 0; j < m; ++j) b[i * m + j] = cov[(from + i) * n + from + j];
    if (!cholesky(b, m)) throw std::invalid_argument("bmi: covariance is not positive definite");
    double s = 0;
    for (int i = 0; i < m; ++i) s += 2.0 * std::log(b[i * m + i]);
    return s;
}

}  // namespace

double mi_split_normal(const std::vector<double>& cov, int dim_x, int dim_y) {
    const int n = dim_x + dim_y;
    const double mi = 0.5 * (log_det_block(cov, n, 0, dim_x) + log_det_block(cov, n, dim_x, dim_y) -
                             log_det_block(cov, n, 0, n));
    return std::max(0.0, mi);
}

double digamma(double x) { return eval::digamma(x); }

double student_t_entropy(int k, double dof) {
    const double s = 0.5 * (dof + k);
    return -std::lgamma(s) + std::lgamma(0.5 * dof) + 0.5 * k * std::log(dof * std::numbers::pi) +
           s * (digamma(s) - digamma(0.5 * dof));
}

double mi_split_student(const std::vector<double>& dispersion, int dim_x, int dim_y, double dof) {
    return mi_split_normal(dispersion, dim_x, dim_y) + student_t_entropy(dim_x, dof) + student_t_entropy(dim_y, dof) -
           student_t_entropy(dim_x + dim_y, dof);
}

// --- Covariances ----------------------------------------------------------------

std::vector<double> dense_covariance(int dim_x, int dim_y, double off_diag) {
    const int n = dim_x + dim_y;
    std::vector<double> c(static_cast<std::size_t>(n) * n, off_diag);
    for (int i = 0; i < n; ++i) c[i * n + i] = 1.0;
    return c;
}

std::vector<double> sparse_covariance(int dim_x, int dim_y, int n_interacting, double strength) {
    // The latent-variable model: x_i = s Z_i + E_i (i < K), s V_i + E_i (i >= K); y alike with
    // the same Z_i and its own noise and private latents; every latent standard normal.
    const int n = dim_x + dim_y;
    const double s2 = strength * strength;
    std::vector<double> c(static_cast<std::size_t>(n) * n, 0.0);
    for (int i = 0; i < n; ++i) c[i * n + i] = 1.0 + s2;  // noise + (shared or private) latent
    for (int i = 0; i < n_interacting; ++i) c[i * n + dim_x + i] = c[(dim_x + i) * n + i] = s2;
    // As a correlation matrix.
    std::vector<double> sd(n);
    for (int i = 0; i < n; ++i) sd[i] = std::sqrt(c[i * n + i]);
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j) c[i * n + j] = i == j ? 1.0 : c[i * n + j] / (sd[i] * sd[j]);
    return c;
}

// --- Transforms -----------------------------------------------------------------

double normal_cdf(double t) { return 0.5 * std::erfc(-t / std::numbers::sqrt2); }
double half_cube(double t) { return t * std::sqrt(std::abs(t)); }
double wiggly_x(double t) {
    return t + 0.4 * std::sin(1.0 * t) + 0.2 * std::sin(1.7 * t + 1) + 0.03 * std::sin(3.3 * t - 2.5);
}
double wiggly_y(double t) {
    return t - 0.4 * std::sin(0.4 * t) + 0.17 * std::sin(1.3 * t + 3.5) + 0.02 * std::sin(4.3 * t - 2.5);
}
double bimodal_cdf_x(double t) { return 0.3 * normal_cdf(t) + 0.7 * normal_cdf(t - 5); }
double bimodal_cdf_y(double t) { return 0.5 * normal_cdf(t + 1) + 0.5 * normal_cdf(t - 3); }

double invert_cdf(double (*cdf)(double), double u) {
    double a = -10, b = 10;
    for (;;) {
        const double m = 0.5 * (a + b);
        if (!(b - a > 1e-12 && a < m && m < b)) break;
        (cdf(m) < u ? a : b) = m;
    }
    return 0.5 * (a + b);
}

void swissroll(double u, double out[2]) {
    const double t = 1.5 * std::numbers::pi * (1 + 2 * u);
    out[0] = t * std::cos(t) / 21.0;
    out[1] = t * std::sin(t) / 21.0;
}

void spiral(double* v, int n, int i, int j, double speed) {
    double r2 = 0;
    for (int k = 0; k < n; ++k) r2 += v[k] * v[k];
    const double a = speed * r2, c = std::cos(a), s = std::sin(a);
    const double vi = v[i], vj = v[j];
    v[i] = c * vi - s * vj;
    v[j] = s * vi + c * vj;
}

// --- The task table -------------------------------------------------------------

namespace {

// Python's str() of a float: the shortest round-trip digits, with ".0" on whole numbers.
std::string py_float(double v) {
    std::string s = fmt::format("{}", v);
    if (s.find_first_of(".en") == std::string::npos) s += ".0";
    return s;
}

const char* const kTimes = " \u00d7 ";  // bmi's names use U+00D7

std::string dims(int dx, int dy) { return fmt::format("{}{}{}", dx, kTimes, dy); }

void set_covariance(BmiTask& t, std::vector<double> cov) {
    t.covariance = std::move(cov);
    t.cholesky = t.covariance;
    if (!cholesky(t.cholesky, t.base_dim_x + t.base_dim_y))
        throw std::logic_error("bmi: covariance of " + t.id + " is not positive definite");
}

BmiTask base(std::string id, std::string name, Sampler sampler, int dx, int dy) {
    BmiTask t;
    t.id = std::move(id);
    t.name = std::move(name);
    t.sampler = sampler;
    t.dim_x = t.base_dim_x = dx;
    t.dim_y = t.base_dim_y = dy;
    return t;
}

BmiTask bivariate_normal(double rho) {
    BmiTask t = base("1v1-normal-" + py_float(rho), "Bivariate normal 1" + std::string(kTimes) + "1", Sampler::multinormal, 1, 1);
    set_covariance(t, {1.0, rho, rho, 1.0});
    t.true_mi = mi_bivariate_normal(rho);
    return t;
}

BmiTask additive_noise(double eps) {
    BmiTask t = base("1v1-additive-" + py_float(eps),
                     "Uniform 1" + std::string(kTimes) + "1 (additive noise=" + py_float(eps) + ")", Sampler::additive, 1, 1);
    t.param = eps;
    t.true_mi = mi_additive_uniform(eps);
    return t;
}

BmiTask bimodal(double rho) {
    BmiTask t = bivariate_normal(rho);
    t.id = "1v1-bimodal-" + py_float(rho);
    t.name = "Bimodal 1" + std::string(kTimes) + "1";
    t.transforms = {Transform::normal_cdf, Transform::bimodal};
    return t;
}

BmiTask student_identity(int dx, int dy, int dof) {
    BmiTask t = base(fmt::format("student-identity-{}-{}-{}", dx, dy, dof),
                     fmt::format("Student-t {} (dof={})", dims(dx, dy), dof), Sampler::student, dx, dy);
    t.param = dof;
    set_covariance(t, dense_covariance(dx, dy, 0.0));  // the identity
    t.true_mi = mi_split_student(t.covariance, dx, dy, dof);
    return t;
}

BmiTask multinormal_dense(int dx, int dy, double off_diag = 0.5) {
    BmiTask t = base(fmt::format("multinormal-dense-{}-{}-{}", dx, dy, py_float(off_diag)),
                     fmt::format("Multinormal {} (dense)", dims(dx, dy)), Sampler::multinormal, dx, dy);
    set_covariance(t, dense_covariance(dx, dy, off_diag));
    t.true_mi = mi_split_normal(t.covariance, dx, dy);
    return t;
}

BmiTask multinormal_2pair(int dx, int dy, double strength = 2.0) {
    BmiTask t = base(fmt::format("multinormal-sparse-{}-{}-{}-{}", dx, dy, 2, py_float(strength)),
                     fmt::format("Multinormal {} (2-pair)", dims(dx, dy)), Sampler::multinormal, dx, dy);
    set_covariance(t, sparse_covariance(dx, dy, 2, strength));
    t.true_mi = mi_split_normal(t.covariance, dx, dy);
    return t;
}

// A transformed task: bmi's id prefix and "Name @ base name"; the MI is the base's.
BmiTask transformed(BmiTask t, Transform f, const char* id_prefix, const char* name_prefix) {
    t.id = std::string(id_prefix) + "-" + t.id;
    t.name = std::string(name_prefix) + " @ " + t.name;
    t.transforms.push_back(f);
    return t;
}
BmiTask normal_cdfise(BmiTask t) { return transformed(std::move(t), Transform::normal_cdf, "normal_cdf", "Normal CDF"); }
BmiTask half_cubed(BmiTask t) { return transformed(std::move(t), Transform::half_cube, "half_cube", "Half-cube"); }
BmiTask asinhed(BmiTask t) { return transformed(std::move(t), Transform::asinh, "asinh", "Asinh"); }
BmiTask wigglified(BmiTask t) {
    if (t.dim_x != 1 || t.dim_y != 1) throw std::logic_error("bmi: wiggly needs a 1 x 1 task");
    return transformed(std::move(t), Transform::wiggly, "wiggly", "Wiggly");
}
BmiTask spiralised(BmiTask t) {
    if (t.dim_x < 2 || t.dim_y < 3) throw std::logic_error("bmi: spiral needs dim_x >= 2 and dim_y >= 3");
    return transformed(std::move(t), Transform::spiral, "spiral", "Spiral");
}
BmiTask swissrolled(BmiTask t, std::string name) {
    if (t.dim_x != 1) throw std::logic_error("bmi: the swiss roll needs dim_x 1");
    t.id = "swissroll_x-" + t.id;
    t.name = std::move(name);
    t.dim_x = 2;
    t.transforms.push_back(Transform::swissroll_x);
    return t;
}

std::vector<BmiTask> make_tasks() {
    const double rho = 0.75;  // bmi's GAUSSIAN_CORRELATION
    const BmiTask binormal = bivariate_normal(rho), uniform = normal_cdfise(binormal),
                  bistudent = student_identity(1, 1, 1);
    std::vector<BmiTask> t = {
        binormal, uniform, additive_noise(0.1), additive_noise(0.75), bimodal(rho), wigglified(binormal),
        half_cubed(binormal), bistudent, asinhed(bistudent),
        swissrolled(uniform, "Swiss roll 2" + std::string(kTimes) + "1"),
    };
    for (int d : {2, 3, 5, 25, 50}) t.push_back(multinormal_dense(d, d));
    for (int d : {2, 3, 5, 25}) t.push_back(multinormal_2pair(d, d));
    for (auto [d, dof] : {std::pair{2, 1}, {2, 2}, {3, 2}, {3, 3}, {5, 2}, {5, 3}}) t.push_back(student_identity(d, d, dof));
    for (int d : {3, 5, 25}) t.push_back(normal_cdfise(multinormal_2pair(d, d)));
    for (int d : {3, 5, 25}) t.push_back(half_cubed(multinormal_2pair(d, d)));
    for (int d : {3, 5, 25}) t.push_back(spiralised(multinormal_2pair(d, d)));
    for (int d : {3, 5, 25}) t.push_back(spiralised(normal_cdfise(multinormal_2pair(d, d))));
    for (auto [d, dof] : {std::pair{2, 1}, {3, 2}, {5, 2}}) t.push_back(asinhed(student_identity(d, d, dof)));
    return t;
}

// Standard normals in double: Box-Muller on 53-bit uniforms, both outputs used.
void normals(Rng& rng, double* out, int n) {
    constexpr double k53 = 1.0 / 9007199254740992.0;
    for (int k = 0; k < n; k += 2) {
        const double u1 = (static_cast<double>(rng.next_u64() >> 11) + 1.0) * k53;  // (0, 1]: finite log
        const double u2 = static_cast<double>(rng.next_u64() >> 11) * k53;
        const double r = std::sqrt(-2.0 * std::log(u1)), a = 2.0 * std::numbers::pi * u2;
        out[k] = r * std::cos(a);
        if (k + 1 < n) out[k + 1] = r * std::sin(a);
    }
}

double uniform53(Rng& rng) { return static_cast<double>(rng.next_u64() >> 11) * (1.0 / 9007199254740992.0); }

}  // namespace

const std::vector<BmiTask>& bmi_tasks() {
    static const std::vector<BmiTask> tasks = make_tasks();
    return tasks;
}

const BmiTask* find_bmi_task(const std::string& id) {
    for (const auto& t : bmi_tasks())
        if (t.id == id) return &t;
    return nullptr;
}

std::vector<std::string> bmi_task_ids() {
    std::vector<std::string> ids;
    for (const auto& t : bmi_tasks()) ids.push_back(t.id);
    return ids;
}

// --- Sampling -------------------------------------------------------------------

void draw_bmi_base(const BmiTask& task, Rng& rng, std::vector<double>& x, std::vector<double>& y) {
    const int dx = task.base_dim_x, dy = task.base_dim_y, n = dx + dy;
    x.resize(dx);
    y.resize(dy);
    if (task.sampler == Sampler::additive) {
        x[0] = uniform53(rng);
        y[0] = x[0] + task.param * (2.0 * uniform53(rng) - 1.0);
        return;
    }
    // Multinormal: z = L g. Student-t: the same, divided by sqrt(chi2_dof / dof), one chi2 for
    // the whole vector, drawn as a sum of dof squared normals (every benchmark dof is a whole number).
    const int dof = task.sampler == Sampler::student ? static_cast<int>(task.param) : 0;
    std::vector<double> g(n + dof);
    normals(rng, g.data(), n + dof);
    double scale = 1.0;
    if (dof > 0) {
        double chi2 = 0;
        for (int k = n; k < n + dof; ++k) chi2 += g[k] * g[k];
        scale = 1.0 / std::sqrt(chi2 / dof);
    }
    for (int i = 0; i < n; ++i) {
        double z = 0;
        for (int k = 0; k <= i; ++k) z += task.cholesky[i * n + k] * g[k];
        (i < dx ? x[i] : y[i - dx]) = z * scale;
    }
}

void apply_bmi_transforms(const BmiTask& task, std::vector<double>& x, std::vector<double>& y) {
    auto each = [&](double (*f)(double)) {
        for (auto& v : x) v = f(v);
        for (auto& v : y) v = f(v);
    };
    for (Transform f : task.transforms) switch (f) {
            case Transform::normal_cdf: each(normal_cdf); break;
            case Transform::half_cube: each(half_cube); break;
            case Transform::asinh: each([](double v) { return std::asinh(v); }); break;
            case Transform::wiggly:
                x[0] = wiggly_x(x[0]);
                y[0] = wiggly_y(y[0]);
                break;
            case Transform::bimodal:
                x[0] = invert_cdf(bimodal_cdf_x, x[0]);
                y[0] = invert_cdf(bimodal_cdf_y, y[0]);
                break;
            case Transform::swissroll_x: {
                double out[2];
                swissroll(x[0], out);
                x.assign(out, out + 2);
                break;
            }
            case Transform::spiral: {
                const int dx = static_cast<int>(x.size()), dy = static_cast<int>(y.size());
                spiral(x.data(), dx, 0, 1, 1.0 / dx);
                spiral(y.data(), dy, 1, 2, 1.0 / dy);
                break;
            }
        }
}

void draw_bmi_sample(const BmiTask& task, Rng& rng, float* x, float* y) {
    std::vector<double> bx, by;
    draw_bmi_base(task, rng, bx, by);
    apply_bmi_transforms(task, bx, by);
    for (int k = 0; k < task.dim_x; ++k) x[k] = static_cast<float>(bx[k]);
    for (int k = 0; k < task.dim_y; ++k) y[k] = static_cast<float>(by[k]);
}

// --- The dataset ----------------------------------------------------------------

namespace {

// One of bmi's tasks as a fixed set of pairs: x is batch(), y is pair(). The random
// stream is named "bmi task" whatever the task, so a transformed task and its base
// share their base samples for the same seed (as in bmi, whose transformed samplers
// pass their key on to the base sampler).
class BmiTaskDataset final : public datasets_detail::VectorPairs {
public:
    BmiTaskDataset(const config::Params& p, BuildContext&) {
        const std::string id = p.string("task");
        task_ = find_bmi_task(id);
        if (!task_) p.fail("task", config::unknown_name("bmi task", id, bmi_task_ids()));
        size_ = p.integer("size");
        test_size_ = p.has("test_size") ? p.integer("test_size") : size_;
        seed_ = p.integer("seed");
        init(task_->dim_x, task_->dim_y, size_, 0, 0, static_cast<std::uint64_t>(seed_), "bmi task", test_size_);
        standardized_ = p.boolean("standardize");
        if (standardized_) standardize();
    }
    std::string describe() const override {
        return fmt::format("bmi_task({}: {}; x {}, y {}, true MI {:.6f} nats; {} train + {} test pairs, seed {})", task_->id,
                           task_->name, task_->dim_x, task_->dim_y, task_->true_mi, size_, test_size_, seed_) +
               (standardized_ ? ", standardised" : "");
    }
    double true_mi(const std::string&, std::int64_t) const override { return task_->true_mi; }

protected:
    void draw(const std::string&, std::int64_t, Rng& rng, float* x, float* z) const override {
        draw_bmi_sample(*task_, rng, x, z);
    }

private:
    const BmiTask* task_ = nullptr;
    std::int64_t size_ = 0, test_size_ = 0, seed_ = 0;
    bool standardized_ = false;
};

// The params schema, its `task` enum listing the 40 ids (the validator's did-you-mean).
std::string schema() {
    std::string ids;
    for (const auto& id : bmi_task_ids()) ids += (ids.empty() ? "'" : ", '") + id + "'";
    return R"yaml(type: object
additionalProperties: false
required: [task]
properties:
  task:
    type: string
    enum: [)yaml" + ids + R"yaml(]
    description: "the bmi task id (BENCHMARK_TASKS_LIST of the Beyond-Normal MI benchmark), e.g. multinormal-sparse-5-5-2-2.0"
  size: {type: integer, minimum: 2, default: 5000, description: "training pairs, held in memory"}
  test_size: {type: integer, minimum: 2, description: "test pairs (default: size). bmi's protocol splits one sample of N in halves: size = test_size = N/2"}
  seed: {type: integer, minimum: 0, default: 0, description: "the sample's seed: one seed gives one (train, test) sample"}
  standardize: {type: boolean, default: true, description: "each column of x and y to mean 0 and standard deviation 1 by the training split's statistics (bmi's protocol; the MI does not change)"}
)yaml";
}

// Built before the registration below (same translation unit, in order), which keeps its pointer.
const std::string kSchema = schema();

}  // namespace

}  // namespace infomax::bmi

INFOMAX_PLUGIN(Dataset, infomax::bmi::BmiTaskDataset, "bmi_task", "1.0.0",
               "one of the 40 tasks of the Beyond-Normal MI benchmark (bmi), by its task id, with its closed-form true MI",
               infomax::bmi::kSchema.c_str())
