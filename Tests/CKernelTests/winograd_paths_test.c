// Winograd F(4x4, 3x3) (Sources/CWinograd) against the direct convolution in double: the forward
// output, the input gradient and the weight gradient, on shapes with ragged tiles, channel counts
// that are not multiples of 8, padding 0 to 2, and several images; and every vector path the CPU
// (within COHORT_CPU) runs gives the portable path's results bit for bit. The 36 products between
// the transforms are plain loops here. A path the CPU does not allow is reported as skipped.
// Exits 1 on the first mismatch.
//
// Built and run by launch/check-c (natively, and for aarch64 under qemu-aarch64).
#include "cohort_cpu.h"
#include "winograd_kernels.h"
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

static float *buffer(long count) {
    float *p = aligned_alloc(32, (size_t)((count * 4 + 31) / 32 * 32));
    if (!p) { fprintf(stderr, "winograd_paths_test: out of memory\n"); exit(1); }
    memset(p, 0, (size_t)count * 4);
    return p;
}

// C[m x n] = op(A) op(B), op transposing when asked; row-major.
static void product(const float *a, const float *b, float *c, long m, long n, long k, int ta, int tb) {
    for (long i = 0; i < m; i++)
        for (long j = 0; j < n; j++) {
            double sum = 0;
            for (long l = 0; l < k; l++) sum += (double)(ta ? a[l * m + i] : a[i * k + l]) * (tb ? b[j * k + l] : b[l * n + j]);
            c[i * n + j] = (float)sum;
        }
}

typedef struct { float *y, *dx, *dw; } results;

static results run(const cohort_wino_shape *s, const float *x, const float *w, const float *bias, const float *dy, cohort_wino_path path) {
    long P = (long)s->batch * s->tiles_h * s->tiles_w;
    float *xp = buffer(cohort_wino_xp_count(s)), *V = buffer(cohort_wino_v_count(s)), *U = buffer(cohort_wino_u_count(s));
    float *M = buffer(cohort_wino_m_count(s)), *dU = buffer(cohort_wino_u_count(s));
    results r = {buffer((long)s->batch * s->out_channels * s->out_h * s->out_w),
                 buffer((long)s->batch * s->channels * s->height * s->width), buffer((long)s->out_channels * s->channels * 9)};
    // xp starts as garbage (a later forward finds input_grad's sums there): the forward must not read it.
    for (long i = 0; i < cohort_wino_xp_count(s); i++) xp[i] = (float)NAN;
    cohort_wino_filter(s, w, U, path);
    cohort_wino_input(s, x, xp, V, path);
    for (int i = 0; i < 36; i++) product(V + i * P * s->cp, U + (long)i * s->cp * s->kp, M + i * P * s->kp, P, s->kp, s->cp, 0, 0);
    cohort_wino_output(s, M, bias, r.y, path);
    cohort_wino_output_grad(s, dy, M, path);  // M now holds dM
    for (int i = 0; i < 36; i++) product(V + i * P * s->cp, M + i * P * s->kp, dU + (long)i * s->cp * s->kp, s->cp, s->kp, P, 1, 0);
    cohort_wino_filter_grad(s, dU, r.dw, path);
    for (int i = 0; i < 36; i++) product(M + i * P * s->kp, U + (long)i * s->cp * s->kp, V + i * P * s->cp, P, s->cp, s->kp, 0, 1);
    cohort_wino_input_grad(s, V, xp, r.dx, path);
    free(xp); free(V); free(U); free(M); free(dU);
    return r;
}

static int close_to(const char *what, const float *got, const double *want, const double *scale, long count) {
    for (long i = 0; i < count; i++)
        if (!(fabs(got[i] - want[i]) <= 1e-5 * scale[i] + 1e-6)) {  // a NaN fails too
            fprintf(stderr, "winograd_paths_test: %s[%ld] = %.9g, direct convolution %.9g (scale %.3g)\n", what, i, got[i], want[i], scale[i]);
            return 0;
        }
    return 1;
}

int main(void) {
    const int shapes[][6] = {  // batch, channels, height, width, pad, out_channels
        {2, 3, 7, 9, 1, 5}, {1, 8, 6, 6, 0, 8}, {2, 16, 14, 14, 1, 16}, {1, 5, 11, 13, 2, 9}, {3, 9, 4, 4, 1, 17}, {1, 1, 3, 3, 0, 1},
    };
    int checked = 0, skipped = 0;
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
        const int *d = shapes[t];
        cohort_wino_shape s;
        if (!cohort_wino_shape_make(d[0], d[1], d[2], d[3], d[4], d[5], &s)) { fprintf(stderr, "winograd_paths_test: shape %zu refused\n", t); return 1; }
        const int N = s.batch, C = s.channels, H = s.height, W = s.width, pad = s.pad, K = s.out_channels, Ho = s.out_h, Wo = s.out_w;
        long nx = (long)N * C * H * W, ny = (long)N * K * Ho * Wo, nw = (long)K * C * 9;
        float *x = buffer(nx), *w = buffer(nw), *bias = buffer(K), *dy = buffer(ny);
        for (long i = 0; i < nx; i++) x[i] = uniform();
        for (long i = 0; i < nw; i++) w[i] = uniform();
        for (int i = 0; i < K; i++) bias[i] = uniform();
        for (long i = 0; i < ny; i++) dy[i] = uniform();
        double *y = calloc(ny, 8), *ys = calloc(ny, 8), *dx = calloc(nx, 8), *dxs = calloc(nx, 8), *dw = calloc(nw, 8), *dws = calloc(nw, 8);
        for (int n = 0; n < N; n++)  // the direct convolution and its adjoints, with the sums of |terms| as scales
            for (int k = 0; k < K; k++)
                for (int oh = 0; oh < Ho; oh++)
                    for (int ow = 0; ow < Wo; ow++) {
                        long yi = (((long)n * K + k) * Ho + oh) * Wo + ow;
                        y[yi] = bias[k]; ys[yi] = fabs(bias[k]);
                        for (int c = 0; c < C; c++)
                            for (int r = 0; r < 3; r++)
                                for (int q = 0; q < 3; q++) {
                                    int ih = oh + r - pad, iw = ow + q - pad;
                                    if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                    long xi = (((long)n * C + c) * H + ih) * W + iw, wi = ((long)k * C + c) * 9 + r * 3 + q;
                                    y[yi] += (double)x[xi] * w[wi]; ys[yi] += fabs((double)x[xi] * w[wi]);
                                    dx[xi] += (double)dy[yi] * w[wi]; dxs[xi] += fabs((double)dy[yi] * w[wi]);
                                    dw[wi] += (double)dy[yi] * x[xi]; dws[wi] += fabs((double)dy[yi] * x[xi]);
                                }
                    }
        results portable = run(&s, x, w, bias, dy, COHORT_WINO_PORTABLE);
        if (!close_to("y", portable.y, y, ys, ny) || !close_to("dx", portable.dx, dx, dxs, nx) || !close_to("dw", portable.dw, dw, dws, nw)) return 1;
        checked++;
        for (int path = COHORT_WINO_PORTABLE + 1; path < COHORT_WINO_PATH_COUNT; path++) {
            if (!cohort_wino_path_available((cohort_wino_path)path)) { skipped++; continue; }
            results other = run(&s, x, w, bias, dy, (cohort_wino_path)path);
            if (memcmp(other.y, portable.y, ny * 4) || memcmp(other.dx, portable.dx, nx * 4) || memcmp(other.dw, portable.dw, nw * 4)) {
                fprintf(stderr, "winograd_paths_test: path %s differs from portable on shape %zu\n", cohort_wino_path_name((cohort_wino_path)path), t);
                return 1;
            }
            checked++;
            free(other.y); free(other.dx); free(other.dw);
        }
        free(portable.y); free(portable.dx); free(portable.dw);
        free(x); free(w); free(bias); free(dy); free(y); free(ys); free(dx); free(dxs); free(dw); free(dws);
    }
    for (int path = COHORT_WINO_PORTABLE + 1; path < COHORT_WINO_PATH_COUNT; path++)
        if (!cohort_wino_path_available((cohort_wino_path)path))
            printf("winograd_paths_test: path %s skipped: this CPU (or COHORT_CPU) lacks %s\n", cohort_wino_path_name((cohort_wino_path)path),
                   cohort_wino_path_name((cohort_wino_path)path));
    printf("winograd_paths_test: %d shape/path runs agree (direct convolution within 1e-5 of the terms' magnitude; paths bit for bit), %d skipped\n", checked, skipped);
    return 0;
}
