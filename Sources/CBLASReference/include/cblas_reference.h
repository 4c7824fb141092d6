#ifndef COHORT_CBLAS_REFERENCE_H
#define COHORT_CBLAS_REFERENCE_H
// The baseline for `cohort bench blas`: the same sgemm timed from plain C, no Swift in the loop.
// Returns GFLOP/s of `reps` calls of C = A(m x k) * B(k x n) on row-major, 64-byte-aligned buffers.
double cohort_reference_sgemm_gflops(int m, int n, int k, int reps);
#endif
