#include "cohort_bf16.h"
#include "cohort_cpu.h"
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

// The Swift side (Precision.swift) still asks this by name; the answer is now the shared probe's,
// so COHORT_CPU caps it like every other kernel family.
int cohort_cpu_has_avx512_bf16(void) {
    return (cohort_cpu_features() & COHORT_CPU_AVX512_BF16) != 0;
}

static inline uint16_t round_one(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);  // quiet NaN
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

void cohort_f32_to_bf16_portable(const float *src, uint16_t *dst, size_t count) {
    for (size_t i = 0; i < count; i++) dst[i] = round_one(src[i]);
}

#if defined(__x86_64__)
// vcvtne2ps2bf16 treats fp32 subnormal inputs as zero (Intel SDM); the portable loop rounds them.
// Lanes with a subnormal input (rare: one kortest per 16 floats) are redone by round_one.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
static void fix_subnormals(const float *src, uint16_t *dst, size_t count) {
    size_t i = 0;
    const __m512i exp = _mm512_set1_epi32(0x7f800000), mant = _mm512_set1_epi32(0x007fffff);
    for (; i + 16 <= count; i += 16) {
        __m512i u = _mm512_loadu_si512((const void *)(src + i));
        __mmask16 k = _mm512_testn_epi32_mask(u, exp) & _mm512_test_epi32_mask(u, mant);
        while (k) {
            unsigned j = (unsigned)__builtin_ctz(k);
            dst[i + j] = round_one(src[i + j]);
            k &= (__mmask16)(k - 1);
        }
    }
    for (; i < count; i++) dst[i] = round_one(src[i]);
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
static void f32_to_bf16_avx512(const float *src, uint16_t *dst, size_t count) {
    size_t i = 0;
    for (; i + 32 <= count; i += 32) {
        __m512bh r = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(src + i + 16), _mm512_loadu_ps(src + i));
        _mm512_storeu_si512((void *)(dst + i), (__m512i)r);
    }
    if (i < count) {
        __mmask16 m = (__mmask16)((1u << (count - i < 16 ? count - i : 16)) - 1);
        __m256bh lo = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, src + i));
        _mm256_mask_storeu_epi16(dst + i, m, (__m256i)lo);
        i += 16;
        if (i < count) {
            __mmask16 m2 = (__mmask16)((1u << (count - i)) - 1);
            __m256bh hi = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m2, src + i));
            _mm256_mask_storeu_epi16(dst + i, m2, (__m256i)hi);
        }
    }
    fix_subnormals(src, dst, count);
}
#elif defined(__aarch64__)
// round_one on four lanes by integer arithmetic (BFCVT would need FEAT_BF16 and depends on FPCR).
static inline uint16x4_t bf16_of_4(float32x4_t v) {
    uint32x4_t u = vreinterpretq_u32_f32(v);
    uint32x4_t lsb = vandq_u32(vshrq_n_u32(u, 16), vdupq_n_u32(1));
    uint32x4_t rounded = vshrq_n_u32(vaddq_u32(u, vaddq_u32(vdupq_n_u32(0x7fff), lsb)), 16);
    uint32x4_t nan = vcgtq_u32(vandq_u32(u, vdupq_n_u32(0x7fffffff)), vdupq_n_u32(0x7f800000));
    uint32x4_t quiet = vorrq_u32(vshrq_n_u32(u, 16), vdupq_n_u32(0x40));
    return vmovn_u32(vbslq_u32(nan, quiet, rounded));
}

static void f32_to_bf16_neon(const float *src, uint16_t *dst, size_t count) {
    size_t i = 0;
    for (; i + 8 <= count; i += 8)
        vst1q_u16(dst + i, vcombine_u16(bf16_of_4(vld1q_f32(src + i)), bf16_of_4(vld1q_f32(src + i + 4))));
    cohort_f32_to_bf16_portable(src + i, dst + i, count - i);
}
#endif

void cohort_f32_to_bf16(const float *src, uint16_t *dst, size_t count) {
#if defined(__x86_64__)
    if (cohort_cpu_features() & COHORT_CPU_AVX512_BF16) { f32_to_bf16_avx512(src, dst, count); return; }
#elif defined(__aarch64__)
    if (cohort_cpu_features() & COHORT_CPU_NEON) { f32_to_bf16_neon(src, dst, count); return; }
#endif
    cohort_f32_to_bf16_portable(src, dst, count);
}

void cohort_bf16_to_f32(const uint16_t *src, float *dst, size_t count) {
    for (size_t i = 0; i < count; i++) {
        uint32_t u = (uint32_t)src[i] << 16;
        memcpy(dst + i, &u, 4);
    }
}
