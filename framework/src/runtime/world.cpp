#include "infomax/runtime/world.hpp"

#include <mpi.h>

#include <cstdio>
#include <cstdlib>
#include <chrono>
#include <cstring>

#include "infomax/runtime/profile.hpp"

#include "runtime/collectives.hpp"

namespace infomax {

namespace {
WorldInfo g_world;
bool g_joined = false, g_left = false;

bool env_set(const char* name) {
    const char* v = std::getenv(name);
    return v && *v;
}
}  // namespace

bool launched_by_mpi() {
    if (env_set("INFOMAX_NO_MPI") && std::strcmp(std::getenv("INFOMAX_NO_MPI"), "0") != 0) return false;
    return env_set("OMPI_COMM_WORLD_SIZE") || env_set("PMIX_RANK") || env_set("PMI_SIZE");
}

void init_world() {
    if (g_joined || !launched_by_mpi()) return;
    int provided = 0;
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    g_joined = true;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_world.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_world.size);
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, g_world.rank, MPI_INFO_NULL, &node);
    MPI_Comm_rank(node, &g_world.local_rank);
    MPI_Comm_size(node, &g_world.local_size);
    MPI_Comm_free(&node);
}

void finalize_world() {
    if (!g_joined || g_left) return;
    g_left = true;
    MPI_Finalize();
}

const WorldInfo& world() { return g_world; }

void abort_world(int code) {
    std::fflush(stdout);
    std::fflush(stderr);
    if (g_joined && !g_left && g_world.size > 1) MPI_Abort(MPI_COMM_WORLD, code);
    std::exit(code);
}

}  // namespace infomax

namespace infomax::detail {

namespace {
bool alone() { return !g_joined || g_left || g_world.size == 1; }

// Blocking collectives show in the bench's profile as "communication" (their
// time includes waiting for the slowest rank).
class Timed {
public:
    Timed() : on_(profile::enabled()), t0_(std::chrono::steady_clock::now()) {}
    ~Timed() {
        if (on_) profile::record("communication", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count(), 0);
    }

private:
    bool on_;
    std::chrono::steady_clock::time_point t0_;
};
}  // namespace

void allreduce_sum(float* data, std::size_t n) {
    if (alone()) return;
    Timed t;
    MPI_Allreduce(MPI_IN_PLACE, data, static_cast<int>(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}
void allreduce_sum(double* data, std::size_t n) {
    if (alone()) return;
    Timed t;
    MPI_Allreduce(MPI_IN_PLACE, data, static_cast<int>(n), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}
void allreduce_max(std::int64_t* data, std::size_t n) {
    if (!alone()) MPI_Allreduce(MPI_IN_PLACE, data, static_cast<int>(n), MPI_INT64_T, MPI_MAX, MPI_COMM_WORLD);
}
void allreduce_min(std::int64_t* data, std::size_t n) {
    if (!alone()) MPI_Allreduce(MPI_IN_PLACE, data, static_cast<int>(n), MPI_INT64_T, MPI_MIN, MPI_COMM_WORLD);
}
void reduce_scatter_sum(const float* in, float* out, std::size_t n) {
    if (alone()) {
        std::memcpy(out, in, n * sizeof(float));
        return;
    }
    Timed t;
    MPI_Reduce_scatter_block(in, out, static_cast<int>(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}
void allgather(const float* data, std::size_t n, float* out) {
    if (alone()) {
        std::memcpy(out, data, n * sizeof(float));
        return;
    }
    Timed t;
    MPI_Allgather(data, static_cast<int>(n), MPI_FLOAT, out, static_cast<int>(n), MPI_FLOAT, MPI_COMM_WORLD);
}
void barrier() {
    if (!alone()) MPI_Barrier(MPI_COMM_WORLD);
}
bool any_rank(bool flag) {
    std::int64_t v = flag ? 1 : 0;
    allreduce_max(&v, 1);
    return v != 0;
}

struct AsyncSums::Pending {
    std::vector<MPI_Request> requests;
};
AsyncSums::AsyncSums() : p_(std::make_unique<Pending>()) {}
AsyncSums::~AsyncSums() { wait(); }
void AsyncSums::start(float* data, std::size_t n) {
    bytes_ += n * sizeof(float);
    if (alone()) return;
    MPI_Request r;
    MPI_Iallreduce(MPI_IN_PLACE, data, static_cast<int>(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &r);
    p_->requests.push_back(r);
}
void AsyncSums::progress() {
    if (p_->requests.empty()) return;
    int done = 0;
    MPI_Testall(static_cast<int>(p_->requests.size()), p_->requests.data(), &done, MPI_STATUSES_IGNORE);
}
void AsyncSums::wait() {
    if (p_->requests.empty()) return;
    Timed t;
    MPI_Waitall(static_cast<int>(p_->requests.size()), p_->requests.data(), MPI_STATUSES_IGNORE);
    p_->requests.clear();
}

void send_text(int to, int tag, const std::string& text) {
    MPI_Send(text.data(), static_cast<int>(text.size()), MPI_CHAR, to, tag, MPI_COMM_WORLD);
}
std::optional<std::pair<int, std::string>> poll_text(int tag) {
    int flag = 0;
    MPI_Status st;
    MPI_Iprobe(MPI_ANY_SOURCE, tag, MPI_COMM_WORLD, &flag, &st);
    if (!flag) return std::nullopt;
    return std::pair{st.MPI_SOURCE, receive_text(st.MPI_SOURCE, tag)};
}
std::string receive_text(int from, int tag) {
    MPI_Status st;
    MPI_Probe(from, tag, MPI_COMM_WORLD, &st);
    int n = 0;
    MPI_Get_count(&st, MPI_CHAR, &n);
    std::string s(static_cast<std::size_t>(n), '\0');
    MPI_Recv(s.data(), n, MPI_CHAR, from, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    return s;
}

}  // namespace infomax::detail
