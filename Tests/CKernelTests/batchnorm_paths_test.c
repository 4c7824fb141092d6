// The vector paths of batch normalisation give the portable loops' results bit for bit: the
// training forward (mean, variance, inverse deviation, x-hat, y), the inference forward and the
// backward (gamma's and beta's gradients, dx with batch and with fixed statistics), on rows of
// every tail length (inner 1, 7, 16, 49, 196, 13), uncentred data (offset 1000) and centred. The
// portable statistics are also checked against a long-double two-pass reference. A path the CPU
// (or COHORT_CPU) does not allow is reported as skipped. Exits 1 on the first mismatch.
//
// Built and run by launch/check-c (natively, and for aarch64 under qemu-aarch64).
#include "batchnorm_kernels.h"
#include "cohort_cpu.h"
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static float uniform(void) {  // in [-1, 1)
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (float)((rng_state * 0x2545F4914F6CDD1Dull) >> 40) / (float)(1 << 23) - 1.0f;
}

static int same(const char *what, const char *path, long inner, const float *a, const float *b, long n) {
    for (long i = 0; i < n; i++) {
        uint32_t u, v;
        memcpy(&u, a + i, 4); memcpy(&v, b + i, 4);
        if (u != v) {
            printf("batchnorm paths: MISMATCH on %s, inner %ld, %s[%ld]: %.9g, portable %.9g\n", path, inner, what, i, a[i], b[i]);
            return 0;
        }
    }
    return 1;
}

typedef struct {
    float *mean, *variance, *inv_std, *xhat, *y, *yi, *dgamma, *dbeta, *dx, *dx_fixed;
} outputs;

static void run(cohort_norm_path path, const float *x, const float *dy, long batch, long channels, long inner,
                const float *gamma, const float *beta, outputs *o) {
    long n = batch * channels * inner;
    cohort_batchnorm_forward_training(x, batch, channels, inner, gamma, beta, 1e-5f, o->mean, o->variance, o->inv_std,
                                      o->xhat, o->y, path);
    cohort_batchnorm_forward_inference(x, batch, channels, inner, gamma, beta, o->mean, o->variance, 1e-5f, o->yi, path);
    for (long c = 0; c < channels; c++) { o->dgamma[c] = 0.25f; o->dbeta[c] = -0.5f; }
    for (long i = 0; i < n; i++) { o->dx[i] = 0.125f; o->dx_fixed[i] = -0.125f; }
    cohort_batchnorm_backward(dy, o->xhat, batch, channels, inner, gamma, o->inv_std, 1, o->dgamma, o->dbeta, o->dx, path);
    cohort_batchnorm_backward(dy, NULL, batch, channels, inner, gamma, o->inv_std, 0, NULL, NULL, o->dx_fixed, path);
}

static void allocate(outputs *o, long channels, long n) {
    o->mean = malloc(sizeof(float) * channels); o->variance = malloc(sizeof(float) * channels);
    o->inv_std = malloc(sizeof(float) * channels); o->dgamma = malloc(sizeof(float) * channels);
    o->dbeta = malloc(sizeof(float) * channels);
    o->xhat = malloc(sizeof(float) * n); o->y = malloc(sizeof(float) * n); o->yi = malloc(sizeof(float) * n);
    o->dx = malloc(sizeof(float) * n); o->dx_fixed = malloc(sizeof(float) * n);
}

static void release(outputs *o) {
    free(o->mean); free(o->variance); free(o->inv_std); free(o->dgamma); free(o->dbeta);
    free(o->xhat); free(o->y); free(o->yi); free(o->dx); free(o->dx_fixed);
}

int main(void) {
    static const long shapes[][3] = {{6, 5, 1}, {3, 4, 7}, {4, 6, 16}, {5, 3, 49}, {2, 4, 196}, {3, 2, 13}};
    static const float offsets[] = {0.0f, 1000.0f};
    unsigned long checks = 0;
    int ran = 0;
    char summary[160] = "";
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        for (size_t o = 0; o < sizeof offsets / sizeof offsets[0]; o++) {
            const long batch = shapes[s][0], channels = shapes[s][1], inner = shapes[s][2], n = batch * channels * inner;
            float *x = malloc(sizeof(float) * n), *dy = malloc(sizeof(float) * n);
            float *gamma = malloc(sizeof(float) * channels), *beta = malloc(sizeof(float) * channels);
            for (long i = 0; i < n; i++) { x[i] = offsets[o] + 3.0f * uniform(); dy[i] = uniform(); }
            for (long c = 0; c < channels; c++) { gamma[c] = 1.0f + 0.5f * uniform(); beta[c] = uniform(); }
            outputs portable;
            allocate(&portable, channels, n);
            run(COHORT_NORM_PORTABLE, x, dy, batch, channels, inner, gamma, beta, &portable);
            // The portable statistics against a long-double two-pass reference.
            for (long c = 0; c < channels; c++) {
                long double sum = 0, squares = 0;
                for (long b = 0; b < batch; b++)
                    for (long i = 0; i < inner; i++) sum += x[(b * channels + c) * inner + i];
                long double m = sum / (batch * inner);
                for (long b = 0; b < batch; b++)
                    for (long i = 0; i < inner; i++) {
                        long double d = x[(b * channels + c) * inner + i] - m;
                        squares += d * d;
                    }
                long double v = squares / (batch * inner);
                // Written as "not within" so that a NaN fails too.
                if (!(fabsl(portable.mean[c] - m) <= 1e-6L * (fabsl(m) + 1)) || !(fabsl(portable.variance[c] - v) <= 1e-6L * v)) {
                    printf("batchnorm paths: portable statistics off, inner %ld, channel %ld: mean %.9g (reference %.9Lg), "
                           "variance %.9g (reference %.9Lg)\n", inner, c, portable.mean[c], m, portable.variance[c], v);
                    return 1;
                }
            }
            for (int path = 1; path < COHORT_NORM_PATH_COUNT; path++) {
                const char *name = cohort_norm_path_name((cohort_norm_path)path);
                if (!cohort_norm_path_available((cohort_norm_path)path)) {
                    if (s == 0 && o == 0) {
                        strncat(summary, name, sizeof summary - strlen(summary) - 1);
                        strncat(summary, " skipped (not on this CPU or above COHORT_CPU); ", sizeof summary - strlen(summary) - 1);
                    }
                    continue;
                }
                if (s == 0 && o == 0) ran++;
                outputs v;
                allocate(&v, channels, n);
                run((cohort_norm_path)path, x, dy, batch, channels, inner, gamma, beta, &v);
                if (!same("mean", name, inner, v.mean, portable.mean, channels)
                    || !same("variance", name, inner, v.variance, portable.variance, channels)
                    || !same("inv_std", name, inner, v.inv_std, portable.inv_std, channels)
                    || !same("xhat", name, inner, v.xhat, portable.xhat, n) || !same("y", name, inner, v.y, portable.y, n)
                    || !same("inference y", name, inner, v.yi, portable.yi, n)
                    || !same("d_gamma", name, inner, v.dgamma, portable.dgamma, channels)
                    || !same("d_beta", name, inner, v.dbeta, portable.dbeta, channels)
                    || !same("dx", name, inner, v.dx, portable.dx, n)
                    || !same("dx (fixed statistics)", name, inner, v.dx_fixed, portable.dx_fixed, n))
                    return 1;
                checks += 5 * (unsigned long)channels + 5 * (unsigned long)n;
                release(&v);
            }
            release(&portable);
            free(x); free(dy); free(gamma); free(beta);
        }
    }
    printf("batchnorm paths: %lu values equal to the portable loops' on %d vector path(s); %s\n", checks, ran,
           summary[0] ? summary : "none skipped");
    return 0;
}
