// One thread setting for the whole process.
//
// Debian's oneDNN runs on OpenMP (libgomp); our own kernels run on TBB. Both
// are limited to the same count, and oneDNN is only ever called from the
// thread that set it (OpenMP's setting is per calling thread), so the two
// runtimes take turns on the same cores and never nest.
#pragma once

namespace infomax {

// The most threads any setting may ask for: --threads, $INFOMAX_THREADS and
// the schemas' train.threads and threads_per_run (a test keeps them equal).
inline constexpr int kMaxThreads = 1024;

// $INFOMAX_THREADS (a whole number from 1 to kMaxThreads, else an Error), or 0 when unset.
int env_threads();
// The cores this process may run on (its affinity mask: taskset, cgroups).
int available_cores();
// The default: $INFOMAX_THREADS if set, else available_cores() (shared among
// the ranks of an MPI job on this node when the launcher did not bind them).
int default_threads();
// Set the thread count for oneDNN (OpenMP) and TBB. n <= 0 means default_threads().
// Call from the thread that runs the model.
void set_threads(int n);
// The current setting (calls set_threads(0) on first use).
int threads();

}  // namespace infomax
