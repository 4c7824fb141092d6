// Int8 convolutions (Sources/CohortNN/Layers/Int8Conv2d.swift), image by image: the patches of the
// quantised image as rows (row p, an output pixel, holds the C x kh x kw bytes under the kernel
// there, in the weight's [C][kh][kw] order), so the convolution is one product of rows x packed
// weights (cohort_int8_gemm); then the products back to floats in the image's [out][pixels] plane,
// with the ReLU and the 2x2 max pooling that follow the layer fused (cohort_int8_conv_epilogue).
#include "int8_kernels.h"
#include "cohort_cpu.h"
#include <string.h>

// The float rounding of cohort_int8_dequantize, step by step: no FMA contraction.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

// A few bytes: a loop, not a call (memcpy of 3 bytes was a tenth of a small CNN's int8 inference).
static inline void copy_bytes(uint8_t *dst, const uint8_t *src, int n) {
    if (n > 16) { memcpy(dst, src, (size_t)n); return; }
    for (int i = 0; i < n; i++) dst[i] = src[i];
}

static inline void fill_bytes(uint8_t *dst, uint8_t value, int n) {
    for (int i = 0; i < n; i++) dst[i] = value;
}

void cohort_int8_im2row(const uint8_t *image, int channels, int height, int width, int kernel_h, int kernel_w,
                        int stride_h, int stride_w, int pad_h, int pad_w, uint8_t pad_value, uint8_t *rows, long ldr) {
    const int out_h = (height + 2 * pad_h - kernel_h) / stride_h + 1;
    const int out_w = (width + 2 * pad_w - kernel_w) / stride_w + 1;
    const long k = (long)channels * kernel_h * kernel_w;
    for (int oy = 0; oy < out_h; oy++) {
        const int y0 = oy * stride_h - pad_h;
        const int rows_inside = y0 >= 0 && y0 + kernel_h <= height;
        for (int ox = 0; ox < out_w; ox++) {
            uint8_t *row = rows + ((long)oy * out_w + ox) * ldr;
            const int x0 = ox * stride_w - pad_w;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            if (channels == 1 && kernel_h == 3 && kernel_w == 3 && ldr == 12 && rows_inside && x0 >= 0 && x0 + 3 <= width) {
                // One channel, 3x3 (a network's first layer), inside the image: the row's 9 bytes
                // and 3 zeros as one 8-byte and one 4-byte store, from three 8-byte loads.
                const uint8_t *src = image + (long)y0 * width + x0;
                uint64_t a, b, c;
                memcpy(&a, src, 8), memcpy(&b, src + width, 8), memcpy(&c, src + 2 * width, 8);
                const uint64_t lo = (a & 0xFFFFFFu) | (b & 0xFFFFFFu) << 24 | c << 48;
                const uint32_t hi = (uint32_t)(c >> 16) & 0xFFu;
                memcpy(row, &lo, 8), memcpy(row + 8, &hi, 4);
                continue;
            }
#endif
            if (rows_inside && x0 >= 0 && x0 + kernel_w <= width && kernel_w <= 8) {
                // The kernel inside the image: each (c, ky) run of kernel_w bytes as one 8-byte
                // copy; the bytes past the run are overwritten by the next run, the last ones by
                // the row's zeros or the next row (the slack the header asks for).
                uint8_t *dst = row;
                for (int c = 0; c < channels; c++) {
                    const uint8_t *src = image + ((long)c * height + y0) * width + x0;
                    for (int ky = 0; ky < kernel_h; ky++, src += width, dst += kernel_w) memcpy(dst, src, 8);
                }
            } else {
                // The kernel's columns inside the image: [kx_lo, kx_hi).
                const int kx_lo = x0 < 0 ? -x0 : 0;
                const int kx_hi = x0 + kernel_w > width ? width - x0 : kernel_w;
                for (int c = 0; c < channels; c++) {
                    for (int ky = 0; ky < kernel_h; ky++) {
                        uint8_t *dst = row + ((long)c * kernel_h + ky) * kernel_w;
                        const int iy = y0 + ky;
                        if (iy < 0 || iy >= height || kx_lo >= kx_hi) {
                            fill_bytes(dst, pad_value, kernel_w);
                            continue;
                        }
                        const uint8_t *src = image + ((long)c * height + iy) * width + (x0 + kx_lo);
                        fill_bytes(dst, pad_value, kx_lo);
                        copy_bytes(dst + kx_lo, src, kx_hi - kx_lo);
                        fill_bytes(dst + kx_hi, pad_value, kernel_w - kx_hi);
                    }
                }
            }
            fill_bytes(row + k, 0, (int)(ldr - k));
        }
    }
}

// Sixteen bytes, loaded and stored at any alignment.
typedef uint8_t v16u8 __attribute__((vector_size(16), aligned(1)));

// 16 channels x 16 pixels (r[c] = pixels p..p+15 of channel c) to 16 pixels x 16 channels:
// four rounds of interleaving the bytes of r[i] and r[i + 8] (a perfect shuffle) transpose them.
__attribute__((always_inline)) static inline void transpose16x16_bytes(v16u8 r[16]) {
    for (int round = 0; round < 4; round++) {
        v16u8 w[16];
        for (int i = 0; i < 8; i++) {
            w[2 * i] = __builtin_shufflevector(r[i], r[i + 8], 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
            w[2 * i + 1] = __builtin_shufflevector(r[i], r[i + 8], 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        }
        for (int i = 0; i < 16; i++) r[i] = w[i];
    }
}

void cohort_int8_pad_nhwc(const uint8_t *image, int channels, int height, int width, int pad_h, int pad_w, uint8_t pad_value,
                          uint8_t *out) {
    const int padded_w = width + 2 * pad_w;
    const long row = (long)padded_w * channels, plane = (long)height * width;
    fill_bytes(out, pad_value, (int)(row * pad_h));
    fill_bytes(out + row * (pad_h + height), pad_value, (int)(row * pad_h));
    for (int y = 0; y < height; y++) {
        uint8_t *dst = out + row * (pad_h + y);
        fill_bytes(dst, pad_value, pad_w * channels);
        fill_bytes(dst + (long)(pad_w + width) * channels, pad_value, pad_w * channels);
    }
    if (channels == 1) {
        for (int y = 0; y < height; y++) memcpy(out + row * (pad_h + y) + pad_w, image + (long)y * width, (size_t)width);
        return;
    }
    // 16 channels x 16 pixels (of the flattened image, across its rows) at a time, then what is
    // left. (y, x) follows pixel p without a division per pixel, which cost more than the transposes.
    const int c16 = channels / 16 * 16;
    const long p16 = plane / 16 * 16;
#define DST(y, x) (out + row * (pad_h + (y)) + (long)(pad_w + (x)) * channels)
    for (int c = 0; c < c16; c += 16) {
        int y = 0, x = 0;
        for (long p = 0; p < p16; p += 16) {
            v16u8 r[16];
            for (int i = 0; i < 16; i++) r[i] = *(const v16u8 *)(image + (c + i) * plane + p);
            transpose16x16_bytes(r);
            for (int j = 0; j < 16; j++) {
                *(v16u8 *)(DST(y, x) + c) = r[j];
                if (++x == width) x = 0, y++;
            }
        }
    }
    int y = 0, x = 0;
    for (long p = 0; p < plane; p++) {
        uint8_t *d = DST(y, x);
        for (int c = p < p16 ? c16 : 0; c < channels; c++) d[c] = image[c * plane + p];
        if (++x == width) x = 0, y++;
    }
#undef DST
}

// ---- The epilogue: int32 products to float planes, with ReLU and 2x2 max pooling fused ----------

// Eight floats, loaded and stored at any float's alignment.
typedef float v8f __attribute__((vector_size(32), aligned(4)));

// Rows r[0..7] (8 pixels x 8 channels) to columns (8 channels x 8 pixels), in registers.
__attribute__((always_inline)) static inline void transpose8x8(const v8f r[8], v8f out[8]) {
    v8f t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = __builtin_shufflevector(r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
        t[i + 1] = __builtin_shufflevector(r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = __builtin_shufflevector(t[i], t[i + 2], 0, 1, 8, 9, 4, 5, 12, 13);
        u[i + 1] = __builtin_shufflevector(t[i], t[i + 2], 2, 3, 10, 11, 6, 7, 14, 15);
        u[i + 2] = __builtin_shufflevector(t[i + 1], t[i + 3], 0, 1, 8, 9, 4, 5, 12, 13);
        u[i + 3] = __builtin_shufflevector(t[i + 1], t[i + 3], 2, 3, 10, 11, 6, 7, 14, 15);
    }
    for (int i = 0; i < 4; i++) {
        out[i] = __builtin_shufflevector(u[i], u[i + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        out[i + 4] = __builtin_shufflevector(u[i], u[i + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    }
}

// Swift's max(v, 0) (ReLU's forward): 0 where 0 >= v, else v (NaN stays NaN).
__attribute__((always_inline)) static inline float relu1(float v) { return 0 >= v ? 0 : v; }

// The max pool's scan order, (0,0), (0,1), (1,0), (1,1), moving only on "greater" (cohort_pool_max).
__attribute__((always_inline)) static inline float max4(float a, float b, float c, float d) {
    float m = a;
    if (b > m) m = b;
    if (c > m) m = c;
    if (d > m) m = d;
    return m;
}

__attribute__((always_inline)) static inline void epilogue_body(const int32_t *c, int out_h, int out_w, int n,
                                                                const int32_t *column_sums, uint8_t zero_point,
                                                                float scale, const float *weight_scales,
                                                                const float *bias, cohort_int8_epilogue epilogue,
                                                                float *scratch, float *y) {
    const int32_t zp = zero_point;
    long P;  // pixels per plane of y, laid out [P][n] in scratch first
    if (epilogue == COHORT_INT8_EPILOGUE_RELU_MAXPOOL2) {
        // Each 2x2 window of stride 2 (rows and columns past the last whole one are dropped):
        // its four pixels dequantised, each through ReLU, then their max.
        const int ph = (out_h - 2) / 2 + 1, pw = (out_w - 2) / 2 + 1;
        for (int py = 0; py < ph; py++)
            for (int px = 0; px < pw; px++) {
                const int32_t *a = c + ((long)2 * py * out_w + 2 * px) * n, *b = a + n, *d = a + (long)out_w * n, *e = d + n;
                float *out = scratch + ((long)py * pw + px) * n;
                for (long o = 0; o < n; o++) {
                    const int32_t correction = zp * column_sums[o];
                    const float s = scale * weight_scales[o], add = bias ? bias[o] : 0;
                    float va = (float)(a[o] - correction) * s, vb = (float)(b[o] - correction) * s;
                    float vd = (float)(d[o] - correction) * s, ve = (float)(e[o] - correction) * s;
                    if (bias) { va += add; vb += add; vd += add; ve += add; }
                    out[o] = max4(relu1(va), relu1(vb), relu1(vd), relu1(ve));
                }
            }
        P = (long)ph * pw;
    } else {
        // Along the channels (contiguous): the dequantiser's arithmetic, then ReLU if asked.
        P = (long)out_h * out_w;
        for (long p = 0; p < P; p++) {
            const int32_t *row = c + p * n;
            float *out = scratch + p * n;
            for (long o = 0; o < n; o++) {
                float v = (float)(row[o] - zp * column_sums[o]) * (scale * weight_scales[o]);
                out[o] = bias ? v + bias[o] : v;
            }
            if (epilogue == COHORT_INT8_EPILOGUE_RELU)
                for (long o = 0; o < n; o++) out[o] = relu1(out[o]);
        }
    }
    // Then [P][n] to the planes y [n][P], 8 x 8 at a time.
    const long p8 = P / 8 * 8, n8 = n / 8 * 8;
    for (long o = 0; o < n8; o += 8) {
        for (long p = 0; p < p8; p += 8) {
            v8f r[8], t[8];
            for (int i = 0; i < 8; i++) r[i] = *(const v8f *)(scratch + (p + i) * n + o);
            transpose8x8(r, t);
            for (int i = 0; i < 8; i++) *(v8f *)(y + (o + i) * P + p) = t[i];
        }
        for (long p = p8; p < P; p++)
            for (long i = 0; i < 8; i++) y[(o + i) * P + p] = scratch[p * n + o + i];
    }
    for (long o = n8; o < n; o++)
        for (long p = 0; p < P; p++) y[o * P + p] = scratch[p * n + o];
}

static void epilogue_portable(const int32_t *c, int out_h, int out_w, int n, const int32_t *column_sums, uint8_t zero_point,
                              float scale, const float *weight_scales, const float *bias, cohort_int8_epilogue epilogue,
                              float *scratch, float *y) {
    epilogue_body(c, out_h, out_w, n, column_sums, zero_point, scale, weight_scales, bias, epilogue, scratch, y);
}

#if COHORT_X86
__attribute__((target("avx2"))) static void epilogue_avx2(const int32_t *c, int out_h, int out_w, int n,
                                                         const int32_t *column_sums, uint8_t zero_point, float scale,
                                                         const float *weight_scales, const float *bias,
                                                         cohort_int8_epilogue epilogue, float *scratch, float *y) {
    epilogue_body(c, out_h, out_w, n, column_sums, zero_point, scale, weight_scales, bias, epilogue, scratch, y);
}
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) static void epilogue_avx512(
    const int32_t *c, int out_h, int out_w, int n, const int32_t *column_sums, uint8_t zero_point, float scale,
    const float *weight_scales, const float *bias, cohort_int8_epilogue epilogue, float *scratch, float *y) {
    epilogue_body(c, out_h, out_w, n, column_sums, zero_point, scale, weight_scales, bias, epilogue, scratch, y);
}
#endif

void cohort_int8_conv_epilogue(const int32_t *c, int out_h, int out_w, int n, const int32_t *column_sums,
                               uint8_t zero_point, float scale, const float *weight_scales, const float *bias,
                               cohort_int8_epilogue epilogue, float *scratch, float *y, cohort_int8_path path) {
#if COHORT_X86
    if (path == COHORT_INT8_AVX512_VNNI && (cohort_cpu_features() & COHORT_CPU_AVX512)) {
        epilogue_avx512(c, out_h, out_w, n, column_sums, zero_point, scale, weight_scales, bias, epilogue, scratch, y);
        return;
    }
    if (path != COHORT_INT8_PORTABLE && (cohort_cpu_features() & COHORT_CPU_AVX2)) {
        epilogue_avx2(c, out_h, out_w, n, column_sums, zero_point, scale, weight_scales, bias, epilogue, scratch, y);
        return;
    }
#endif
    (void)path;
    epilogue_portable(c, out_h, out_w, n, column_sums, zero_point, scale, weight_scales, bias, epilogue, scratch, y);
}
