// Max pooling forward (pooling_kernels.h): a portable loop for any window, and 2x2 / stride 2 (the
// shipped networks' pooling) on AVX2 and NEON, with the portable loop's comparisons in its order.
#include "pooling_kernels.h"
#include "cohort_cpu.h"
#if COHORT_X86
#include <immintrin.h>
#endif
#if COHORT_ARM
#include <arm_neon.h>
#endif

static const struct {
    const char *name;
    unsigned needs;
    int built;
} path_info[COHORT_POOL_PATH_COUNT] = {
    [COHORT_POOL_PORTABLE] = {"portable", 0, 1},
    [COHORT_POOL_AVX2] = {"avx2", COHORT_CPU_AVX2, COHORT_X86},
    [COHORT_POOL_NEON] = {"neon", COHORT_CPU_NEON, COHORT_ARM},
};

int cohort_pool_path_available(cohort_pool_path path) {
    if ((unsigned)path >= COHORT_POOL_PATH_COUNT || !path_info[path].built) return 0;
    return (cohort_cpu_features() & path_info[path].needs) == path_info[path].needs;
}

const char *cohort_pool_path_name(cohort_pool_path path) {
    return (unsigned)path < COHORT_POOL_PATH_COUNT ? path_info[path].name : "unknown";
}

cohort_pool_path cohort_pool_best_path(void) {
    if (cohort_pool_path_available(COHORT_POOL_AVX2)) return COHORT_POOL_AVX2;
    if (cohort_pool_path_available(COHORT_POOL_NEON)) return COHORT_POOL_NEON;
    return COHORT_POOL_PORTABLE;
}

// Outputs [ox0, out_w) of output row oy of one plane, any window.
static void row_portable(const float *src, int width, int kernel_h, int kernel_w, int stride_h, int stride_w, int oy,
                         int ox0, int out_w, float *dst, int32_t *at) {
    for (int ox = ox0; ox < out_w; ox++) {
        int first = oy * stride_h * width + ox * stride_w, where = first;
        float best = src[first];
        for (int ky = 0; ky < kernel_h; ky++) {
            int row = first + ky * width;
            for (int kx = 0; kx < kernel_w; kx++) {
                float v = src[row + kx];
                if (v > best) { best = v; where = row + kx; }
            }
        }
        dst[ox] = best;
        if (at) at[ox] = where;
    }
}

#if COHORT_X86
// Eight 2x2 windows from x (two rows, 16 floats each): the even and odd columns of each row
// (shuffle within 128-bit lanes, then the 64-bit quarters into order).
__attribute__((target("avx2"))) static inline void split_avx2(const float *p, __m256 *even, __m256 *odd) {
    __m256 a = _mm256_loadu_ps(p), b = _mm256_loadu_ps(p + 8);
    *even = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xD8));
    *odd = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0xDD)), 0xD8));
}

__attribute__((target("avx2"))) static void pool2x2_avx2(const float *x, long planes, int height, int width, float *y,
                                                        int32_t *argmax) {
    const int out_h = (height - 2) / 2 + 1, out_w = (width - 2) / 2 + 1, blocks = out_w / 8 * 8;
    const __m256i step = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
    for (long p = 0; p < planes; p++) {
        const float *src = x + p * (long)height * width;
        float *dst = y + p * (long)out_h * out_w;
        int32_t *at = argmax ? argmax + p * (long)out_h * out_w : 0;
        for (int oy = 0; oy < out_h; oy++) {
            const float *r0 = src + 2 * oy * width, *r1 = r0 + width;
            for (int ox = 0; ox < blocks; ox += 8) {
                __m256 e0, o0, e1, o1;
                split_avx2(r0 + 2 * ox, &e0, &o0);
                split_avx2(r1 + 2 * ox, &e1, &o1);
                // In scan order: (0,0), (0,1), (1,0), (1,1); a lane moves only on "greater".
                __m256 best = e0, m;
                m = _mm256_cmp_ps(o0, best, _CMP_GT_OQ); best = _mm256_blendv_ps(best, o0, m);
                __m256 m01 = m;
                m = _mm256_cmp_ps(e1, best, _CMP_GT_OQ); best = _mm256_blendv_ps(best, e1, m);
                __m256 m10 = m;
                m = _mm256_cmp_ps(o1, best, _CMP_GT_OQ); best = _mm256_blendv_ps(best, o1, m);
                _mm256_storeu_ps(dst + oy * out_w + ox, best);
                if (at) {
                    __m256i i00 = _mm256_add_epi32(_mm256_set1_epi32(2 * oy * width + 2 * ox), step);
                    __m256i one = _mm256_set1_epi32(1), down = _mm256_set1_epi32(width);
                    __m256i where = i00;
                    where = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(where), _mm256_castsi256_ps(_mm256_add_epi32(i00, one)), m01));
                    where = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(where), _mm256_castsi256_ps(_mm256_add_epi32(i00, down)), m10));
                    where = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(where),
                                                                 _mm256_castsi256_ps(_mm256_add_epi32(i00, _mm256_add_epi32(down, one))), m));
                    _mm256_storeu_si256((__m256i *)(at + oy * out_w + ox), where);
                }
            }
            row_portable(src, width, 2, 2, 2, 2, oy, blocks, out_w, dst + oy * out_w, at ? at + oy * out_w : 0);
        }
    }
}
#endif

#if COHORT_ARM
static void pool2x2_neon(const float *x, long planes, int height, int width, float *y, int32_t *argmax) {
    const int out_h = (height - 2) / 2 + 1, out_w = (width - 2) / 2 + 1, blocks = out_w / 4 * 4;
    const int32_t steps[4] = {0, 2, 4, 6};
    const int32x4_t step = vld1q_s32(steps);
    for (long p = 0; p < planes; p++) {
        const float *src = x + p * (long)height * width;
        float *dst = y + p * (long)out_h * out_w;
        int32_t *at = argmax ? argmax + p * (long)out_h * out_w : 0;
        for (int oy = 0; oy < out_h; oy++) {
            const float *r0 = src + 2 * oy * width, *r1 = r0 + width;
            for (int ox = 0; ox < blocks; ox += 4) {
                float32x4x2_t a = vld2q_f32(r0 + 2 * ox), b = vld2q_f32(r1 + 2 * ox);
                float32x4_t best = a.val[0];
                uint32x4_t m01 = vcgtq_f32(a.val[1], best); best = vbslq_f32(m01, a.val[1], best);
                uint32x4_t m10 = vcgtq_f32(b.val[0], best); best = vbslq_f32(m10, b.val[0], best);
                uint32x4_t m11 = vcgtq_f32(b.val[1], best); best = vbslq_f32(m11, b.val[1], best);
                vst1q_f32(dst + oy * out_w + ox, best);
                if (at) {
                    int32x4_t i00 = vaddq_s32(vdupq_n_s32(2 * oy * width + 2 * ox), step);
                    int32x4_t where = i00;
                    where = vbslq_s32(m01, vaddq_s32(i00, vdupq_n_s32(1)), where);
                    where = vbslq_s32(m10, vaddq_s32(i00, vdupq_n_s32(width)), where);
                    where = vbslq_s32(m11, vaddq_s32(i00, vdupq_n_s32(width + 1)), where);
                    vst1q_s32(at + oy * out_w + ox, where);
                }
            }
            row_portable(src, width, 2, 2, 2, 2, oy, blocks, out_w, dst + oy * out_w, at ? at + oy * out_w : 0);
        }
    }
}
#endif

void cohort_maxpool_forward(const float *x, long planes, int height, int width, int kernel_h, int kernel_w, int stride_h,
                            int stride_w, float *y, int32_t *argmax, cohort_pool_path path) {
    const int pair = kernel_h == 2 && kernel_w == 2 && stride_h == 2 && stride_w == 2;
#if COHORT_X86
    if (pair && path == COHORT_POOL_AVX2 && cohort_pool_path_available(path)) {
        pool2x2_avx2(x, planes, height, width, y, argmax);
        return;
    }
#endif
#if COHORT_ARM
    if (pair && path == COHORT_POOL_NEON && cohort_pool_path_available(path)) {
        pool2x2_neon(x, planes, height, width, y, argmax);
        return;
    }
#endif
    (void)pair;
    const int out_h = (height - kernel_h) / stride_h + 1, out_w = (width - kernel_w) / stride_w + 1;
    for (long p = 0; p < planes; p++) {
        const float *src = x + p * (long)height * width;
        float *dst = y + p * (long)out_h * out_w;
        int32_t *at = argmax ? argmax + p * (long)out_h * out_w : 0;
        for (int oy = 0; oy < out_h; oy++)
            row_portable(src, width, kernel_h, kernel_w, stride_h, stride_w, oy, 0, out_w, dst + oy * out_w, at ? at + oy * out_w : 0);
    }
}
