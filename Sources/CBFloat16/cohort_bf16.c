#include "cohort_bf16.h"
#include <cpuid.h>
#include <immintrin.h>
#include <string.h>

int cohort_cpu_has_avx512_bf16(void) {
    unsigned a, b, c, d;
    if (__get_cpuid_max(0, 0) < 7) return 0;
    __cpuid_count(1, 0, a, b, c, d);
    if (!(c & (1u << 27))) return 0;  // OSXSAVE: xgetbv is allowed
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 0xe6) != 0xe6) return 0;  // XMM, YMM, opmask, ZMM_Hi256, Hi16_ZMM state enabled
    __cpuid_count(7, 0, a, b, c, d);
    if (!(b & (1u << 16))) return 0;  // AVX512F
    __cpuid_count(7, 1, a, b, c, d);
    return (a >> 5) & 1;              // AVX512_BF16
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
}

static int native = -1;  // set once: the CPU does not change under the process

void cohort_f32_to_bf16(const float *src, uint16_t *dst, size_t count) {
    if (native < 0) native = cohort_cpu_has_avx512_bf16();
    if (native) f32_to_bf16_avx512(src, dst, count);
    else cohort_f32_to_bf16_portable(src, dst, count);
}

void cohort_bf16_to_f32(const uint16_t *src, float *dst, size_t count) {
    for (size_t i = 0; i < count; i++) {
        uint32_t u = (uint32_t)src[i] << 16;
        memcpy(dst + i, &u, 4);
    }
}
