#ifndef HAT_MPI_H
#define HAT_MPI_H

/// MPI, loaded at run time (mpi_runtime.c): `hat` builds and runs without an MPI library, and one
/// binary works with whichever MPI the cluster has (Open MPI; MPICH and its derivatives).
/// Every call is collective over MPI_COMM_WORLD unless it says otherwise, and returns 0 on success.

/// Whether an MPI launcher (mpirun/mpiexec of Open MPI or MPICH, Slurm's srun) started this
/// process with more than one rank; reads the launchers' environment variables only.
int hat_mpi_launched_size(void);

/// This process's rank from the same variables (0 when none is set).
int hat_mpi_launched_rank(void);

/// Loads the MPI library and initializes MPI (MPI_THREAD_FUNNELED: only the calling thread makes
/// MPI calls). On failure writes why into `message` (at most `capacity` bytes) and returns -1.
int hat_mpi_init(char *message, long capacity);

/// This process's rank and the number of ranks (0 and 1 before hat_mpi_init).
int hat_mpi_rank(void);
int hat_mpi_size(void);

/// The library that was loaded and its flavour, e.g. "libmpi.so.40 (Open MPI)".
const char *hat_mpi_library(void);

/// In-place sum of `count` floats / doubles over all ranks.
int hat_mpi_allreduce_sum_f32(float *buffer, long count);
int hat_mpi_allreduce_sum_f64(double *buffer, long count);
/// In-place maximum of `count` doubles over all ranks.
int hat_mpi_allreduce_max_f64(double *buffer, long count);

/// Rank `root`'s `bytes` bytes into every rank's buffer.
int hat_mpi_broadcast(void *buffer, long bytes, int root);

int hat_mpi_barrier(void);

/// Ends MPI (after the last collective call).
void hat_mpi_finalize(void);

/// Ends every rank of the job with `code` (MPI_Abort): what a rank that cannot go on calls,
/// so the others do not wait for it forever.
void hat_mpi_abort(int code);

#endif
