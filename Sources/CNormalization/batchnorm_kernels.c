// Batch normalisation (batchnorm_kernels.h): the per-row loops of each path, and the per-channel
// drivers shared by all of them. A path is a table of row functions; each vector row function does
// what the portable one does, element for element, in the same order (see the header).
#include "batchnorm_kernels.h"
#include "cohort_cpu.h"
#include <math.h>
#include <string.h>
#if COHORT_X86
#include <immintrin.h>
#endif
#if COHORT_ARM
#include <arm_neon.h>
#endif

typedef struct {
    // lanes[i % 8] += x[i]
    void (*sum)(const float *x, long n, double lanes[8]);
    // lanes[i % 8] += (x[i] - m)^2, in double
    void (*squared_deviation)(const float *x, long n, double m, double lanes[8]);
    // g[i % 8] += dy[i], gx[i % 8] += dy[i] * xhat[i], in double
    void (*sums_of_gradient)(const float *dy, const float *xhat, long n, double g[8], double gx[8]);
    // h = (x - m) * s; xhat = h (if wanted); y = h * gamma + beta
    void (*normalize)(const float *x, long n, float m, float s, float gamma, float beta, float *xhat, float *y);
    // y = gamma * (x - m) / root + beta
    void (*normalize_inference)(const float *x, long n, float m, float root, float gamma, float beta, float *y);
    // dx += k * ((dy - c1) - xhat * c2)
    void (*gradient_of_input)(const float *dy, const float *xhat, long n, float k, float c1, float c2, float *dx);
    // dx += k * dy
    void (*gradient_of_input_fixed)(const float *dy, long n, float k, float *dx);
} row_functions;

// ---- portable ----

static void sum_portable(const float *x, long n, double lanes[8]) {
    for (long i = 0; i < n; i++) lanes[i & 7] += (double)x[i];
}

static void squared_deviation_portable(const float *x, long n, double m, double lanes[8]) {
    for (long i = 0; i < n; i++) {
        double d = (double)x[i] - m;
        lanes[i & 7] += d * d;
    }
}

static void sums_of_gradient_portable(const float *dy, const float *xhat, long n, double g[8], double gx[8]) {
    for (long i = 0; i < n; i++) {
        g[i & 7] += (double)dy[i];
        gx[i & 7] += (double)dy[i] * (double)xhat[i];
    }
}

static void normalize_portable(const float *x, long n, float m, float s, float gamma, float beta, float *xhat, float *y) {
    for (long i = 0; i < n; i++) {
        float h = (x[i] - m) * s;
        if (xhat) xhat[i] = h;
        y[i] = h * gamma + beta;
    }
}

static void normalize_inference_portable(const float *x, long n, float m, float root, float gamma, float beta, float *y) {
    for (long i = 0; i < n; i++) y[i] = gamma * (x[i] - m) / root + beta;
}

static void gradient_of_input_portable(const float *dy, const float *xhat, long n, float k, float c1, float c2, float *dx) {
    for (long i = 0; i < n; i++) dx[i] += k * ((dy[i] - c1) - xhat[i] * c2);
}

static void gradient_of_input_fixed_portable(const float *dy, long n, float k, float *dx) {
    for (long i = 0; i < n; i++) dx[i] += k * dy[i];
}

static const row_functions portable_rows = {
    sum_portable, squared_deviation_portable, sums_of_gradient_portable, normalize_portable,
    normalize_inference_portable, gradient_of_input_portable, gradient_of_input_fixed_portable,
};

// ---- AVX2: 8 floats a step; each step's 8 doubles are lanes 0-3 and 4-7 ----
#if COHORT_X86
#define AVX2 __attribute__((target("avx2")))

AVX2 static void sum_avx2(const float *x, long n, double lanes[8]) {
    __m256d lo = _mm256_loadu_pd(lanes), hi = _mm256_loadu_pd(lanes + 4);
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        lo = _mm256_add_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
        hi = _mm256_add_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
    }
    _mm256_storeu_pd(lanes, lo); _mm256_storeu_pd(lanes + 4, hi);
    sum_portable(x + i, n - i, lanes);  // i is a multiple of 8: the tail's lanes start at 0
}

AVX2 static void squared_deviation_avx2(const float *x, long n, double m, double lanes[8]) {
    __m256d lo = _mm256_loadu_pd(lanes), hi = _mm256_loadu_pd(lanes + 4), mv = _mm256_set1_pd(m);
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256d a = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), mv);
        __m256d b = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)), mv);
        lo = _mm256_add_pd(lo, _mm256_mul_pd(a, a));
        hi = _mm256_add_pd(hi, _mm256_mul_pd(b, b));
    }
    _mm256_storeu_pd(lanes, lo); _mm256_storeu_pd(lanes + 4, hi);
    squared_deviation_portable(x + i, n - i, m, lanes);
}

AVX2 static void sums_of_gradient_avx2(const float *dy, const float *xhat, long n, double g[8], double gx[8]) {
    __m256d glo = _mm256_loadu_pd(g), ghi = _mm256_loadu_pd(g + 4);
    __m256d xlo = _mm256_loadu_pd(gx), xhi = _mm256_loadu_pd(gx + 4);
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 d = _mm256_loadu_ps(dy + i), h = _mm256_loadu_ps(xhat + i);
        __m256d dlo = _mm256_cvtps_pd(_mm256_castps256_ps128(d)), dhi = _mm256_cvtps_pd(_mm256_extractf128_ps(d, 1));
        __m256d hlo = _mm256_cvtps_pd(_mm256_castps256_ps128(h)), hhi = _mm256_cvtps_pd(_mm256_extractf128_ps(h, 1));
        glo = _mm256_add_pd(glo, dlo); ghi = _mm256_add_pd(ghi, dhi);
        xlo = _mm256_add_pd(xlo, _mm256_mul_pd(dlo, hlo)); xhi = _mm256_add_pd(xhi, _mm256_mul_pd(dhi, hhi));
    }
    _mm256_storeu_pd(g, glo); _mm256_storeu_pd(g + 4, ghi);
    _mm256_storeu_pd(gx, xlo); _mm256_storeu_pd(gx + 4, xhi);
    sums_of_gradient_portable(dy + i, xhat + i, n - i, g, gx);
}

AVX2 static void normalize_avx2(const float *x, long n, float m, float s, float gamma, float beta, float *xhat, float *y) {
    __m256 mv = _mm256_set1_ps(m), sv = _mm256_set1_ps(s), gv = _mm256_set1_ps(gamma), bv = _mm256_set1_ps(beta);
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 h = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), mv), sv);
        if (xhat) _mm256_storeu_ps(xhat + i, h);
        _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_mul_ps(h, gv), bv));
    }
    normalize_portable(x + i, n - i, m, s, gamma, beta, xhat ? xhat + i : NULL, y + i);
}

AVX2 static void normalize_inference_avx2(const float *x, long n, float m, float root, float gamma, float beta, float *y) {
    __m256 mv = _mm256_set1_ps(m), rv = _mm256_set1_ps(root), gv = _mm256_set1_ps(gamma), bv = _mm256_set1_ps(beta);
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 t = _mm256_div_ps(_mm256_mul_ps(gv, _mm256_sub_ps(_mm256_loadu_ps(x + i), mv)), rv);
        _mm256_storeu_ps(y + i, _mm256_add_ps(t, bv));
    }
    normalize_inference_portable(x + i, n - i, m, root, gamma, beta, y + i);
}

AVX2 static void gradient_of_input_avx2(const float *dy, const float *xhat, long n, float k, float c1, float c2, float *dx) {
    __m256 kv = _mm256_set1_ps(k), c1v = _mm256_set1_ps(c1), c2v = _mm256_set1_ps(c2);
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 u = _mm256_sub_ps(_mm256_sub_ps(_mm256_loadu_ps(dy + i), c1v), _mm256_mul_ps(_mm256_loadu_ps(xhat + i), c2v));
        _mm256_storeu_ps(dx + i, _mm256_add_ps(_mm256_loadu_ps(dx + i), _mm256_mul_ps(kv, u)));
    }
    gradient_of_input_portable(dy + i, xhat + i, n - i, k, c1, c2, dx + i);
}

AVX2 static void gradient_of_input_fixed_avx2(const float *dy, long n, float k, float *dx) {
    __m256 kv = _mm256_set1_ps(k);
    long i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dx + i, _mm256_add_ps(_mm256_loadu_ps(dx + i), _mm256_mul_ps(kv, _mm256_loadu_ps(dy + i))));
    gradient_of_input_fixed_portable(dy + i, n - i, k, dx + i);
}

static const row_functions avx2_rows = {
    sum_avx2, squared_deviation_avx2, sums_of_gradient_avx2, normalize_avx2,
    normalize_inference_avx2, gradient_of_input_avx2, gradient_of_input_fixed_avx2,
};
#endif

// ---- NEON: 8 floats a step as two vectors of 4; each step's 8 doubles are four vectors of 2 ----
#if COHORT_ARM
// The 8 floats at x as doubles, lanes 0-1, 2-3, 4-5, 6-7.
static inline void widen_neon(const float *x, float64x2_t d[4]) {
    float32x4_t a = vld1q_f32(x), b = vld1q_f32(x + 4);
    d[0] = vcvt_f64_f32(vget_low_f32(a)); d[1] = vcvt_high_f64_f32(a);
    d[2] = vcvt_f64_f32(vget_low_f32(b)); d[3] = vcvt_high_f64_f32(b);
}

static void sum_neon(const float *x, long n, double lanes[8]) {
    float64x2_t acc[4], v[4];
    for (int j = 0; j < 4; j++) acc[j] = vld1q_f64(lanes + 2 * j);
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        widen_neon(x + i, v);
        for (int j = 0; j < 4; j++) acc[j] = vaddq_f64(acc[j], v[j]);
    }
    for (int j = 0; j < 4; j++) vst1q_f64(lanes + 2 * j, acc[j]);
    sum_portable(x + i, n - i, lanes);
}

static void squared_deviation_neon(const float *x, long n, double m, double lanes[8]) {
    float64x2_t acc[4], v[4], mv = vdupq_n_f64(m);
    for (int j = 0; j < 4; j++) acc[j] = vld1q_f64(lanes + 2 * j);
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        widen_neon(x + i, v);
        for (int j = 0; j < 4; j++) {
            float64x2_t d = vsubq_f64(v[j], mv);
            acc[j] = vaddq_f64(acc[j], vmulq_f64(d, d));
        }
    }
    for (int j = 0; j < 4; j++) vst1q_f64(lanes + 2 * j, acc[j]);
    squared_deviation_portable(x + i, n - i, m, lanes);
}

static void sums_of_gradient_neon(const float *dy, const float *xhat, long n, double g[8], double gx[8]) {
    float64x2_t ga[4], xa[4], d[4], h[4];
    for (int j = 0; j < 4; j++) { ga[j] = vld1q_f64(g + 2 * j); xa[j] = vld1q_f64(gx + 2 * j); }
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        widen_neon(dy + i, d); widen_neon(xhat + i, h);
        for (int j = 0; j < 4; j++) { ga[j] = vaddq_f64(ga[j], d[j]); xa[j] = vaddq_f64(xa[j], vmulq_f64(d[j], h[j])); }
    }
    for (int j = 0; j < 4; j++) { vst1q_f64(g + 2 * j, ga[j]); vst1q_f64(gx + 2 * j, xa[j]); }
    sums_of_gradient_portable(dy + i, xhat + i, n - i, g, gx);
}

static void normalize_neon(const float *x, long n, float m, float s, float gamma, float beta, float *xhat, float *y) {
    float32x4_t mv = vdupq_n_f32(m), sv = vdupq_n_f32(s), gv = vdupq_n_f32(gamma), bv = vdupq_n_f32(beta);
    long i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t h = vmulq_f32(vsubq_f32(vld1q_f32(x + i), mv), sv);
        if (xhat) vst1q_f32(xhat + i, h);
        vst1q_f32(y + i, vaddq_f32(vmulq_f32(h, gv), bv));
    }
    normalize_portable(x + i, n - i, m, s, gamma, beta, xhat ? xhat + i : NULL, y + i);
}

static void normalize_inference_neon(const float *x, long n, float m, float root, float gamma, float beta, float *y) {
    float32x4_t mv = vdupq_n_f32(m), rv = vdupq_n_f32(root), gv = vdupq_n_f32(gamma), bv = vdupq_n_f32(beta);
    long i = 0;
    for (; i + 4 <= n; i += 4)
        vst1q_f32(y + i, vaddq_f32(vdivq_f32(vmulq_f32(gv, vsubq_f32(vld1q_f32(x + i), mv)), rv), bv));
    normalize_inference_portable(x + i, n - i, m, root, gamma, beta, y + i);
}

static void gradient_of_input_neon(const float *dy, const float *xhat, long n, float k, float c1, float c2, float *dx) {
    float32x4_t kv = vdupq_n_f32(k), c1v = vdupq_n_f32(c1), c2v = vdupq_n_f32(c2);
    long i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t u = vsubq_f32(vsubq_f32(vld1q_f32(dy + i), c1v), vmulq_f32(vld1q_f32(xhat + i), c2v));
        vst1q_f32(dx + i, vaddq_f32(vld1q_f32(dx + i), vmulq_f32(kv, u)));
    }
    gradient_of_input_portable(dy + i, xhat + i, n - i, k, c1, c2, dx + i);
}

static void gradient_of_input_fixed_neon(const float *dy, long n, float k, float *dx) {
    float32x4_t kv = vdupq_n_f32(k);
    long i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(dx + i, vaddq_f32(vld1q_f32(dx + i), vmulq_f32(kv, vld1q_f32(dy + i))));
    gradient_of_input_fixed_portable(dy + i, n - i, k, dx + i);
}

static const row_functions neon_rows = {
    sum_neon, squared_deviation_neon, sums_of_gradient_neon, normalize_neon,
    normalize_inference_neon, gradient_of_input_neon, gradient_of_input_fixed_neon,
};
#endif

// ---- paths ----

static const struct {
    const char *name;
    unsigned needs;
    const row_functions *rows;  // NULL: not built for this architecture
} path_info[COHORT_NORM_PATH_COUNT] = {
    [COHORT_NORM_PORTABLE] = {"portable", 0, &portable_rows},
#if COHORT_X86
    [COHORT_NORM_AVX2] = {"avx2", COHORT_CPU_AVX2, &avx2_rows},
#else
    [COHORT_NORM_AVX2] = {"avx2", COHORT_CPU_AVX2, NULL},
#endif
#if COHORT_ARM
    [COHORT_NORM_NEON] = {"neon", COHORT_CPU_NEON, &neon_rows},
#else
    [COHORT_NORM_NEON] = {"neon", COHORT_CPU_NEON, NULL},
#endif
};

int cohort_norm_path_available(cohort_norm_path path) {
    if ((unsigned)path >= COHORT_NORM_PATH_COUNT || !path_info[path].rows) return 0;
    return (cohort_cpu_features() & path_info[path].needs) == path_info[path].needs;
}

const char *cohort_norm_path_name(cohort_norm_path path) {
    return (unsigned)path < COHORT_NORM_PATH_COUNT ? path_info[path].name : "unknown";
}

cohort_norm_path cohort_norm_best_path(void) {
    if (cohort_norm_path_available(COHORT_NORM_AVX2)) return COHORT_NORM_AVX2;
    if (cohort_norm_path_available(COHORT_NORM_NEON)) return COHORT_NORM_NEON;
    return COHORT_NORM_PORTABLE;
}

// A path the CPU cannot run falls back to the portable loops (the callers ask for available ones).
static const row_functions *rows_of(cohort_norm_path path) {
    return cohort_norm_path_available(path) ? path_info[path].rows : &portable_rows;
}

static double lanes_total(const double lanes[8]) {
    double total = 0;
    for (int j = 0; j < 8; j++) total += lanes[j];
    return total;
}

// Channel c's rows, normalised (the channel's rows are still in cache from its statistics).
static void normalize_channel(const row_functions *r, const float *x, long batch, long channels, long inner, long c,
                              float m, float s, float gamma, float beta, float *xhat, float *y) {
    for (long b = 0; b < batch; b++) {
        long offset = (b * channels + c) * inner;
        r->normalize(x + offset, inner, m, s, gamma, beta, xhat ? xhat + offset : NULL, y + offset);
    }
}

void cohort_batchnorm_forward_training(const float *x, long batch, long channels, long inner, const float *gamma,
                                       const float *beta, float epsilon, float *mean, float *variance, float *inv_std,
                                       float *xhat, float *y, cohort_norm_path path) {
    const row_functions *r = rows_of(path);
    const double count = (double)(batch * inner);
    for (long c = 0; c < channels; c++) {
        double lanes[8] = {0};
        for (long b = 0; b < batch; b++) r->sum(x + (b * channels + c) * inner, inner, lanes);
        double m = lanes_total(lanes) / count;
        memset(lanes, 0, sizeof lanes);
        for (long b = 0; b < batch; b++) r->squared_deviation(x + (b * channels + c) * inner, inner, m, lanes);
        double v = lanes_total(lanes) / count;
        mean[c] = (float)m;
        variance[c] = (float)v;
        inv_std[c] = (float)(1.0 / sqrt(v + (double)epsilon));
        normalize_channel(r, x, batch, channels, inner, c, mean[c], inv_std[c], gamma[c], beta[c], xhat, y);
    }
}

void cohort_batchnorm_normalize(const float *x, long batch, long channels, long inner, const float *mean,
                                const float *inv_std, const float *gamma, const float *beta, float *xhat, float *y,
                                cohort_norm_path path) {
    const row_functions *r = rows_of(path);
    for (long c = 0; c < channels; c++)
        normalize_channel(r, x, batch, channels, inner, c, mean[c], inv_std[c], gamma[c], beta[c], xhat, y);
}

void cohort_batchnorm_forward_inference(const float *x, long batch, long channels, long inner, const float *gamma,
                                        const float *beta, const float *mean, const float *variance, float epsilon,
                                        float *y, cohort_norm_path path) {
    const row_functions *r = rows_of(path);
    for (long c = 0; c < channels; c++) {
        float root = sqrtf(variance[c] + epsilon);
        for (long b = 0; b < batch; b++) {
            long offset = (b * channels + c) * inner;
            r->normalize_inference(x + offset, inner, mean[c], root, gamma[c], beta[c], y + offset);
        }
    }
}

void cohort_batchnorm_backward(const float *dy, const float *xhat, long batch, long channels, long inner,
                               const float *gamma, const float *inv_std, int training, float *d_gamma, float *d_beta,
                               float *dx, cohort_norm_path path) {
    const row_functions *r = rows_of(path);
    const double count = (double)(batch * inner);
    const int need_sums = d_gamma || d_beta || (dx && training);
    for (long c = 0; c < channels; c++) {
        double g = 0, gx = 0;
        if (need_sums) {
            double g_lanes[8] = {0}, gx_lanes[8] = {0};
            for (long b = 0; b < batch; b++) {
                long offset = (b * channels + c) * inner;
                r->sums_of_gradient(dy + offset, xhat + offset, inner, g_lanes, gx_lanes);
            }
            g = lanes_total(g_lanes); gx = lanes_total(gx_lanes);
        }
        if (d_gamma) d_gamma[c] += (float)gx;
        if (d_beta) d_beta[c] += (float)g;
        if (!dx) continue;
        float k = gamma[c] * inv_std[c];
        for (long b = 0; b < batch; b++) {
            long offset = (b * channels + c) * inner;
            if (training) r->gradient_of_input(dy + offset, xhat + offset, inner, k, (float)(g / count), (float)(gx / count), dx + offset);
            else r->gradient_of_input_fixed(dy + offset, inner, k, dx + offset);
        }
    }
}
