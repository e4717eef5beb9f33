// OpenBLAS's CBLAS interface (Debian: libopenblas-dev). blasint is 32-bit.
#include <cblas.h>
// Not declared in every cblas.h: thread control and kernel name for benchmarks.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_corename(void);
