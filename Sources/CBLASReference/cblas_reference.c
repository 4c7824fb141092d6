#include "cblas_reference.h"
#include <cblas.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double cohort_reference_sgemm_gflops(int m, int n, int k, int reps) {
    float *a = NULL, *b = NULL, *c = NULL;
    if (posix_memalign((void **)&a, 64, sizeof(float) * (size_t)m * k) ||
        posix_memalign((void **)&b, 64, sizeof(float) * (size_t)k * n) ||
        posix_memalign((void **)&c, 64, sizeof(float) * (size_t)m * n)) {
        free(a); free(b); free(c);
        return -1.0;
    }
    for (size_t i = 0; i < (size_t)m * k; i++) a[i] = (float)((i * 7) % 13) * 0.01f - 0.06f;
    for (size_t i = 0; i < (size_t)k * n; i++) b[i] = (float)((i * 5) % 11) * 0.01f - 0.05f;
    memset(c, 0, sizeof(float) * (size_t)m * n);
    // One untimed call: OpenBLAS allocates its buffers and wakes its threads on the first.
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
    double t0 = now_seconds();
    for (int r = 0; r < reps; r++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
    double dt = now_seconds() - t0;
    free(a); free(b); free(c);
    return 2.0 * (double)m * n * k * reps / dt * 1e-9;
}
