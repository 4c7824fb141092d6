#ifndef COHORT_BATCHNORM_KERNELS_H
#define COHORT_BATCHNORM_KERNELS_H

// Batch normalisation over x [batch][channels][inner] (inner = H*W, 1 for 1d), per channel, chosen
// at run time from cohort_cpu_features() (Sources/CCPU, capped by COHORT_CPU). Every path takes the
// same operations in the same order, so every path gives the portable loop's results bit for bit:
//   - a channel's sums are in double, in 8 lanes: element i of each row (b, c) goes to lane i % 8,
//     rows in order, and the lanes are added 0 to 7 (a vector path adds whole vectors of 8, then
//     the row's tail element by element into the same lanes);
//   - the statistics take two passes (the mean, then the mean of squared deviations from it), so
//     uncentred data lose nothing to cancellation;
//   - elementwise arithmetic is in float, one rounding per operation (no fused multiply-add: this
//     target is built with -ffp-contract=off), in the order each function below gives.

typedef enum {
    COHORT_NORM_PORTABLE = 0,  // C loops
    COHORT_NORM_AVX2,          // 8 floats per step (sums: two vectors of 4 doubles)
    COHORT_NORM_NEON,          // aarch64: 4 floats per step, twice (sums: four vectors of 2 doubles)
    COHORT_NORM_PATH_COUNT
} cohort_norm_path;

/// The fastest path cohort_cpu_features() allows.
cohort_norm_path cohort_norm_best_path(void);

/// 1 when this CPU (within the COHORT_CPU cap) can run `path`, else 0.
int cohort_norm_path_available(cohort_norm_path path);

/// The path's name for reports ("portable", "avx2", "neon").
const char *cohort_norm_path_name(cohort_norm_path path);

/// Training forward with the batch's statistics. Per channel c, over its N = batch * inner values:
/// mean[c] = sum(x) / N, variance[c] = sum((x - mean)^2) / N (biased; in double, then stored as
/// float), inv_std[c] = 1 / sqrt(variance + epsilon) (double, stored as float); then with m, s the
/// float mean and inv_std: h = (x - m) * s, y = h * gamma[c] + beta[c], and xhat = h where xhat is
/// not NULL.
void cohort_batchnorm_forward_training(const float *x, long batch, long channels, long inner, const float *gamma,
                                       const float *beta, float epsilon, float *mean, float *variance, float *inv_std,
                                       float *xhat, float *y, cohort_norm_path path);

/// The normalisation of the training forward with given float statistics (a network in evaluation
/// mode that still needs x-hat for a backward pass): h = (x - mean[c]) * inv_std[c], y = h * gamma[c] +
/// beta[c], xhat = h where xhat is not NULL.
void cohort_batchnorm_normalize(const float *x, long batch, long channels, long inner, const float *mean,
                                const float *inv_std, const float *gamma, const float *beta, float *xhat, float *y,
                                cohort_norm_path path);

/// Inference forward with given statistics, in the order of ONNX's reference evaluator (so an
/// exported network computes the same floats): y = gamma (x - mean) / sqrt(variance + epsilon) + beta,
/// the root in float.
void cohort_batchnorm_forward_inference(const float *x, long batch, long channels, long inner, const float *gamma,
                                        const float *beta, const float *mean, const float *variance, float epsilon,
                                        float *y, cohort_norm_path path);

/// Backward. Per channel, with the sums (double) G = sum(dy), GX = sum(dy * xhat): d_gamma[c] += GX
/// and d_beta[c] += G where not NULL; where dx is not NULL, with k = gamma[c] * inv_std[c]:
///   training (the statistics were the batch's): dx += k * ((dy - G / N) - xhat * (GX / N)),
///     G / N and GX / N rounded to float;
///   otherwise (fixed statistics): dx += k * dy.
/// xhat is read for the sums and for a training dx: it may be NULL only when d_gamma and d_beta
/// are NULL and the statistics were fixed.
void cohort_batchnorm_backward(const float *dy, const float *xhat, long batch, long channels, long inner,
                               const float *gamma, const float *inv_std, int training, float *d_gamma, float *d_beta,
                               float *dx, cohort_norm_path path);
#endif
