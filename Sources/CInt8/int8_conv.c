// Int8 convolutions (Sources/CohortNN/Layers/Int8Conv2d.swift), image by image: the patches of the
// quantised image as rows (row p, an output pixel, holds the C x kh x kw bytes under the kernel
// there, in the weight's [C][kh][kw] order), so the convolution is one product of rows x packed
// weights (cohort_int8_gemm); then the products back to floats in the image's [out][pixels] plane.
#include "int8_kernels.h"
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

void cohort_int8_dequantize_image(const int32_t *c, int pixels, int n, const int32_t *column_sums, uint8_t zero_point,
                                  float scale, const float *weight_scales, const float *bias, float *y) {
    for (int o = 0; o < n; o++) {
        const int32_t correction = (int32_t)zero_point * column_sums[o];
        const float s = scale * weight_scales[o];
        float *plane = y + (long)o * pixels;
        if (bias) {
            const float b = bias[o];
            for (int p = 0; p < pixels; p++) plane[p] = (float)(c[(long)p * n + o] - correction) * s + b;
        } else {
            for (int p = 0; p < pixels; p++) plane[p] = (float)(c[(long)p * n + o] - correction) * s;
        }
    }
}
