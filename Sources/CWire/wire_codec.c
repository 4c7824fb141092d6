// See include/wire_codec.h.
#include "wire_codec.h"
#include "cohort_cpu.h"
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

// Off: every conversion takes the portable path (tests compare both).
static int use_vector = 1;

static inline uint16_t bf16_of(float x) {
    uint32_t b;
    memcpy(&b, &x, 4);
    uint32_t rounded = (b + 0x7FFFu + ((b >> 16) & 1u)) >> 16;
    uint32_t quiet_nan = (b >> 16) | 0x40u;  // a NaN stays a NaN (rounding could carry it to Inf)
    return (uint16_t)((b & 0x7FFFFFFFu) > 0x7F800000u ? quiet_nan : rounded);
}

static inline float float_of_bf16(uint16_t h) {
    uint32_t b = (uint32_t)h << 16;
    float x;
    memcpy(&x, &b, 4);
    return x;
}

// The portable loops (also the vector paths' tails).
// Without a residual the value is rounded as given: adding 0.0f would turn -0 into +0 (and quiet a
// signaling NaN before rounding), which the vector paths do not do.
static void encode_bf16_portable(const float *src, float *residual, uint16_t *out, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float v = residual ? src[i] + residual[i] : src[i];
        out[i] = bf16_of(v);
        if (residual) residual[i] = v - float_of_bf16(out[i]);
    }
}

static void decode_bf16_portable(const uint16_t *src, float *out, size_t n, int accumulate) {
    for (size_t i = 0; i < n; i++) out[i] = accumulate ? out[i] + float_of_bf16(src[i]) : float_of_bf16(src[i]);  // -0 stays -0
}

// The vector paths: AVX2 (whose bit includes F16C) on x86-64, Advanced SIMD on aarch64, as
// cohort_cpu_features() allows them (COHORT_CPU caps it), unless a test switched them off.
static int vector_path(void) {
#if defined(__x86_64__)
    return use_vector && (cohort_cpu_features() & COHORT_CPU_AVX2) != 0;
#elif defined(__aarch64__)
    return use_vector && (cohort_cpu_features() & COHORT_CPU_NEON) != 0;
#else
    return 0;
#endif
}

#if defined(__x86_64__)

// 8 floats to bf16 bits in the low half of each 32-bit lane (NaN kept quiet).
__attribute__((target("avx2")))
static inline __m256i bf16_of_8(__m256 v) {
    __m256i b = _mm256_castps_si256(v);
    __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(b, 16), _mm256_set1_epi32(1));
    __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(b, _mm256_add_epi32(_mm256_set1_epi32(0x7FFF), lsb)), 16);
    __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(b, _mm256_set1_epi32(0x7FFFFFFF)), _mm256_set1_epi32(0x7F800000));
    __m256i quiet = _mm256_or_si256(_mm256_srli_epi32(b, 16), _mm256_set1_epi32(0x40));
    return _mm256_blendv_epi8(rounded, quiet, nan);
}

__attribute__((target("avx2")))
static void encode_bf16_avx2(const float *src, float *residual, uint16_t *out, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 a = _mm256_loadu_ps(src + i), b = _mm256_loadu_ps(src + i + 8);
        if (residual) { a = _mm256_add_ps(a, _mm256_loadu_ps(residual + i)); b = _mm256_add_ps(b, _mm256_loadu_ps(residual + i + 8)); }
        __m256i ha = bf16_of_8(a), hb = bf16_of_8(b);
        // packus interleaves 128-bit lanes: put them back in order.
        __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(ha, hb), 0xD8);
        _mm256_storeu_si256((__m256i *)(out + i), packed);
        if (residual) {
            _mm256_storeu_ps(residual + i, _mm256_sub_ps(a, _mm256_castsi256_ps(_mm256_slli_epi32(ha, 16))));
            _mm256_storeu_ps(residual + i + 8, _mm256_sub_ps(b, _mm256_castsi256_ps(_mm256_slli_epi32(hb, 16))));
        }
    }
    encode_bf16_portable(src + i, residual ? residual + i : NULL, out + i, n - i);
}

__attribute__((target("avx2")))
static void decode_bf16_avx2(const uint16_t *src, float *out, size_t n, int accumulate) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(src + i)));
        __m256 v = _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
        if (accumulate) v = _mm256_add_ps(v, _mm256_loadu_ps(out + i));
        _mm256_storeu_ps(out + i, v);
    }
    decode_bf16_portable(src + i, out + i, n - i, accumulate);
}

#define encode_bf16_vector encode_bf16_avx2
#define decode_bf16_vector decode_bf16_avx2
#elif defined(__aarch64__)
// bf16_of on four lanes (integer arithmetic, as on AVX2).
static inline uint16x4_t bf16_of_4(float32x4_t v) {
    uint32x4_t b = vreinterpretq_u32_f32(v);
    uint32x4_t lsb = vandq_u32(vshrq_n_u32(b, 16), vdupq_n_u32(1));
    uint32x4_t rounded = vshrq_n_u32(vaddq_u32(b, vaddq_u32(vdupq_n_u32(0x7FFF), lsb)), 16);
    uint32x4_t nan = vcgtq_u32(vandq_u32(b, vdupq_n_u32(0x7FFFFFFF)), vdupq_n_u32(0x7F800000));
    uint32x4_t quiet = vorrq_u32(vshrq_n_u32(b, 16), vdupq_n_u32(0x40));
    return vmovn_u32(vbslq_u32(nan, quiet, rounded));
}

static inline float32x4_t float_of_bf16_4(uint16x4_t h) { return vreinterpretq_f32_u32(vshll_n_u16(h, 16)); }

static void encode_bf16_neon(const float *src, float *residual, uint16_t *out, size_t n) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t v = vld1q_f32(src + i);
        if (residual) v = vaddq_f32(v, vld1q_f32(residual + i));
        uint16x4_t h = bf16_of_4(v);
        vst1_u16(out + i, h);
        if (residual) vst1q_f32(residual + i, vsubq_f32(v, float_of_bf16_4(h)));
    }
    encode_bf16_portable(src + i, residual ? residual + i : NULL, out + i, n - i);
}

static void decode_bf16_neon(const uint16_t *src, float *out, size_t n, int accumulate) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t v = float_of_bf16_4(vld1_u16(src + i));
        if (accumulate) v = vaddq_f32(vld1q_f32(out + i), v);  // the portable loop's operand order
        vst1q_f32(out + i, v);
    }
    decode_bf16_portable(src + i, out + i, n - i, accumulate);
}
#define encode_bf16_vector encode_bf16_neon
#define decode_bf16_vector decode_bf16_neon
#endif

#if defined(__x86_64__) || defined(__aarch64__)
void cohort_wire_encode_bf16(const float *src, float *residual, uint16_t *out, size_t n) {
    if (vector_path()) encode_bf16_vector(src, residual, out, n); else encode_bf16_portable(src, residual, out, n);
}

void cohort_wire_decode_bf16(const uint16_t *src, float *out, size_t n) {
    if (vector_path()) decode_bf16_vector(src, out, n, 0); else decode_bf16_portable(src, out, n, 0);
}

void cohort_wire_accumulate_bf16(const uint16_t *src, float *sum, size_t n) {
    if (vector_path()) decode_bf16_vector(src, sum, n, 1); else decode_bf16_portable(src, sum, n, 1);
}
#else
void cohort_wire_encode_bf16(const float *src, float *residual, uint16_t *out, size_t n) { encode_bf16_portable(src, residual, out, n); }
void cohort_wire_decode_bf16(const uint16_t *src, float *out, size_t n) { decode_bf16_portable(src, out, n, 0); }
void cohort_wire_accumulate_bf16(const uint16_t *src, float *sum, size_t n) { decode_bf16_portable(src, sum, n, 1); }
#endif

// IEEE half, portable: round to nearest even, overflow to Inf, subnormals, NaN kept.
static inline uint16_t fp16_of(float x) {
    uint32_t b;
    memcpy(&b, &x, 4);
    uint32_t sign = (b >> 16) & 0x8000u, a = b & 0x7FFFFFFFu;
    if (a > 0x7F800000u) return (uint16_t)(sign | 0x7E00u | ((a >> 13) & 0x3FFu));  // NaN
    if (a >= 0x477FF000u) return (uint16_t)(sign | 0x7C00u);  // rounds to beyond 65504: Inf
    if (a < 0x38800000u) {  // below fp16's smallest normal: a subnormal (or zero)
        if (a < 0x33000000u) return (uint16_t)sign;  // below half the smallest subnormal
        uint32_t mant = (a & 0x7FFFFFu) | 0x800000u;
        uint32_t shift = 126u - (a >> 23);  // 14..24
        uint32_t half = mant >> shift, rest = mant & ((1u << shift) - 1u), mid = 1u << (shift - 1u);
        half += (rest > mid) || (rest == mid && (half & 1u));
        return (uint16_t)(sign | half);
    }
    uint32_t h = ((a - 0x38000000u) >> 13);
    uint32_t rest = a & 0x1FFFu;
    h += (rest > 0x1000u) || (rest == 0x1000u && (h & 1u));
    return (uint16_t)(sign | h);
}

static inline float float_of_fp16(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1Fu, m = h & 0x3FFu, b;
    if (e == 0x1F) {  // Inf, or NaN made quiet as F16C's and NEON's conversions make it
        b = sign | 0x7F800000u | (m << 13) | (m ? 0x400000u : 0u);
    } else if (e != 0) {
        b = sign | ((e + 112u) << 23) | (m << 13);
    } else if (m == 0) {
        b = sign;
    } else {  // subnormal: normalise
        int shift = 0;
        while (!(m & 0x400u)) { m <<= 1; shift++; }
        b = sign | ((uint32_t)(113 - shift) << 23) | ((m & 0x3FFu) << 13);
    }
    float x;
    memcpy(&x, &b, 4);
    return x;
}

static void encode_fp16_portable(const float *src, float *residual, uint16_t *out, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float v = residual ? src[i] + residual[i] : src[i];  // as in encode_bf16_portable
        out[i] = fp16_of(v);
        if (residual) residual[i] = v - float_of_fp16(out[i]);
    }
}

static void decode_fp16_portable(const uint16_t *src, float *out, size_t n, int accumulate) {
    for (size_t i = 0; i < n; i++) out[i] = accumulate ? out[i] + float_of_fp16(src[i]) : float_of_fp16(src[i]);  // -0 stays -0
}

int cohort_wire_has_f16c(void) { return vector_path(); }

void cohort_wire_use_vector(int on) { use_vector = on; }

#if defined(__x86_64__)
__attribute__((target("avx,f16c")))
static void encode_fp16_f16c(const float *src, float *residual, uint16_t *out, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(src + i);
        if (residual) v = _mm256_add_ps(v, _mm256_loadu_ps(residual + i));
        __m128i h = _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT);
        _mm_storeu_si128((__m128i *)(out + i), h);
        if (residual) _mm256_storeu_ps(residual + i, _mm256_sub_ps(v, _mm256_cvtph_ps(h)));
    }
    encode_fp16_portable(src + i, residual ? residual + i : NULL, out + i, n - i);
}

__attribute__((target("avx,f16c")))
static void decode_fp16_f16c(const uint16_t *src, float *out, size_t n, int accumulate) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i)));
        if (accumulate) v = _mm256_add_ps(v, _mm256_loadu_ps(out + i));
        _mm256_storeu_ps(out + i, v);
    }
    decode_fp16_portable(src + i, out + i, n - i, accumulate);
}

#define encode_fp16_vector encode_fp16_f16c
#define decode_fp16_vector decode_fp16_f16c
#elif defined(__aarch64__)
// FCVTN/FCVTL with Linux's default FPCR (round to nearest even, no flush to zero, no default NaN):
// overflow to Inf, subnormals and quieted NaN payloads exactly as fp16_of and float_of_fp16.
static void encode_fp16_neon(const float *src, float *residual, uint16_t *out, size_t n) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t v = vld1q_f32(src + i);
        if (residual) v = vaddq_f32(v, vld1q_f32(residual + i));
        float16x4_t h = vcvt_f16_f32(v);
        vst1_u16(out + i, vreinterpret_u16_f16(h));
        if (residual) vst1q_f32(residual + i, vsubq_f32(v, vcvt_f32_f16(h)));
    }
    encode_fp16_portable(src + i, residual ? residual + i : NULL, out + i, n - i);
}

static void decode_fp16_neon(const uint16_t *src, float *out, size_t n, int accumulate) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t v = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(src + i)));
        if (accumulate) v = vaddq_f32(vld1q_f32(out + i), v);  // the portable loop's operand order
        vst1q_f32(out + i, v);
    }
    decode_fp16_portable(src + i, out + i, n - i, accumulate);
}
#define encode_fp16_vector encode_fp16_neon
#define decode_fp16_vector decode_fp16_neon
#endif

#if defined(__x86_64__) || defined(__aarch64__)
void cohort_wire_encode_fp16(const float *src, float *residual, uint16_t *out, size_t n) {
    if (vector_path()) encode_fp16_vector(src, residual, out, n); else encode_fp16_portable(src, residual, out, n);
}

void cohort_wire_decode_fp16(const uint16_t *src, float *out, size_t n) {
    if (vector_path()) decode_fp16_vector(src, out, n, 0); else decode_fp16_portable(src, out, n, 0);
}

void cohort_wire_accumulate_fp16(const uint16_t *src, float *sum, size_t n) {
    if (vector_path()) decode_fp16_vector(src, sum, n, 1); else decode_fp16_portable(src, sum, n, 1);
}
#else
void cohort_wire_encode_fp16(const float *src, float *residual, uint16_t *out, size_t n) { encode_fp16_portable(src, residual, out, n); }
void cohort_wire_decode_fp16(const uint16_t *src, float *out, size_t n) { decode_fp16_portable(src, out, n, 0); }
void cohort_wire_accumulate_fp16(const uint16_t *src, float *sum, size_t n) { decode_fp16_portable(src, sum, n, 1); }
#endif
