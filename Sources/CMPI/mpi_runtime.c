// MPI loaded with dlopen instead of linked, so that MPI stays an optional dependency: a `hat`
// built without an MPI library runs everywhere, and under mpirun/srun it finds the cluster's.
//
// The MPI standard fixes function signatures but not the ABI of its handles: Open MPI's
// MPI_Comm, MPI_Datatype and MPI_Op are pointers to global objects (`&ompi_mpi_comm_world`, …),
// MPICH's (and its derivatives': Intel MPI, Cray MPICH, MVAPICH) are ints with values fixed in
// its mpi.h (MPI_COMM_WORLD 0x44000000, …). On the x86-64 and AArch64 calling conventions an int
// and a pointer argument travel in the same integer register, so one set of function pointers
// taking `void *` handles calls either, given the right handle values (read from the library for
// Open MPI, the constants of MPICH's mpi.h otherwise). Open MPI is tested (Debian's 4.1); the
// MPICH values are those of MPICH 4.0's mpi.h.

#define _GNU_SOURCE
#include "hat_mpi.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void *handle;

static struct {
    void *library;
    const char *name;
    const char *flavour;
    handle world, bytes, f32, f64, sum, max;
    void *inPlace;
    int rank, size;
    int (*init_thread)(int *, char ***, int, int *);
    int (*comm_rank)(handle, int *);
    int (*comm_size)(handle, int *);
    int (*allreduce)(const void *, void *, int, handle, handle, handle);
    int (*bcast)(void *, int, handle, int, handle);
    int (*barrier)(handle);
    int (*finalize)(void);
    int (*abort_)(handle, int);
} mpi = {.rank = 0, .size = 1};

int hat_mpi_launched_size(void) {
    // Open MPI's mpirun, MPICH's Hydra (PMI), PMIx launchers, and Slurm's srun.
    const char *names[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS"};
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *value = getenv(names[i]);
        if (value && atoi(value) > 1) {
            // srun without --mpi sets SLURM_NTASKS for plain parallel tasks too: only a PMI or
            // PMIx environment means an MPI job.
            if (i == 4 && !getenv("PMI_RANK") && !getenv("PMIX_RANK") && !getenv("PMI_FD")) continue;
            return atoi(value);
        }
    }
    return 0;
}

int hat_mpi_launched_rank(void) {
    const char *names[] = {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID"};
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *value = getenv(names[i]);
        if (value) return atoi(value);
    }
    return 0;
}

static int fail(char *message, long capacity, const char *text) {
    if (message && capacity > 0) snprintf(message, (size_t)capacity, "%s", text);
    return -1;
}

int hat_mpi_init(char *message, long capacity) {
    if (mpi.library) return 0;
    // HAT_MPI_LIBRARY names a library explicitly; otherwise the usual sonames, Open MPI first.
    // The launcher's own library first: with Open MPI and MPICH both installed, an MPICH launcher
    // (Hydra, PMI) must not get Open MPI's library, which would start as a job of one.
    const char *explicit = getenv("HAT_MPI_LIBRARY");
    const int openMPI = getenv("OMPI_COMM_WORLD_SIZE") != NULL;
    const char *candidates[] = {explicit,
                                openMPI ? "libmpi.so.40" : "libmpich.so.12",
                                openMPI ? "libmpich.so.12" : "libmpi.so.12",
                                openMPI ? "libmpi.so.12" : "libmpi.so.40",
                                "libmpi.so",
                                "libmpich.so"};
    for (unsigned i = 0; i < sizeof candidates / sizeof candidates[0] && !mpi.library; i++) {
        if (!candidates[i]) continue;
        // RTLD_GLOBAL: Open MPI loads its components as plugins that resolve symbols of libmpi.
        mpi.library = dlopen(candidates[i], RTLD_NOW | RTLD_GLOBAL);
        if (mpi.library) mpi.name = candidates[i];
        else if (explicit && i == 0) {
            char text[600];
            snprintf(text, sizeof text, "HAT_MPI_LIBRARY=%s cannot be loaded: %s", explicit, dlerror());
            return fail(message, capacity, text);
        }
    }
    if (!mpi.library) {
        return fail(message, capacity,
                    "started by an MPI launcher, but no MPI library was found (libmpi.so.40, libmpi.so.12, libmpich.so.12): install "
                    "Open MPI (apt-get install openmpi-bin) or MPICH, or set HAT_MPI_LIBRARY to the library's path");
    }
#define LOAD(field, symbol)                                                                                                 \
    do {                                                                                                                    \
        *(void **)&mpi.field = dlsym(mpi.library, symbol);                                                                  \
        if (!mpi.field) {                                                                                                   \
            char text[300];                                                                                                 \
            snprintf(text, sizeof text, "%s has no %s: not an MPI library (set HAT_MPI_LIBRARY)", mpi.name, symbol);        \
            return fail(message, capacity, text);                                                                           \
        }                                                                                                                   \
    } while (0)
    LOAD(init_thread, "MPI_Init_thread");
    LOAD(comm_rank, "MPI_Comm_rank");
    LOAD(comm_size, "MPI_Comm_size");
    LOAD(allreduce, "MPI_Allreduce");
    LOAD(bcast, "MPI_Bcast");
    LOAD(barrier, "MPI_Barrier");
    LOAD(finalize, "MPI_Finalize");
    LOAD(abort_, "MPI_Abort");
#undef LOAD
    void *world = dlsym(mpi.library, "ompi_mpi_comm_world");
    if (world) {
        mpi.flavour = "Open MPI";
        mpi.world = world;
        mpi.bytes = dlsym(mpi.library, "ompi_mpi_byte");
        mpi.f32 = dlsym(mpi.library, "ompi_mpi_float");
        mpi.f64 = dlsym(mpi.library, "ompi_mpi_double");
        mpi.sum = dlsym(mpi.library, "ompi_mpi_op_sum");
        mpi.max = dlsym(mpi.library, "ompi_mpi_op_max");
        mpi.inPlace = (void *)1;
        if (!mpi.bytes || !mpi.f32 || !mpi.f64 || !mpi.sum || !mpi.max) return fail(message, capacity, "Open MPI's predefined handles are missing");
    } else {
        mpi.flavour = "MPICH ABI";
        mpi.world = (handle)(intptr_t)0x44000000;
        mpi.bytes = (handle)(intptr_t)0x4c00010d;
        mpi.f32 = (handle)(intptr_t)0x4c00040a;
        mpi.f64 = (handle)(intptr_t)0x4c00080b;
        mpi.sum = (handle)(intptr_t)0x58000003;
        mpi.max = (handle)(intptr_t)0x58000001;
        mpi.inPlace = (void *)-1;
    }
    int provided = 0;
    if (mpi.init_thread(NULL, NULL, 1 /* MPI_THREAD_FUNNELED in both */, &provided) != 0) {
        return fail(message, capacity, "MPI_Init_thread failed");
    }
    mpi.comm_rank(mpi.world, &mpi.rank);
    mpi.comm_size(mpi.world, &mpi.size);
    return 0;
}

int hat_mpi_rank(void) { return mpi.rank; }
int hat_mpi_size(void) { return mpi.size; }

const char *hat_mpi_library(void) {
    static char text[200];
    if (!mpi.library) return "none";
    snprintf(text, sizeof text, "%s (%s)", mpi.name, mpi.flavour);
    return text;
}

// MPI counts are ints: larger buffers go in pieces of 2^30 elements.
enum { CHUNK = 1 << 30 };

static int allreduce(void *buffer, long count, long size, handle type, handle op) {
    if (!mpi.library || mpi.size == 1) return 0;
    for (long done = 0; done < count; done += CHUNK) {
        const long n = count - done < CHUNK ? count - done : CHUNK;
        if (mpi.allreduce(mpi.inPlace, (char *)buffer + done * size, (int)n, type, op, mpi.world) != 0) return -1;
    }
    return 0;
}

int hat_mpi_allreduce_sum_f32(float *buffer, long count) { return allreduce(buffer, count, 4, mpi.f32, mpi.sum); }
int hat_mpi_allreduce_sum_f64(double *buffer, long count) { return allreduce(buffer, count, 8, mpi.f64, mpi.sum); }
int hat_mpi_allreduce_max_f64(double *buffer, long count) { return allreduce(buffer, count, 8, mpi.f64, mpi.max); }

int hat_mpi_broadcast(void *buffer, long bytes, int root) {
    if (!mpi.library || mpi.size == 1) return 0;
    for (long done = 0; done < bytes; done += CHUNK) {
        const long n = bytes - done < CHUNK ? bytes - done : CHUNK;
        if (mpi.bcast((char *)buffer + done, (int)n, mpi.bytes, root, mpi.world) != 0) return -1;
    }
    return 0;
}

int hat_mpi_barrier(void) { return !mpi.library || mpi.size == 1 ? 0 : mpi.barrier(mpi.world); }

void hat_mpi_finalize(void) {
    if (mpi.library) mpi.finalize();
}

void hat_mpi_abort(int code) {
    if (mpi.library) mpi.abort_(mpi.world, code);
    exit(code);
}
