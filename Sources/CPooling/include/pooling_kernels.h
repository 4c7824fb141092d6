#ifndef COHORT_POOLING_KERNELS_H
#define COHORT_POOLING_KERNELS_H
#include <stdint.h>

// Max pooling (Cohort's MaxPool2d, NCHW, no padding), chosen at run time from cohort_cpu_features()
// (Sources/CCPU, capped by COHORT_CPU). Every path takes each window's elements in scan order
// (row by row) and keeps a value only when it is greater (an ordered comparison: a NaN never wins
// over the first element, and a tie keeps the first), so every path gives the same maxima and the
// same argmax indices, NaN included.

typedef enum {
    COHORT_POOL_PORTABLE = 0,  // C loops, any window
    COHORT_POOL_AVX2,          // 2x2 windows of stride 2: 8 outputs per step (other windows: the C loops)
    COHORT_POOL_NEON,          // aarch64, 2x2 windows of stride 2: 4 outputs per step (vld2q deinterleaves)
    COHORT_POOL_PATH_COUNT
} cohort_pool_path;

/// The fastest path cohort_cpu_features() allows.
cohort_pool_path cohort_pool_best_path(void);

/// 1 when this CPU (within the COHORT_CPU cap) can run `path`, else 0.
int cohort_pool_path_available(cohort_pool_path path);

/// The path's name for reports ("portable", "avx2", "neon").
const char *cohort_pool_path_name(cohort_pool_path path);

/// y [planes][out_h][out_w] = the maximum of each kernel_h x kernel_w window of x [planes][height][width]
/// at stride (stride_h, stride_w), out_h = (height - kernel_h) / stride_h + 1 (likewise out_w);
/// argmax (NULL: not wanted) gets each maximum's flat index within its input plane.
void cohort_maxpool_forward(const float *x, long planes, int height, int width, int kernel_h, int kernel_w, int stride_h,
                            int stride_w, float *y, int32_t *argmax, cohort_pool_path path);
#endif
