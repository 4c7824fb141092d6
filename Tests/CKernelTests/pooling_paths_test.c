// The vector paths of max pooling give the portable loop's maxima and argmax indices, bit for bit:
// 2x2 windows of stride 2 (the vector paths) and other windows (which every path leaves to the C
// loops), on planes with odd sizes and ragged tails, ties, NaN (first and later in a window),
// infinities and signed zeros. A path the CPU (or COHORT_CPU) does not allow is reported as skipped.
// Exits 1 on the first mismatch.
//
// Built and run by launch/check-c (natively, and for aarch64 under qemu-aarch64).
#include "cohort_cpu.h"
#include "pooling_kernels.h"
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t next_random(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}

static float value(void) {
    uint32_t r = next_random();
    switch (r % 23) {
    case 0: return NAN;
    case 1: return INFINITY;
    case 2: return -INFINITY;
    case 3: return -0.0f;
    case 4: return 0.0f;
    case 5: return 1.0f;  // ties
    default: return (float)(int)(r % 2001 - 1000) / 250.0f;
    }
}

int main(void) {
    static const int shapes[][6] = {  // height, width, kernel h, kernel w, stride h, stride w
        {26, 26, 2, 2, 2, 2}, {11, 11, 2, 2, 2, 2}, {13, 35, 2, 2, 2, 2}, {2, 2, 2, 2, 2, 2}, {7, 17, 2, 2, 2, 2},
        {9, 9, 3, 3, 2, 2}, {8, 8, 3, 3, 1, 1}, {6, 9, 2, 3, 1, 2},
    };
    unsigned long checks = 0;
    int ran = 0;
    char summary[160] = "";
    for (int path = 1; path < COHORT_POOL_PATH_COUNT; path++) {
        const char *name = cohort_pool_path_name((cohort_pool_path)path);
        if (!cohort_pool_path_available((cohort_pool_path)path)) {
            strncat(summary, name, sizeof summary - strlen(summary) - 1);
            strncat(summary, " skipped (not on this CPU or above COHORT_CPU); ", sizeof summary - strlen(summary) - 1);
            continue;
        }
        ran++;
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            const int *g = shapes[s];
            const long planes = 5;
            const int out_h = (g[0] - g[2]) / g[4] + 1, out_w = (g[1] - g[3]) / g[5] + 1;
            const long in = planes * g[0] * g[1], out = planes * out_h * out_w;
            float *x = malloc(sizeof(float) * in), *ya = malloc(sizeof(float) * out), *yb = malloc(sizeof(float) * out);
            int32_t *aa = malloc(sizeof(int32_t) * out), *ab = malloc(sizeof(int32_t) * out);
            for (long i = 0; i < in; i++) x[i] = value();
            for (int with_argmax = 0; with_argmax < 2; with_argmax++) {
                memset(ya, 0x5a, sizeof(float) * out); memset(yb, 0xa5, sizeof(float) * out);
                memset(aa, 0x5a, sizeof(int32_t) * out); memset(ab, 0xa5, sizeof(int32_t) * out);
                cohort_maxpool_forward(x, planes, g[0], g[1], g[2], g[3], g[4], g[5], ya, with_argmax ? aa : NULL, (cohort_pool_path)path);
                cohort_maxpool_forward(x, planes, g[0], g[1], g[2], g[3], g[4], g[5], yb, with_argmax ? ab : NULL, COHORT_POOL_PORTABLE);
                for (long i = 0; i < out; i++) {
                    uint32_t u, v;
                    memcpy(&u, ya + i, 4); memcpy(&v, yb + i, 4);
                    if (u != v || (with_argmax && aa[i] != ab[i])) {
                        printf("pooling paths: MISMATCH on %s, %dx%d planes, window %dx%d stride %dx%d, output %ld: %08x at %d, portable %08x at %d\n",
                               name, g[0], g[1], g[2], g[3], g[4], g[5], i, u, with_argmax ? aa[i] : -1, v, with_argmax ? ab[i] : -1);
                        return 1;
                    }
                    checks++;
                }
            }
            free(x); free(ya); free(yb); free(aa); free(ab);
        }
    }
    printf("pooling paths: %lu outputs equal to the portable loop's on %d vector path(s); %s\n", checks, ran, summary[0] ? summary : "none skipped");
    return 0;
}
