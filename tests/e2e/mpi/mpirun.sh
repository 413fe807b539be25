# Sourced by the MPI tests: "${mpirun_2[@]}" CMD... runs CMD as 2 ranks of one
# job on this machine (so `$!` of a backgrounded one is mpirun itself). Open
# MPI refuses root unless told; CI runs as root, so the test says so, not the
# user's setup.
if [ "$(id -u)" = 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
mpirun_2=(mpirun --oversubscribe -np 2)
