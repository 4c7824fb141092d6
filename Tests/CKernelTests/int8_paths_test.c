// Every int8 path this CPU can run (within COHORT_CPU) against the portable one, bit for bit:
// quantised bytes, scales and zero points, packed gemm int32s, dequantised floats; the portable
// gemm against a naive int64 loop; the dequantiser against the header's formula. Exits 0 when
// all agree, 1 at the first mismatch (printed), so it can run in CI:
//   gcc -O2 -Wall -Wextra -Werror -ISources/CInt8/include -ISources/CCPU/include
//       Tests/CKernelTests/int8_paths_test.c Sources/CInt8/int8_kernels.c Sources/CCPU/cohort_cpu.c -lm
#include "cohort_cpu.h"
#include "int8_kernels.h"
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t next_u32(void) {  // xorshift64*: reproducible, no libc state
    rng ^= rng >> 12, rng ^= rng << 25, rng ^= rng >> 27;
    return (uint32_t)((rng * 0x2545f4914f6cdd1dull) >> 32);
}
static float uniform(float lo, float hi) { return lo + (hi - lo) * (float)(next_u32() >> 8) / 16777216.0f; }

static long checks;
static const char *current;  // the path under test, for messages

static void fail(const char *what, long m, long k, long n, long index, const char *detail) {
    printf("MISMATCH path %s: %s, shape m=%ld k=%ld n=%ld, index %ld: %s\n", current, what, m, k, n, index, detail);
    exit(1);
}

// Zeroed memory (so every byte the kernels read is defined), or exit.
static void *alloc(size_t bytes) {
    void *p = calloc(bytes ? bytes : 1, 1);
    if (!p) {
        printf("out of memory\n");
        exit(1);
    }
    return p;
}

static long round4(long v) { return (v + 3) / 4 * 4; }

// What cohort_int8_path_available must say, from the header's table.
static unsigned path_needs(cohort_int8_path p) {
    switch (p) {
    case COHORT_INT8_AVX2: return COHORT_CPU_AVX2;
    case COHORT_INT8_AVX_VNNI: return COHORT_CPU_AVX2 | COHORT_CPU_AVX_VNNI;
    case COHORT_INT8_AVX512_VNNI: return COHORT_CPU_AVX512 | COHORT_CPU_AVX512_VNNI;
    case COHORT_INT8_NEON: return COHORT_CPU_NEON;
    case COHORT_INT8_DOTPROD: return COHORT_CPU_NEON | COHORT_CPU_DOTPROD;
    default: return 0;
    }
}
#if defined(__aarch64__)
enum { ARM_BUILD = 1, X86_BUILD = 0 };
#elif defined(__x86_64__) || defined(__i386__)
enum { ARM_BUILD = 0, X86_BUILD = 1 };
#else
enum { ARM_BUILD = 0, X86_BUILD = 0 };
#endif
static int path_is_arm(cohort_int8_path p) { return p == COHORT_INT8_NEON || p == COHORT_INT8_DOTPROD; }

// ---- Quantiser -----------------------------------------------------------------------------------

enum { ROW_KINDS = 12 };

// Fills one row with the kind'th adversarial pattern.
static void fill_row(float *x, long k, int kind) {
    switch (kind) {
    case 0:  // ordinary mixed signs
        for (long i = 0; i < k; i++) x[i] = uniform(-3, 5);
        break;
    case 1:  // all zero, with a negative zero: hi == lo, scale 1
        for (long i = 0; i < k; i++) x[i] = i % 3 ? 0.0f : -0.0f;
        break;
    case 2:  // all negative
        for (long i = 0; i < k; i++) x[i] = uniform(-7, -0.001f);
        break;
    case 3: {  // exact ties: the scale a power of two, values on half-integer quotients
        float s = ldexpf(1, (int)(next_u32() % 40) - 20), zero = (float)(next_u32() % 256);
        for (long i = 0; i < k; i++) x[i] = ((float)(next_u32() % 255) - zero + (i % 2 ? 0.5f : 0)) * s;
        x[0] = -zero * s, x[k - 1] = (255 - zero) * s;  // pin the range so the scale is exactly s
        break;
    }
    case 4: {  // near ties for a non-power-of-two scale, where a reciprocal's error would show
        float hi = uniform(0.5f, 9), lo = -uniform(0.5f, 9), s = (hi - lo) / 255.0f;
        for (long i = 0; i < k; i++) {
            float v = (floorf(lo / s) + (float)(next_u32() % 255) + 0.5f) * s;
            for (int step = (int)(next_u32() % 7) - 3; step; step += step > 0 ? -1 : 1)
                v = nextafterf(v, step > 0 ? INFINITY : -INFINITY);
            x[i] = v < lo ? lo : (v > hi ? hi : v);
        }
        x[0] = lo, x[k - 1] = hi;
        break;
    }
    case 5:  // NaNs among ordinary values
        for (long i = 0; i < k; i++) x[i] = next_u32() % 4 ? uniform(-2, 2) : NAN;
        break;
    case 6: {  // infinities (the scale becomes inf)
        for (long i = 0; i < k; i++) x[i] = uniform(-2, 2);
        long at = next_u32() % k;
        x[at] = next_u32() % 2 ? INFINITY : -INFINITY;
        break;
    }
    case 7:  // tiny: denormals only (the scale underflows to 0 or loses precision)
        for (long i = 0; i < k; i++) x[i] = ldexpf(uniform(-1, 1), -126 - (int)(next_u32() % 20));
        break;
    case 8:  // huge: hi - lo may overflow
        for (long i = 0; i < k; i++) x[i] = uniform(-3.4e38f, 3.4e38f);
        break;
    case 9: {  // scales either side of the smallest normal: a huge reciprocal, or a denormal scale
        float magnitude = next_u32() % 2 ? 1e-35f : 1e-36f;
        for (long i = 0; i < k; i++) x[i] = uniform(-1, 1) * magnitude;
        break;
    }
    case 10:  // only NaN: the range stays [0, 0]
        for (long i = 0; i < k; i++) x[i] = NAN;
        break;
    default:  // all positive, one large outlier
        for (long i = 0; i < k; i++) x[i] = uniform(0.001f, 1);
        x[next_u32() % k] = 1e6f;
        break;
    }
}

static void check_quantizer(cohort_int8_path path, long rows, long k) {
    long ldx = k + (long)(next_u32() % 3), ldq = round4(k) + 4 * (long)(next_u32() % 2);
    float *x = alloc(sizeof(float) * (size_t)(rows * ldx));
    uint8_t *q0 = alloc((size_t)(rows * ldq)), *q1 = alloc((size_t)(rows * ldq));
    float *s0 = alloc(sizeof(float) * (size_t)rows), *s1 = alloc(sizeof(float) * (size_t)rows);
    uint8_t *z0 = alloc((size_t)rows), *z1 = alloc((size_t)rows);
    for (long r = 0; r < rows; r++) fill_row(x + r * ldx, k, (int)(next_u32() % ROW_KINDS));
    memset(q0, 0xa5, (size_t)(rows * ldq));  // padding must come out 0
    memset(q1, 0x5a, (size_t)(rows * ldq));
    cohort_int8_quantize_rows(x, rows, k, ldx, q0, ldq, s0, z0, COHORT_INT8_PORTABLE);
    cohort_int8_quantize_rows(x, rows, k, ldx, q1, ldq, s1, z1, path);
    char detail[160];
    for (long r = 0; r < rows; r++) {
        if (memcmp(&s0[r], &s1[r], sizeof(float))) {
            snprintf(detail, sizeof detail, "scale %a, portable %a", (double)s1[r], (double)s0[r]);
            fail("quantize scale", rows, k, 0, r, detail);
        }
        if (z0[r] != z1[r]) {
            snprintf(detail, sizeof detail, "zero point %u, portable %u", z1[r], z0[r]);
            fail("quantize zero point", rows, k, 0, r, detail);
        }
        for (long i = 0; i < ldq; i++) {
            long at = r * ldq + i;
            if (i >= k && q0[at]) fail("portable quantize padding", rows, k, 0, at, "not 0");
            if (q0[at] != q1[at]) {
                snprintf(detail, sizeof detail, "x = %a (scale %a, zero %u): byte %u, portable %u", (double)x[r * ldx + i],
                         (double)s0[r], z0[r], q1[at], q0[at]);
                fail("quantize bytes", rows, k, 0, at, detail);
            }
        }
    }
    checks += 3 * rows;
    free(x), free(q0), free(q1), free(s0), free(s1), free(z0), free(z1);
}

// A few rows whose results the header's rule fixes, against the portable path.
static void check_rule(void) {
    current = "portable";
    // Scales that are powers of two, so every quotient below is exact (two are ties).
    const float rows[4][4] = {{-8, 7.9375f, 0.03125f, 0.09375f}, {0, 0, -0.0f, 0}, {1, 3.984375f, 0.5f, NAN},
                              {-7.96875f, -1, -0.5f, -0.015625f}};
    const uint8_t want_q[4][4] = {{0, 255, 128, 130}, {0, 0, 0, 0}, {64, 255, 32, 0}, {0, 223, 239, 255}};
    const float want_scale[4] = {0.0625f, 1, 1.0f / 64, 1.0f / 32};
    const uint8_t want_zero[4] = {128, 0, 0, 255};
    uint8_t q[4][4];
    float scales[4];
    uint8_t zeros[4];
    cohort_int8_quantize_rows(&rows[0][0], 4, 4, 4, &q[0][0], 4, scales, zeros, COHORT_INT8_PORTABLE);
    for (int r = 0; r < 4; r++) {
        if (scales[r] != want_scale[r] || zeros[r] != want_zero[r]) fail("rule: scale or zero point", 4, 4, 0, r, "");
        for (int i = 0; i < 4; i++)
            if (q[r][i] != want_q[r][i]) fail("rule: byte", 4, 4, 0, r * 4 + i, "");
    }
    checks += 4;
}

// ---- GEMM and dequantiser ------------------------------------------------------------------------

enum { WEIGHTS_RANDOM, WEIGHTS_MIN, WEIGHTS_MAX, WEIGHTS_ALTERNATING };

// The portable gemm against int64 sums (once per shape), then `path` against the portable gemm,
// then the dequantised floats of both.
static void check_gemm(cohort_int8_path path, long m, long k, long n, int weights) {
    long k4 = round4(k), lda = k4 + 4 * (long)(next_u32() % 2), ldc = n + (long)(next_u32() % 3);
    uint8_t *a = alloc((size_t)(m * lda));
    int8_t *w = alloc((size_t)(n * k));
    int saturate = weights != WEIGHTS_RANDOM;  // extremes against 255 activations
    for (long i = 0; i < m; i++)
        for (long t = 0; t < k; t++) a[i * lda + t] = saturate ? 255 : (uint8_t)next_u32();
    for (long j = 0; j < n * k; j++)
        w[j] = weights == WEIGHTS_MIN ? -128
             : weights == WEIGHTS_MAX ? 127
             : weights == WEIGHTS_ALTERNATING ? (j % 2 ? 127 : -128)
                                             : (int8_t)next_u32();
    long size0 = cohort_int8_packed_size((int)n, (int)k, COHORT_INT8_PORTABLE);
    long size1 = cohort_int8_packed_size((int)n, (int)k, path);
    int8_t *p0 = alloc((size_t)size0), *p1 = alloc((size_t)size1);
    int32_t *sums0 = alloc(sizeof(int32_t) * (size_t)n), *sums1 = alloc(sizeof(int32_t) * (size_t)n);
    cohort_int8_pack(w, (int)n, (int)k, p0, sums0, COHORT_INT8_PORTABLE);
    cohort_int8_pack(w, (int)n, (int)k, p1, sums1, path);
    int32_t *c0 = alloc(sizeof(int32_t) * (size_t)(m * ldc)), *c1 = alloc(sizeof(int32_t) * (size_t)(m * ldc));
    for (long i = 0; i < m * ldc; i++) c0[i] = c1[i] = 0x7eadbeef;  // columns n..ldc-1 must stay so
    cohort_int8_gemm(a, (int)m, (int)k, lda, p0, (int)n, c0, ldc, COHORT_INT8_PORTABLE);
    cohort_int8_gemm(a, (int)m, (int)k, lda, p1, (int)n, c1, ldc, path);
    char detail[160];
    for (long j = 0; j < n; j++) {
        if (sums0[j] != sums1[j]) {
            snprintf(detail, sizeof detail, "column sum %d, portable %d", sums1[j], sums0[j]);
            fail("pack column sums", m, k, n, j, detail);
        }
    }
    for (long i = 0; i < m; i++)
        for (long j = 0; j < ldc; j++) {
            long at = i * ldc + j;
            if (j >= n) {
                if (c1[at] != 0x7eadbeef) fail("gemm wrote past n", m, k, n, at, "");
                continue;
            }
            if (path == COHORT_INT8_PORTABLE) {
                int64_t want = 0;
                for (long t = 0; t < k; t++) want += (int64_t)a[i * lda + t] * w[j * k + t];
                if (want != c0[at]) {
                    snprintf(detail, sizeof detail, "portable %d, int64 sum %lld", c0[at], (long long)want);
                    fail("portable gemm", m, k, n, at, detail);
                }
            }
            if (c0[at] != c1[at]) {
                snprintf(detail, sizeof detail, "c %d, portable %d", c1[at], c0[at]);
                fail("gemm", m, k, n, at, detail);
            }
        }
    checks += 2;

    // The dequantiser against the formula, computed here: (float)(c - zp * sum) times the
    // float product of the scales, rounded (volatile: no FMA), plus the bias.
    int32_t *cd = alloc(sizeof(int32_t) * (size_t)(m * n));
    float *y = alloc(sizeof(float) * (size_t)(m * n)), *scales = alloc(sizeof(float) * (size_t)m);
    float *wscales = alloc(sizeof(float) * (size_t)n), *bias = alloc(sizeof(float) * (size_t)n);
    uint8_t *zeros = alloc((size_t)m);
    for (long i = 0; i < m; i++) {
        zeros[i] = (uint8_t)next_u32();
        int tiny = next_u32() % 8 == 0, exponent = -(int)(next_u32() % 140);
        scales[i] = tiny ? ldexpf(uniform(0.5f, 1), exponent) : uniform(1e-4f, 0.1f);
        for (long j = 0; j < n; j++) cd[i * n + j] = c1[i * ldc + j];
    }
    for (long j = 0; j < n; j++) wscales[j] = uniform(1e-5f, 0.05f), bias[j] = uniform(-1, 1);
    for (int with_bias = 0; with_bias < 2; with_bias++) {
        cohort_int8_dequantize(cd, (int)m, (int)n, sums1, zeros, scales, wscales, with_bias ? bias : NULL, y);
        for (long i = 0; i < m; i++)
            for (long j = 0; j < n; j++) {
                volatile float product = (float)(cd[i * n + j] - (int32_t)zeros[i] * sums1[j]) * (scales[i] * wscales[j]);
                float want = with_bias ? product + bias[j] : product;
                if (memcmp(&want, &y[i * n + j], sizeof want)) {
                    snprintf(detail, sizeof detail, "y %a, formula %a", (double)y[i * n + j], (double)want);
                    fail(with_bias ? "dequantize with bias" : "dequantize", m, k, n, i * n + j, detail);
                }
            }
        checks++;
    }
    free(a), free(w), free(p0), free(p1), free(sums0), free(sums1), free(c0), free(c1);
    free(cd), free(y), free(scales), free(wscales), free(bias), free(zeros);
}

// Quantise, multiply and dequantise through `path` and through the portable path: the same floats.
static void check_layer(cohort_int8_path path, long m, long k, long n) {
    long ldq = round4(k);
    float *x = alloc(sizeof(float) * (size_t)(m * k)), *y0 = alloc(sizeof(float) * (size_t)(m * n));
    float *y1 = alloc(sizeof(float) * (size_t)(m * n)), *wscales = alloc(sizeof(float) * (size_t)n);
    int8_t *w = alloc((size_t)(n * k));
    for (long i = 0; i < m; i++) fill_row(x + i * k, k, (int)(next_u32() % ROW_KINDS));
    for (long j = 0; j < n * k; j++) w[j] = (int8_t)next_u32();
    for (long j = 0; j < n; j++) wscales[j] = uniform(1e-3f, 1e-2f);
    float *ys[2] = {y0, y1};
    cohort_int8_path paths[2] = {COHORT_INT8_PORTABLE, path};
    for (int p = 0; p < 2; p++) {
        uint8_t *q = alloc((size_t)(m * ldq)), *zeros = alloc((size_t)m);
        float *scales = alloc(sizeof(float) * (size_t)m);
        int8_t *packed = alloc((size_t)cohort_int8_packed_size((int)n, (int)k, paths[p]));
        int32_t *sums = alloc(sizeof(int32_t) * (size_t)n), *c = alloc(sizeof(int32_t) * (size_t)(m * n));
        cohort_int8_quantize_rows(x, m, k, k, q, ldq, scales, zeros, paths[p]);
        cohort_int8_pack(w, (int)n, (int)k, packed, sums, paths[p]);
        cohort_int8_gemm(q, (int)m, (int)k, ldq, packed, (int)n, c, n, paths[p]);
        cohort_int8_dequantize(c, (int)m, (int)n, sums, zeros, scales, wscales, NULL, ys[p]);
        free(q), free(zeros), free(scales), free(packed), free(sums), free(c);
    }
    for (long i = 0; i < m * n; i++)
        if (memcmp(&y0[i], &y1[i], sizeof(float)) && !(isnan(y0[i]) && isnan(y1[i]))) {
            char detail[96];
            snprintf(detail, sizeof detail, "y %a, portable %a", (double)y1[i], (double)y0[i]);
            fail("layer", m, k, n, i, detail);
        }
    checks++;
    free(x), free(y0), free(y1), free(wscales), free(w);
}

// The convolution epilogue (Sources/CInt8/int8_conv.c) against its formula, computed here one
// value at a time: dequantise (the product rounded before the bias is added: `volatile` keeps the
// compiler from fusing them, as aarch64's GCC would), ReLU as max(v, 0), then the 2x2 stride-2
// max pool in scan order; the bits must be equal.
static void check_epilogue(cohort_int8_path path, int out_h, int out_w, int n, cohort_int8_epilogue epilogue, int with_bias) {
    const long pixels = (long)out_h * out_w;
    int32_t *c = alloc(sizeof(int32_t) * pixels * n), *sums = alloc(sizeof(int32_t) * n);
    float *ws = alloc(sizeof(float) * n), *bias = alloc(sizeof(float) * n);
    float *scratch = alloc(sizeof(float) * pixels * n), *y = alloc(sizeof(float) * pixels * n), *v = alloc(sizeof(float) * pixels * n);
    const uint8_t zp = (uint8_t)(next_u32() % 256);
    const float scale = uniform(0.001f, 0.05f);
    for (long i = 0; i < pixels * n; i++) c[i] = (int32_t)(next_u32() % 200001) - 100000;
    for (int o = 0; o < n; o++) sums[o] = (int32_t)(next_u32() % 2001) - 1000, ws[o] = uniform(0.001f, 0.02f), bias[o] = uniform(-3, 3);
    cohort_int8_conv_epilogue(c, out_h, out_w, n, sums, zp, scale, ws, with_bias ? bias : NULL, epilogue, scratch, y, path);
    for (long p = 0; p < pixels; p++)
        for (int o = 0; o < n; o++) {
            volatile float product = (float)(c[p * n + o] - (int32_t)zp * sums[o]) * (scale * ws[o]);
            float value = with_bias ? product + bias[o] : product;
            if (epilogue != COHORT_INT8_EPILOGUE_NONE) value = 0 >= value ? 0 : value;
            v[(long)o * pixels + p] = value;
        }
    const int ph = epilogue == COHORT_INT8_EPILOGUE_RELU_MAXPOOL2 ? (out_h - 2) / 2 + 1 : out_h;
    const int pw = epilogue == COHORT_INT8_EPILOGUE_RELU_MAXPOOL2 ? (out_w - 2) / 2 + 1 : out_w;
    for (int o = 0; o < n; o++)
        for (int py = 0; py < ph; py++)
            for (int px = 0; px < pw; px++) {
                const float *plane = v + (long)o * pixels;
                float expected = plane[py * out_w + px];
                if (epilogue == COHORT_INT8_EPILOGUE_RELU_MAXPOOL2) {
                    const float *w0 = plane + 2 * py * out_w + 2 * px, *w1 = w0 + out_w;
                    expected = w0[0];
                    if (w0[1] > expected) expected = w0[1];
                    if (w1[0] > expected) expected = w1[0];
                    if (w1[1] > expected) expected = w1[1];
                }
                const float got = y[((long)o * ph + py) * pw + px];
                if (memcmp(&got, &expected, sizeof got) != 0) {
                    char detail[120];
                    snprintf(detail, sizeof detail, "epilogue %d, bias %d: %.9g, the formula %.9g", (int)epilogue, with_bias, got, expected);
                    fail("conv epilogue", out_h, out_w, n, ((long)o * ph + py) * pw + px, detail);
                }
            }
    checks++;
    free(c), free(sums), free(ws), free(bias), free(scratch), free(y), free(v);
}

// An image in nhwc with its border (`cohort_int8_pad_nhwc`), byte by byte.
static void check_pad_nhwc(int channels, int height, int width, int pad) {
    const long plane = (long)height * width, hp = height + 2 * pad, wp = width + 2 * pad;
    uint8_t *image = alloc((size_t)(channels * plane)), *out = alloc((size_t)(hp * wp * channels));
    for (long i = 0; i < channels * plane; i++) image[i] = (uint8_t)next_u32();
    const uint8_t border = (uint8_t)next_u32();
    cohort_int8_pad_nhwc(image, channels, height, width, pad, pad, border, out);
    for (long y = 0; y < hp; y++)
        for (long x = 0; x < wp; x++)
            for (int c = 0; c < channels; c++) {
                const long iy = y - pad, ix = x - pad;
                const uint8_t expected = iy >= 0 && iy < height && ix >= 0 && ix < width ? image[c * plane + iy * width + ix] : border;
                if (out[(y * wp + x) * channels + c] != expected) fail("pad nhwc", height, width, channels, (y * wp + x) * channels + c, "byte out of place");
            }
    checks++;
    free(image), free(out);
}

static void check_path(cohort_int8_path path) {
    current = cohort_int8_path_name(path);
    static const long ms[] = {1, 2, 3, 5, 7, 17}, ks[] = {1, 3, 4, 5, 31, 100, 784};
    static const long ns[] = {1, 7, 8, 9, 15, 16, 17, 33, 100, 512};
    // Larger shapes: several row blocks, k blocks and output panels, with every kind of edge.
    static const long big[][3] = {{64, 784, 512}, {150, 784, 33}, {73, 600, 17}, {256, 1000, 40}, {79, 260, 100}};
    for (unsigned a = 0; a < sizeof ms / sizeof ms[0]; a++)
        for (unsigned b = 0; b < sizeof ks / sizeof ks[0]; b++) {
            check_quantizer(path, ms[a], ks[b]);
            for (unsigned c = 0; c < sizeof ns / sizeof ns[0]; c++) check_gemm(path, ms[a], ks[b], ns[c], WEIGHTS_RANDOM);
        }
    for (unsigned s = 0; s < sizeof big / sizeof big[0]; s++) {
        check_quantizer(path, big[s][0], big[s][1]);
        check_gemm(path, big[s][0], big[s][1], big[s][2], WEIGHTS_RANDOM);
        check_layer(path, big[s][0], big[s][1], big[s][2]);
    }
    for (int weights = WEIGHTS_MIN; weights <= WEIGHTS_ALTERNATING; weights++) {
        check_gemm(path, 7, 784, 33, weights);
        check_gemm(path, 3, 4000, 17, weights);
    }
    // Every k % 8 of the AVX2 quantiser's masked tail, blocks of 1..9 rows, and every output count
    // of a 4-output quarter of the AVX2 tile (n = 1..17), with 1 and more than 6 rows.
    for (long k = 97; k <= 104; k++) {
        for (long rows = 1; rows <= 9; rows++) check_quantizer(path, rows, k);
        for (long n = 1; n <= 17; n++) {
            check_gemm(path, 1, k, n, WEIGHTS_RANDOM);
            check_gemm(path, 7, k, n, WEIGHTS_RANDOM);
        }
        check_layer(path, 13, k, 10);
    }
    // Random shapes (drawn one by one: argument order is unspecified, and runs should repeat).
    for (int i = 0; i < 200; i++) {
        long rows = 1 + next_u32() % 9, k = 1 + next_u32() % 300;
        check_quantizer(path, rows, k);
    }
    for (int i = 0; i < 60; i++) {
        long m = 1 + next_u32() % 40, k = 1 + next_u32() % 300, n = 1 + next_u32() % 80;
        check_gemm(path, m, k, n, WEIGHTS_RANDOM);
    }
    // The convolution epilogue: whole and ragged 8 x 8 blocks, odd sizes the pooling cuts, with and
    // without bias; and the nhwc padding in and out of its 16 x 16 blocks.
    static const int shapes[][3] = {{26, 26, 32}, {11, 11, 64}, {13, 13, 16}, {5, 7, 3}, {2, 2, 9}, {3, 9, 17}, {1, 5, 8}};
    for (unsigned s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int e = COHORT_INT8_EPILOGUE_NONE; e <= COHORT_INT8_EPILOGUE_RELU_MAXPOOL2; e++) {
            if (e == COHORT_INT8_EPILOGUE_RELU_MAXPOOL2 && (shapes[s][0] < 2 || shapes[s][1] < 2)) continue;
            for (int with_bias = 0; with_bias <= 1; with_bias++)
                check_epilogue(path, shapes[s][0], shapes[s][1], shapes[s][2], (cohort_int8_epilogue)e, with_bias);
        }
    static const int images[][4] = {{32, 13, 13, 0}, {20, 5, 7, 1}, {16, 2, 9, 2}, {1, 28, 28, 1}, {3, 4, 4, 1}, {48, 7, 7, 1}};
    for (unsigned s = 0; s < sizeof images / sizeof images[0]; s++) check_pad_nhwc(images[s][0], images[s][1], images[s][2], images[s][3]);
}

int main(void) {
    unsigned features = cohort_cpu_features(), detected = cohort_cpu_detected();
    printf("int8 paths: cpu features 0x%x (detected 0x%x), best path %s\n", features, detected,
           cohort_int8_path_name(cohort_int8_best_path()));
    check_rule();
    char ran[256] = "";
    for (int p = 0; p < COHORT_INT8_PATH_COUNT; p++) {
        cohort_int8_path path = (cohort_int8_path)p;
        unsigned needs = path_needs(path);
        int built = path == COHORT_INT8_PORTABLE || (path_is_arm(path) ? ARM_BUILD : X86_BUILD);
        int expected = built && (features & needs) == needs;
        if (cohort_int8_path_available(path) != expected) {
            printf("MISMATCH: cohort_int8_path_available(%s) = %d, the header's table says %d\n",
                   cohort_int8_path_name(path), cohort_int8_path_available(path), expected);
            return 1;
        }
        if (!expected) {
            char why[160] = "CPU lacks";
            if (!built) {
                snprintf(why, sizeof why, "not built for this architecture");
            } else if ((detected & needs) == needs) {
                snprintf(why, sizeof why, "capped by COHORT_CPU");
            } else {
                for (unsigned bit = 1; bit; bit <<= 1)
                    if ((needs & bit) && !(detected & bit) && cohort_cpu_feature_name(bit))
                        snprintf(why + strlen(why), sizeof why - strlen(why), " %s", cohort_cpu_feature_name(bit));
            }
            printf("skipped %s: %s\n", cohort_int8_path_name(path), why);
            continue;
        }
        long before = checks;
        check_path(path);
        printf("ran %s: %ld checks\n", cohort_int8_path_name(path), checks - before);
        snprintf(ran + strlen(ran), sizeof ran - strlen(ran), "%s%s", *ran ? "," : "", cohort_int8_path_name(path));
    }
    static const cohort_int8_path fastest_first[] = {COHORT_INT8_AVX512_VNNI, COHORT_INT8_AVX_VNNI, COHORT_INT8_AVX2,
                                                     COHORT_INT8_DOTPROD, COHORT_INT8_NEON, COHORT_INT8_PORTABLE};
    unsigned f = 0;
    while (!cohort_int8_path_available(fastest_first[f])) f++;
    if (cohort_int8_best_path() != fastest_first[f]) {
        printf("MISMATCH: best path %s, the fastest available is %s\n", cohort_int8_path_name(cohort_int8_best_path()),
               cohort_int8_path_name(fastest_first[f]));
        return 1;
    }
    printf("int8 paths: %ld checks on paths %s agree\n", checks, ran);
    return 0;
}
