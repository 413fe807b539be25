// The MPI world this process belongs to.
//
// Started by mpirun or Slurm's srun, infomax joins the world at start
// (init_world, from main) and every rank runs the same command: a suite shares
// its runs among the ranks, a run trains data-parallel. Started any other way
// it is a world of one and MPI is never initialised (no start-up cost, the same
// bits as without MPI). Set INFOMAX_NO_MPI=1 to stay alone even under mpirun.
#pragma once

namespace infomax {

struct WorldInfo {
    int rank = 0, size = 1;
    int local_rank = 0, local_size = 1;  // among the ranks on this node
};

// Whether a launcher started this process as one rank of a job (its
// environment says so: Open MPI's, PMIx's or PMI's variables).
bool launched_by_mpi();
// Joins the world if launched_by_mpi(); idempotent. Call first thing in main.
void init_world();
// Leaves it (MPI_Finalize) if joined; idempotent.
void finalize_world();
const WorldInfo& world();
// Ends every rank of the job with `code` (MPI_Abort): a rank that fails alone
// must not leave the others waiting in a collective. Alone, it is std::exit.
[[noreturn]] void abort_world(int code);

}  // namespace infomax
