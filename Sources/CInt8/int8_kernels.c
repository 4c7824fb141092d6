// See include/int8_kernels.h. In order: the path table, the quantiser (portable, AVX2, AVX-512,
// NEON), packing, each path's gemm, the dequantiser.
//
// Packed weight layouts. k4 is k rounded up to 4; outputs go in panels of 16, the last padded
// with zero weights (as is every input past k):
//   portable     int8 [n][k4], the weight rows as given.
//   avx2         int16; per panel, per pair of inputs p, 32 values: w[o][2p], w[o][2p+1] for
//                o = 0..15, two VPMADDWD operands against a broadcast pair of int16 activations.
//   avx_vnni,    int8; per panel, per group of 4 inputs, 64 bytes: the group's 4 weights of
//   avx512_vnni  output 0, then of output 1, ... 15: VPDPBUSD's operand against 4 broadcast
//                uint8 activations (two YMM or one ZMM).
//   neon         int16 [panel][k4][16]: per input the panel's 16 weights, for vmlal_lane_s16.
//   dotprod      per panel 16 int32, 128 x each output's weight sum (SDOT multiplies a - 128,
//                so this restores sum a * w), then the panel in the avx_vnni layout.
#include "int8_kernels.h"
#include "cohort_cpu.h"
#include <float.h>
#include <math.h>
#include <string.h>
#if COHORT_X86
#include <immintrin.h>
#endif
#if COHORT_ARM
#include <arm_neon.h>
#endif

// The dequantiser's product and bias add are the ONNX graph's Mul then Add, two roundings: no
// FMA contraction (clang's default only fuses within one expression, GCC's across statements).
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

// ---- Paths -------------------------------------------------------------------------------------

static const struct {
    const char *name;
    unsigned needs;  // cohort_cpu_features() bits
    int built;       // compiled for this architecture
} path_info[COHORT_INT8_PATH_COUNT] = {
    [COHORT_INT8_PORTABLE] = {"portable", 0, 1},
    [COHORT_INT8_AVX2] = {"avx2", COHORT_CPU_AVX2, COHORT_X86},
    [COHORT_INT8_AVX_VNNI] = {"avx_vnni", COHORT_CPU_AVX2 | COHORT_CPU_AVX_VNNI, COHORT_X86},
    [COHORT_INT8_AVX512_VNNI] = {"avx512_vnni", COHORT_CPU_AVX512 | COHORT_CPU_AVX512_VNNI, COHORT_X86},
    [COHORT_INT8_NEON] = {"neon", COHORT_CPU_NEON, COHORT_ARM},
    [COHORT_INT8_DOTPROD] = {"dotprod", COHORT_CPU_NEON | COHORT_CPU_DOTPROD, COHORT_ARM},
};

int cohort_int8_path_available(cohort_int8_path path) {
    if ((unsigned)path >= COHORT_INT8_PATH_COUNT || !path_info[path].built) return 0;
    return (cohort_cpu_features() & path_info[path].needs) == path_info[path].needs;
}

cohort_int8_path cohort_int8_best_path(void) {
    static const cohort_int8_path fastest_first[] = {COHORT_INT8_AVX512_VNNI, COHORT_INT8_AVX_VNNI, COHORT_INT8_AVX2,
                                                     COHORT_INT8_DOTPROD, COHORT_INT8_NEON};
    for (unsigned i = 0; i < sizeof fastest_first / sizeof fastest_first[0]; i++)
        if (cohort_int8_path_available(fastest_first[i])) return fastest_first[i];
    return COHORT_INT8_PORTABLE;
}

const char *cohort_int8_path_name(cohort_int8_path path) {
    return (unsigned)path < COHORT_INT8_PATH_COUNT ? path_info[path].name : NULL;
}

static long round_up(long v, long m) { return (v + m - 1) / m * m; }
static long min_long(long a, long b) { return a < b ? a : b; }

// Four bytes as one int32 (for a broadcast), without an unaligned or type-punned load.
static inline uint32_t load_u32(const void *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

// ---- Quantiser -----------------------------------------------------------------------------------
// The scalar pieces are the definition; the vector paths compute the same operations lane-wise
// and finish rows with these.

// x < lo ? x : lo keeps the bound when x is NaN; the vector min/max below take operands in the
// order that does the same.
static inline void widen_range(float x, float *lo, float *hi) {
    *lo = x < *lo ? x : *lo;
    *hi = x > *hi ? x : *hi;
}

// Saturation to [0, 255], NaN to 0.
static inline float saturate_u8(float v) { return !(v > 0) ? 0 : (v > 255 ? 255 : v); }

// A row's scale and zero point from its range (lo <= 0 <= hi); a scale of 0 (a row of zeros, or a
// range so small that it underflows) becomes 1, as the ONNX export's Where does.
static float row_scale(float lo, float hi, uint8_t *zero_point) {
    float scale = (hi - lo) / 255.0f;
    if (scale == 0) scale = 1.0f;
    *zero_point = (uint8_t)saturate_u8(nearbyintf(-lo / scale));
    return scale;
}

static inline uint8_t quantize1(float x, float scale, uint8_t zero_point) {
    return (uint8_t)saturate_u8(nearbyintf(x / scale) + zero_point);
}

static void quantize_rows_portable(const float *x, long rows, long k, long ldx, uint8_t *q, long ldq, float *scales,
                                   uint8_t *zero_points) {
    for (long r = 0; r < rows; r++) {
        const float *src = x + r * ldx;
        uint8_t *dst = q + r * ldq;
        float lo = 0, hi = 0;
        for (long i = 0; i < k; i++) widen_range(src[i], &lo, &hi);
        float scale = scales[r] = row_scale(lo, hi, &zero_points[r]);
        for (long i = 0; i < k; i++) dst[i] = quantize1(src[i], scale, zero_points[r]);
        memset(dst + k, 0, (size_t)(ldq - k));
    }
}

#if COHORT_X86
// Why the vector paths may multiply by the reciprocal. With a normal scale s and a normal
// reciprocal, |x| <= hi - lo <= 255 s / (1 - 2^-24), so the exact quotient has |x / s| < 256. Then
// y = x * (1/s), two roundings, is within 256 * 2^-23 of x / s, and the correctly rounded quotient
// within 256 * 2^-24: y and it differ by under 2^-14. Their nearest integers can differ only if a
// half-integer lies between them, putting y within 2^-14 of it; every lane with
// |y - round(y)| >= 0.5 - 2^-11 is divided instead, so the result is round(x / s) exactly.
#define TIE_FROM (0.5f - 1.0f / 2048)

// Whether the argument above holds for this row's scale.
static int use_reciprocal(float scale, float reciprocal) { return isnormal(scale) && isnormal(reciprocal); }

#define NEAREST (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)

// round(x / s) + zero point for 8 lanes, as int32 that the saturating packs below clamp to
// [0, 255]. With the reciprocal (a normal scale), |x / s| < 256 and a NaN converts to INT32_MIN,
// which packs to 0, as saturate_u8 gives. Dividing by a denormal, zero or infinite scale can give
// anything, so that path saturates in float first: max(r, 0) returns its second operand, 0, for
// a NaN.
__attribute__((target("avx2"), always_inline)) static inline __m256i quantize8_avx2(__m256 x, __m256 s, __m256 inv,
                                                                                    __m256 zero_point, int multiply) {
    if (multiply) {
        __m256 y = _mm256_mul_ps(x, inv);
        __m256 r = _mm256_round_ps(y, NEAREST);
        __m256 off = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), _mm256_sub_ps(y, r));
        __m256 near_half = _mm256_cmp_ps(off, _mm256_set1_ps(TIE_FROM), _CMP_GE_OQ);
        if (!_mm256_testz_ps(near_half, near_half))
            r = _mm256_blendv_ps(r, _mm256_round_ps(_mm256_div_ps(x, s), NEAREST), near_half);
        return _mm256_cvtps_epi32(_mm256_add_ps(r, zero_point));
    }
    __m256 r = _mm256_add_ps(_mm256_round_ps(_mm256_div_ps(x, s), NEAREST), zero_point);
    return _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(r, _mm256_setzero_ps()), _mm256_set1_ps(255)));
}

// 8 lanes of a row's minimum and maximum (with 0), the last k % 8 inputs masked in by `tail`. Two
// chains each, so the loop does not wait out vminps's latency. min(x, lo) keeps lo for a NaN x
// (the second operand), as widen_range does.
__attribute__((target("avx2"), always_inline)) static inline void range8_avx2(const float *src, long k, __m256i tail,
                                                                               __m256 *lo, __m256 *hi) {
    __m256 lo0 = _mm256_setzero_ps(), lo1 = lo0, hi0 = lo0, hi1 = lo0;
    long i = 0;
    for (; i + 16 <= k; i += 16) {
        __m256 a = _mm256_loadu_ps(src + i), b = _mm256_loadu_ps(src + i + 8);
        lo0 = _mm256_min_ps(a, lo0), hi0 = _mm256_max_ps(a, hi0);
        lo1 = _mm256_min_ps(b, lo1), hi1 = _mm256_max_ps(b, hi1);
    }
    if (i + 8 <= k) {
        __m256 a = _mm256_loadu_ps(src + i);
        lo0 = _mm256_min_ps(a, lo0), hi0 = _mm256_max_ps(a, hi0);
        i += 8;
    }
    if (i < k) {  // masked-off lanes load 0, which lo <= 0 <= hi already covers
        __m256 a = _mm256_maskload_ps(src + i, tail);
        lo1 = _mm256_min_ps(a, lo1), hi1 = _mm256_max_ps(a, hi1);
    }
    *lo = _mm256_min_ps(lo0, lo1), *hi = _mm256_max_ps(hi0, hi1);
}

// Lane r of the result is the minimum (max = 0) or maximum of v[r]'s 8 lanes: a transpose and
// reduce of 8 rows at once, 7 shuffles and 7 operations, instead of a chain of 6 per row. No lane
// holds a NaN or -0, so the order does not matter.
__attribute__((target("avx2"), always_inline)) static inline __m256 reduce8x8_avx2(const __m256 v[8], int max) {
#define OP(x, y) (max ? _mm256_max_ps(x, y) : _mm256_min_ps(x, y))
    __m256 t[4], u[2];
    for (int p = 0; p < 4; p++) t[p] = OP(_mm256_unpacklo_ps(v[2 * p], v[2 * p + 1]), _mm256_unpackhi_ps(v[2 * p], v[2 * p + 1]));
    for (int p = 0; p < 2; p++)
        u[p] = OP(_mm256_shuffle_ps(t[2 * p], t[2 * p + 1], 0x44), _mm256_shuffle_ps(t[2 * p], t[2 * p + 1], 0xee));
    return OP(_mm256_permute2f128_ps(u[0], u[1], 0x20), _mm256_permute2f128_ps(u[0], u[1], 0x31));
#undef OP
}

// One row's bytes, given its scale, reciprocal and zero point.
__attribute__((target("avx2"), always_inline)) static inline void quantize_row_avx2(const float *src, long k, uint8_t *dst,
                                                                                     long ldq, __m256i tail, float scale,
                                                                                     float reciprocal, uint8_t zero_point,
                                                                                     int multiply) {
    // packs/packus work within 128-bit lanes: dword 4L + t of their result holds bytes 4L..4L+3
    // of the t-th vector; this puts them back in order.
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    __m256 s = _mm256_set1_ps(scale), inv = _mm256_set1_ps(reciprocal), z = _mm256_set1_ps(zero_point);
    long j = 0;
    for (; j + 32 <= k; j += 32) {
        __m256i a = quantize8_avx2(_mm256_loadu_ps(src + j), s, inv, z, multiply);
        __m256i b = quantize8_avx2(_mm256_loadu_ps(src + j + 8), s, inv, z, multiply);
        __m256i c = quantize8_avx2(_mm256_loadu_ps(src + j + 16), s, inv, z, multiply);
        __m256i d = quantize8_avx2(_mm256_loadu_ps(src + j + 24), s, inv, z, multiply);
        __m256i bytes = _mm256_packus_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(c, d));
        _mm256_storeu_si256((__m256i *)(dst + j), _mm256_permutevar8x32_epi32(bytes, order));
    }
    for (; j + 8 <= k; j += 8) {
        __m256i v = quantize8_avx2(_mm256_loadu_ps(src + j), s, inv, z, multiply);
        __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
        _mm_storel_epi64((__m128i *)(dst + j), _mm_packus_epi16(words, words));
    }
    long done = k;
    if (j < k) {
        // The last k % 8 inputs in one masked vector, not a scalar loop (k = 100 is 96 + 4). Its
        // store covers the zero padding to a multiple of 4 and no further (ldq may end there).
        __m256i v = _mm256_and_si256(quantize8_avx2(_mm256_maskload_ps(src + j, tail), s, inv, z, multiply), tail);
        __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
        __m128i bytes = _mm_packus_epi16(words, words);
        if (k - j > 4) {
            _mm_storel_epi64((__m128i *)(dst + j), bytes);
            done = j + 8;
        } else {
            uint32_t four = (uint32_t)_mm_cvtsi128_si32(bytes);
            memcpy(dst + j, &four, 4);
            done = j + 4;
        }
    }
    memset(dst + done, 0, (size_t)(ldq - done));
}

__attribute__((target("avx2"))) static void quantize_rows_avx2(const float *x, long rows, long k, long ldx, uint8_t *q,
                                                              long ldq, float *scales, uint8_t *zero_points) {
    const __m256i tail = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(k % 8)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    // Rows go in blocks (at most 8, about 16 KB, so the second pass finds them in L1): ranges of the
    // whole block, then its scales, zero points and reciprocals 8 lanes at once (row_scale's
    // operations, lane-wise), then the bytes; a short row is otherwise dominated by those latencies.
    long block = k <= 512 ? 8 : k >= 4096 ? 1 : 4096 / k;
    for (long row0 = 0; row0 < rows; row0 += block) {
        long nr = min_long(block, rows - row0);
        __m256 lov[8], hiv[8];
        for (long r = 0; r < 8; r++) {
            if (r < nr) range8_avx2(x + (row0 + r) * ldx, k, tail, &lov[r], &hiv[r]);
            else lov[r] = hiv[r] = _mm256_setzero_ps();
        }
        if (nr == 1) {  // a lone row (batch 1): the scalar reduction and row_scale are quicker
            __m128 lo4 = _mm_min_ps(_mm256_castps256_ps128(lov[0]), _mm256_extractf128_ps(lov[0], 1));
            __m128 hi4 = _mm_max_ps(_mm256_castps256_ps128(hiv[0]), _mm256_extractf128_ps(hiv[0], 1));
            lo4 = _mm_min_ps(lo4, _mm_movehl_ps(lo4, lo4));
            hi4 = _mm_max_ps(hi4, _mm_movehl_ps(hi4, hi4));
            float lo = _mm_cvtss_f32(_mm_min_ss(lo4, _mm_shuffle_ps(lo4, lo4, 1)));
            float hi = _mm_cvtss_f32(_mm_max_ss(hi4, _mm_shuffle_ps(hi4, hi4, 1)));
            uint8_t zero_point;
            float scale = row_scale(lo, hi, &zero_point), reciprocal = 1.0f / scale;
            quantize_row_avx2(x + row0 * ldx, k, q + row0 * ldq, ldq, tail, scale, reciprocal, zero_point,
                              use_reciprocal(scale, reciprocal));
            scales[row0] = scale, zero_points[row0] = zero_point;
            continue;
        }
        __m256 lo = reduce8x8_avx2(lov, 0), hi = reduce8x8_avx2(hiv, 1), one = _mm256_set1_ps(1);
        __m256 sv = _mm256_div_ps(_mm256_sub_ps(hi, lo), _mm256_set1_ps(255));
        sv = _mm256_blendv_ps(sv, one, _mm256_cmp_ps(sv, _mm256_setzero_ps(), _CMP_EQ_OQ));
        __m256 zv = _mm256_round_ps(_mm256_div_ps(_mm256_xor_ps(lo, _mm256_set1_ps(-0.0f)), sv), NEAREST);
        zv = _mm256_min_ps(_mm256_max_ps(zv, _mm256_setzero_ps()), _mm256_set1_ps(255));  // saturate_u8: NaN to 0
        __m256 iv = _mm256_div_ps(one, sv);
        // use_reciprocal: both normal, |v| in [FLT_MIN, FLT_MAX] (false for NaN).
        __m256 abs_s = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), sv), abs_i = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), iv);
        __m256 normal = _mm256_and_ps(
            _mm256_and_ps(_mm256_cmp_ps(abs_s, _mm256_set1_ps(FLT_MIN), _CMP_GE_OQ), _mm256_cmp_ps(abs_s, _mm256_set1_ps(FLT_MAX), _CMP_LE_OQ)),
            _mm256_and_ps(_mm256_cmp_ps(abs_i, _mm256_set1_ps(FLT_MIN), _CMP_GE_OQ), _mm256_cmp_ps(abs_i, _mm256_set1_ps(FLT_MAX), _CMP_LE_OQ)));
        int multiplies = _mm256_movemask_ps(normal);
        float row_scales[8], row_zeros[8], reciprocals[8];
        _mm256_storeu_ps(row_scales, sv), _mm256_storeu_ps(row_zeros, zv), _mm256_storeu_ps(reciprocals, iv);
        for (long r = 0; r < nr; r++) {
            long row = row0 + r;
            scales[row] = row_scales[r], zero_points[row] = (uint8_t)row_zeros[r];
            quantize_row_avx2(x + row * ldx, k, q + row * ldq, ldq, tail, row_scales[r], reciprocals[r],
                              zero_points[row], (multiplies >> r) & 1);
        }
    }
}

// The AVX2 rule, 16 lanes at a time, always saturating in float (the narrowing store below
// truncates rather than saturates).
__attribute__((target("avx512f,avx512bw"), always_inline)) static inline __m512i quantize16_avx512(
    __m512 x, __m512 s, __m512 inv, __m512 zero_point, int multiply) {
    __m512 r;
    if (multiply) {
        __m512 y = _mm512_mul_ps(x, inv);
        r = _mm512_roundscale_ps(y, NEAREST);
        __mmask16 near_half = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_sub_ps(y, r)), _mm512_set1_ps(TIE_FROM), _CMP_GE_OQ);
        if (near_half) r = _mm512_mask_roundscale_ps(r, near_half, _mm512_div_ps(x, s), NEAREST);
    } else {
        r = _mm512_roundscale_ps(_mm512_div_ps(x, s), NEAREST);
    }
    r = _mm512_add_ps(r, zero_point);
    r = _mm512_min_ps(_mm512_max_ps(r, _mm512_setzero_ps()), _mm512_set1_ps(255));  // NaN to 0, as in AVX2
    return _mm512_cvtps_epi32(r);
}

__attribute__((target("avx512f,avx512bw"))) static void quantize_rows_avx512(const float *x, long rows, long k, long ldx,
                                                                            uint8_t *q, long ldq, float *scales,
                                                                            uint8_t *zero_points) {
    for (long row = 0; row < rows; row++) {
        const float *src = x + row * ldx;
        uint8_t *dst = q + row * ldq;
        __m512 lo0 = _mm512_setzero_ps(), lo1 = lo0, hi0 = lo0, hi1 = lo0;
        long i = 0;
        for (; i + 32 <= k; i += 32) {
            __m512 a = _mm512_loadu_ps(src + i), b = _mm512_loadu_ps(src + i + 16);
            lo0 = _mm512_min_ps(a, lo0), hi0 = _mm512_max_ps(a, hi0);
            lo1 = _mm512_min_ps(b, lo1), hi1 = _mm512_max_ps(b, hi1);
        }
        if (i + 16 <= k) {
            __m512 a = _mm512_loadu_ps(src + i);
            lo0 = _mm512_min_ps(a, lo0), hi0 = _mm512_max_ps(a, hi0);
            i += 16;
        }
        // The last k % 16 lanes in one masked load; the lanes past k read as 0, which the range
        // holds already (it starts at [0, 0]). A NaN is dropped here as widen_range drops it.
        __mmask16 tail = (__mmask16)((1u << (k - i)) - 1);
        if (tail) {
            __m512 a = _mm512_maskz_loadu_ps(tail, src + i);
            lo1 = _mm512_min_ps(a, lo1), hi1 = _mm512_max_ps(a, hi1);
        }
        float lo = _mm512_reduce_min_ps(_mm512_min_ps(lo0, lo1)), hi = _mm512_reduce_max_ps(_mm512_max_ps(hi0, hi1));

        uint8_t zero_point;
        float scale = scales[row] = row_scale(lo, hi, &zero_point);
        zero_points[row] = zero_point;
        float reciprocal = 1.0f / scale;
        int multiply = use_reciprocal(scale, reciprocal);
        __m512 s = _mm512_set1_ps(scale), inv = _mm512_set1_ps(reciprocal), z = _mm512_set1_ps(zero_point);
        long j = 0;
        for (; j + 16 <= k; j += 16) {
            __m512i v = quantize16_avx512(_mm512_loadu_ps(src + j), s, inv, z, multiply);
            _mm_storeu_si128((__m128i *)(dst + j), _mm512_cvtepi32_epi8(v));
        }
        if (tail) {
            __m512i v = quantize16_avx512(_mm512_maskz_loadu_ps(tail, src + j), s, inv, z, multiply);
            _mm512_mask_cvtepi32_storeu_epi8(dst + j, tail, v);
        }
        memset(dst + k, 0, (size_t)(ldq - k));
    }
}
#endif

#if COHORT_ARM
// saturate(round(x / s) + zero point) for 4 lanes. NEON divides at full precision cheaply enough
// that no reciprocal is needed.
static inline uint32x4_t quantize4_neon(float32x4_t x, float32x4_t s, float32x4_t zero_point) {
    float32x4_t r = vaddq_f32(vrndnq_f32(vdivq_f32(x, s)), zero_point);
    float32x4_t zero = vdupq_n_f32(0);
    r = vbslq_f32(vcgtq_f32(r, zero), r, zero);  // NaN to 0, as saturate_u8
    return vcvtq_u32_f32(vminq_f32(r, vdupq_n_f32(255)));
}

static void quantize_rows_neon(const float *x, long rows, long k, long ldx, uint8_t *q, long ldq, float *scales,
                               uint8_t *zero_points) {
    for (long row = 0; row < rows; row++) {
        const float *src = x + row * ldx;
        uint8_t *dst = q + row * ldq;
        // FMIN/FMAX would propagate a NaN: compare and select keeps the bound, as widen_range.
        float32x4_t lo0 = vdupq_n_f32(0), lo1 = lo0, hi0 = lo0, hi1 = lo0;
        long i = 0;
        for (; i + 8 <= k; i += 8) {
            float32x4_t a = vld1q_f32(src + i), b = vld1q_f32(src + i + 4);
            lo0 = vbslq_f32(vcltq_f32(a, lo0), a, lo0), hi0 = vbslq_f32(vcgtq_f32(a, hi0), a, hi0);
            lo1 = vbslq_f32(vcltq_f32(b, lo1), b, lo1), hi1 = vbslq_f32(vcgtq_f32(b, hi1), b, hi1);
        }
        float lo = vminvq_f32(vminq_f32(lo0, lo1)), hi = vmaxvq_f32(vmaxq_f32(hi0, hi1));  // no NaN left
        for (; i < k; i++) widen_range(src[i], &lo, &hi);

        uint8_t zero_point;
        float scale = scales[row] = row_scale(lo, hi, &zero_point);
        zero_points[row] = zero_point;
        float32x4_t s = vdupq_n_f32(scale), z = vdupq_n_f32(zero_point);
        long j = 0;
        for (; j + 8 <= k; j += 8) {
            uint16x8_t words = vcombine_u16(vmovn_u32(quantize4_neon(vld1q_f32(src + j), s, z)),
                                            vmovn_u32(quantize4_neon(vld1q_f32(src + j + 4), s, z)));
            vst1_u8(dst + j, vmovn_u16(words));
        }
        for (; j < k; j++) dst[j] = quantize1(src[j], scale, zero_point);
        memset(dst + k, 0, (size_t)(ldq - k));
    }
}
#endif

void cohort_int8_quantize_rows(const float *x, long rows, long k, long ldx, uint8_t *q, long ldq, float *scales,
                               uint8_t *zero_points, cohort_int8_path path) {
    switch (path) {
#if COHORT_X86
    case COHORT_INT8_AVX2:
    case COHORT_INT8_AVX_VNNI: quantize_rows_avx2(x, rows, k, ldx, q, ldq, scales, zero_points); return;
    case COHORT_INT8_AVX512_VNNI: quantize_rows_avx512(x, rows, k, ldx, q, ldq, scales, zero_points); return;
#endif
#if COHORT_ARM
    case COHORT_INT8_NEON:
    case COHORT_INT8_DOTPROD: quantize_rows_neon(x, rows, k, ldx, q, ldq, scales, zero_points); return;
#endif
    default: quantize_rows_portable(x, rows, k, ldx, q, ldq, scales, zero_points); return;
    }
}

// ---- Packing -----------------------------------------------------------------------------------

long cohort_int8_packed_size(int n, int k, cohort_int8_path path) {
    long panels = (n + 15) / 16, k4 = round_up(k, 4);
    switch (path) {
    case COHORT_INT8_AVX2:
    case COHORT_INT8_NEON: return panels * 16 * k4 * 2;
    case COHORT_INT8_AVX_VNNI:
    case COHORT_INT8_AVX512_VNNI: return panels * 16 * k4;
    case COHORT_INT8_DOTPROD: return panels * (64 + 16 * k4);
    default: return (long)n * k4;
    }
}

static void put_int16(int8_t *packed, long index, int8_t v) {
    int16_t wide = v;
    memcpy(packed + 2 * index, &wide, 2);
}

void cohort_int8_pack(const int8_t *w, int n, int k, int8_t *packed, int32_t *column_sums, cohort_int8_path path) {
    long k4 = round_up(k, 4), dotprod_panel = 64 + 16 * k4;
    memset(packed, 0, (size_t)cohort_int8_packed_size(n, k, path));
    for (long j = 0; j < n; j++) {
        long panel = j / 16, o = j % 16;
        int32_t sum = 0;
        for (long i = 0; i < k; i++) {
            int8_t v = w[j * k + i];
            sum += v;
            switch (path) {
            case COHORT_INT8_AVX2: put_int16(packed, (panel * (k4 / 2) + i / 2) * 32 + o * 2 + i % 2, v); break;
            case COHORT_INT8_NEON: put_int16(packed, (panel * k4 + i) * 16 + o, v); break;
            case COHORT_INT8_AVX_VNNI:
            case COHORT_INT8_AVX512_VNNI: packed[(panel * (k4 / 4) + i / 4) * 64 + o * 4 + i % 4] = v; break;
            case COHORT_INT8_DOTPROD: packed[panel * dotprod_panel + 64 + (i / 4) * 64 + o * 4 + i % 4] = v; break;
            default: packed[j * k4 + i] = v; break;
            }
        }
        column_sums[j] = sum;
        if (path == COHORT_INT8_DOTPROD) {
            int32_t correction = 128 * sum;
            memcpy(packed + panel * dotprod_panel + o * 4, &correction, 4);
        }
    }
}

// ---- GEMM --------------------------------------------------------------------------------------

static void gemm_portable(const uint8_t *a, int m, int k, long lda, const int8_t *packed, int n, int32_t *c, long ldc) {
    long k4 = round_up(k, 4);
    for (long i = 0; i < m; i++)
        for (long j = 0; j < n; j++) {
            const uint8_t *row = a + i * lda;
            const int8_t *col = packed + j * k4;
            int32_t acc = 0;
            for (long t = 0; t < k; t++) acc += (int32_t)row[t] * col[t];
            c[i * ldc + j] = acc;
        }
}

#if COHORT_X86
// Stores (or adds to) one row of a 16-output tile; `cols` of the 16 are real.
__attribute__((target("avx2"), always_inline)) static inline void store_row_avx2(int32_t *c, __m256i lo, __m256i hi,
                                                                                  int cols, int accumulate) {
    if (cols == 16) {
        if (accumulate) {
            lo = _mm256_add_epi32(lo, _mm256_loadu_si256((const __m256i *)c));
            hi = _mm256_add_epi32(hi, _mm256_loadu_si256((const __m256i *)(c + 8)));
        }
        _mm256_storeu_si256((__m256i *)c, lo);
        _mm256_storeu_si256((__m256i *)(c + 8), hi);
        return;
    }
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i mask_lo = _mm256_cmpgt_epi32(_mm256_set1_epi32(cols), lane);
    __m256i mask_hi = _mm256_cmpgt_epi32(_mm256_set1_epi32(cols - 8), lane);
    if (accumulate) {
        lo = _mm256_add_epi32(lo, _mm256_maskload_epi32(c, mask_lo));
        hi = _mm256_add_epi32(hi, _mm256_maskload_epi32(c + 8, mask_hi));
    }
    _mm256_maskstore_epi32(c, mask_lo, lo);
    _mm256_maskstore_epi32(c + 8, mask_hi, hi);
}

// AVX2 blocking. A tile is 6 rows x 16 outputs: 12 accumulators, 2 weight vectors, a broadcast
// and a product fill the 16 YMM registers, and each pair of inputs costs 8 loads for 12 VPMADDWD.
// Activations are widened to int16 a block of AVX2_MC rows x at most AVX2_KC inputs at a time
// (36 KB on the stack, from L2), against which each 16-output weight panel (KC x 32 bytes) stays
// in L1 while all the block's tiles use it.
enum { AVX2_MR = 6, AVX2_MC = 72, AVX2_KC = 256 };

// c (+)= a x w for `rows` rows and the first `quarters` x 4 outputs (constants after inlining): a
// is the widened block (int16 pairs, `pairs` per row), w the panel's weights from this k block on.
// A last panel's unused outputs are skipped 4 at a time: an odd quarter runs at 128 bits, which
// costs half a 256-bit VPMADDWD where the core splits those in two (Zen 1), so a 10-output layer
// does 12 outputs' products rather than 16.
__attribute__((target("avx2"), always_inline)) static inline void tile_avx2(const int32_t *a, long pairs, const int8_t *w,
                                                                             int32_t *c, long ldc, int cols, int accumulate,
                                                                             const int rows, const int quarters) {
    const int halves = quarters / 2, narrow = quarters % 2;  // 8-output YMMs, then maybe a 4-output XMM
    __m256i acc[AVX2_MR][2];
    __m128i acc4[AVX2_MR];
    for (int r = 0; r < rows; r++) acc[r][0] = acc[r][1] = _mm256_setzero_si256(), acc4[r] = _mm_setzero_si128();
    for (long p = 0; p < pairs; p++) {
        __m256i wv[2];
        for (int h = 0; h < halves; h++) wv[h] = _mm256_loadu_si256((const __m256i *)(w + p * 64 + h * 32));
        __m128i w4 = narrow ? _mm_loadu_si128((const __m128i *)(w + p * 64 + halves * 32)) : _mm_setzero_si128();
        for (int r = 0; r < rows; r++) {
            __m256i av = _mm256_set1_epi32(a[r * pairs + p]);
            for (int h = 0; h < halves; h++) acc[r][h] = _mm256_add_epi32(acc[r][h], _mm256_madd_epi16(av, wv[h]));
            if (narrow) acc4[r] = _mm_add_epi32(acc4[r], _mm_madd_epi16(_mm256_castsi256_si128(av), w4));
        }
    }
    for (int r = 0; r < rows; r++) {
        if (narrow) acc[r][halves] = _mm256_inserti128_si256(_mm256_setzero_si256(), acc4[r], 0);
        store_row_avx2(c + r * ldc, acc[r][0], acc[r][1], cols, accumulate);
    }
}

// tile_avx2 with `rows` (1..6) made a constant too.
__attribute__((target("avx2"), always_inline)) static inline void tile_rows_avx2(const int32_t *a, long pairs,
                                                                                  const int8_t *w, int32_t *c, long ldc,
                                                                                  int cols, int accumulate, long rows,
                                                                                  const int quarters) {
    switch (rows) {
    case 6: tile_avx2(a, pairs, w, c, ldc, cols, accumulate, 6, quarters); break;
    case 5: tile_avx2(a, pairs, w, c, ldc, cols, accumulate, 5, quarters); break;
    case 4: tile_avx2(a, pairs, w, c, ldc, cols, accumulate, 4, quarters); break;
    case 3: tile_avx2(a, pairs, w, c, ldc, cols, accumulate, 3, quarters); break;
    case 2: tile_avx2(a, pairs, w, c, ldc, cols, accumulate, 2, quarters); break;
    default: tile_avx2(a, pairs, w, c, ldc, cols, accumulate, 1, quarters); break;
    }
}

// rows x kc activations (kc a multiple of 4) to int16, row after row, kc / 2 pairs each.
__attribute__((target("avx2"))) static void widen_avx2(const uint8_t *a, long lda, long rows, long kc, int32_t *out) {
    for (long r = 0; r < rows; r++) {
        const uint8_t *src = a + r * lda;
        uint8_t *dst = (uint8_t *)(out + r * (kc / 2));
        long t = 0;
        for (; t + 16 <= kc; t += 16)
            _mm256_storeu_si256((__m256i *)(dst + 2 * t), _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(src + t))));
        for (; t < kc; t += 4)
            _mm_storel_epi64((__m128i *)(dst + 2 * t), _mm_cvtepu8_epi16(_mm_cvtsi32_si128((int)load_u32(src + t))));
    }
}

__attribute__((target("avx2"))) static void gemm_avx2(const uint8_t *a, int m, int k, long lda, const int8_t *packed,
                                                     int n, int32_t *c, long ldc) {
    int32_t block[AVX2_MC * AVX2_KC / 2] __attribute__((aligned(32)));
    long k4 = round_up(k, 4), kblocks = (k4 + AVX2_KC - 1) / AVX2_KC;
    long kc_max = round_up((k4 + kblocks - 1) / kblocks, 4);  // equal k blocks, not a full one and a sliver
    for (long i0 = 0; i0 < m; i0 += AVX2_MC) {
        long mc = min_long(AVX2_MC, m - i0);
        for (long k0 = 0; k0 < k4; k0 += kc_max) {
            long kc = min_long(kc_max, k4 - k0), pairs = kc / 2;
            int accumulate = k0 > 0;
            widen_avx2(a + i0 * lda + k0, lda, mc, kc, block);
            for (long j0 = 0; j0 < n; j0 += 16) {
                const int8_t *w = packed + ((j0 / 16) * (k4 / 2) + k0 / 2) * 64;
                int cols = (int)min_long(16, n - j0);
                for (long i = 0; i < mc; i += AVX2_MR) {
                    const int32_t *ap = block + i * pairs;
                    int32_t *cp = c + (i0 + i) * ldc + j0;
                    long rows = min_long(AVX2_MR, mc - i);
                    switch ((cols + 3) / 4) {
                    case 4: tile_rows_avx2(ap, pairs, w, cp, ldc, cols, accumulate, rows, 4); break;
                    case 3: tile_rows_avx2(ap, pairs, w, cp, ldc, cols, accumulate, rows, 3); break;
                    case 2: tile_rows_avx2(ap, pairs, w, cp, ldc, cols, accumulate, rows, 2); break;
                    default: tile_rows_avx2(ap, pairs, w, cp, ldc, cols, accumulate, rows, 1); break;
                    }
                }
            }
        }
    }
}

// AVX-VNNI: the AVX2 tile shape (6 rows x 16 outputs, 12 accumulators) on the uint8 activations
// directly, VPDPBUSD accumulating in place. A panel is k4 x 16 bytes, which stays in L1.
enum { VNNI256_MR = 6 };

__attribute__((target("avx2,avxvnni"), always_inline)) static inline void tile_avx_vnni(const uint8_t *a, long lda,
                                                                                         const int8_t *w, long groups,
                                                                                         int32_t *c, long ldc, int cols,
                                                                                         const int rows) {
    __m256i acc[VNNI256_MR][2];
    for (int r = 0; r < rows; r++) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
    for (long g = 0; g < groups; g++) {
        __m256i w0 = _mm256_loadu_si256((const __m256i *)(w + g * 64));
        __m256i w1 = _mm256_loadu_si256((const __m256i *)(w + g * 64 + 32));
        for (int r = 0; r < rows; r++) {
            __m256i av = _mm256_set1_epi32((int)load_u32(a + r * lda + g * 4));
            acc[r][0] = _mm256_dpbusd_avx_epi32(acc[r][0], av, w0);
            acc[r][1] = _mm256_dpbusd_avx_epi32(acc[r][1], av, w1);
        }
    }
    for (int r = 0; r < rows; r++) store_row_avx2(c + r * ldc, acc[r][0], acc[r][1], cols, 0);
}

__attribute__((target("avx2,avxvnni"))) static void gemm_avx_vnni(const uint8_t *a, int m, int k, long lda,
                                                                 const int8_t *packed, int n, int32_t *c, long ldc) {
    long groups = round_up(k, 4) / 4;
    for (long j0 = 0; j0 < n; j0 += 16) {
        const int8_t *w = packed + (j0 / 16) * groups * 64;
        int cols = (int)min_long(16, n - j0);
        for (long i = 0; i < m; i += VNNI256_MR) {
            const uint8_t *ap = a + i * lda;
            int32_t *cp = c + i * ldc + j0;
            switch (min_long(VNNI256_MR, m - i)) {
            case 6: tile_avx_vnni(ap, lda, w, groups, cp, ldc, cols, 6); break;
            case 5: tile_avx_vnni(ap, lda, w, groups, cp, ldc, cols, 5); break;
            case 4: tile_avx_vnni(ap, lda, w, groups, cp, ldc, cols, 4); break;
            case 3: tile_avx_vnni(ap, lda, w, groups, cp, ldc, cols, 3); break;
            case 2: tile_avx_vnni(ap, lda, w, groups, cp, ldc, cols, 2); break;
            default: tile_avx_vnni(ap, lda, w, groups, cp, ldc, cols, 1); break;
            }
        }
    }
}

// AVX-512 VNNI: MR rows x NB blocks of 16 outputs, all accumulators in registers (constant sizes,
// so the compiler unrolls the loops): per group of 4 inputs, NB weight loads, MR broadcasts,
// MR x NB VPDPBUSD. `left` is how many outputs of the last block are real.
#define VNNI512_KERNEL(MR, NB)                                                                                        \
    __attribute__((target("avx512f,avx512bw,avx512vnni"), always_inline)) static inline void                        \
    kernel_##MR##x##NB(const uint8_t *a, long lda, const int8_t *w, long groups, int32_t *c, long ldc, int left) {   \
        __m512i acc[MR][NB];                                                                                          \
        for (int r = 0; r < MR; r++)                                                                                  \
            for (int b = 0; b < NB; b++) acc[r][b] = _mm512_setzero_si512();                                          \
        for (long g = 0; g < groups; g++) {                                                                           \
            __m512i wv[NB];                                                                                           \
            for (int b = 0; b < NB; b++) wv[b] = _mm512_loadu_si512((const void *)(w + (b * groups + g) * 64));      \
            for (int r = 0; r < MR; r++) {                                                                            \
                __m512i av = _mm512_set1_epi32((int)load_u32(a + r * lda + g * 4));                                   \
                for (int b = 0; b < NB; b++) acc[r][b] = _mm512_dpbusd_epi32(acc[r][b], av, wv[b]);                   \
            }                                                                                                         \
        }                                                                                                             \
        __mmask16 last = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);                              \
        for (int r = 0; r < MR; r++)                                                                                  \
            for (int b = 0; b < NB; b++)                                                                              \
                _mm512_mask_storeu_epi32(c + r * ldc + b * 16, b == NB - 1 ? last : (__mmask16)0xffff, acc[r][b]);    \
    }
VNNI512_KERNEL(4, 4) VNNI512_KERNEL(4, 3) VNNI512_KERNEL(4, 2) VNNI512_KERNEL(4, 1)
VNNI512_KERNEL(1, 4) VNNI512_KERNEL(1, 3) VNNI512_KERNEL(1, 2) VNNI512_KERNEL(1, 1)

__attribute__((target("avx512f,avx512bw,avx512vnni"))) static void gemm_avx512_vnni(const uint8_t *a, int m, int k,
                                                                                   long lda, const int8_t *packed,
                                                                                   int n, int32_t *c, long ldc) {
    long groups = round_up(k, 4) / 4, blocks = (n + 15) / 16;
    for (long jb = 0; jb < blocks; jb += 4) {
        long nb = min_long(blocks - jb, 4);
        int left = (int)(n - (jb + nb - 1) * 16);  // real outputs of this panel's last block
        const int8_t *w = packed + jb * groups * 64;
        int32_t *cp = c + jb * 16;
        long i = 0;
        for (; i + 4 <= m; i += 4) {
            const uint8_t *ap = a + i * lda;
            int32_t *cr = cp + i * ldc;
            switch (nb) {
            case 4: kernel_4x4(ap, lda, w, groups, cr, ldc, left); break;
            case 3: kernel_4x3(ap, lda, w, groups, cr, ldc, left); break;
            case 2: kernel_4x2(ap, lda, w, groups, cr, ldc, left); break;
            default: kernel_4x1(ap, lda, w, groups, cr, ldc, left); break;
            }
        }
        for (; i < m; i++) {
            const uint8_t *ap = a + i * lda;
            int32_t *cr = cp + i * ldc;
            switch (nb) {
            case 4: kernel_1x4(ap, lda, w, groups, cr, ldc, left); break;
            case 3: kernel_1x3(ap, lda, w, groups, cr, ldc, left); break;
            case 2: kernel_1x2(ap, lda, w, groups, cr, ldc, left); break;
            default: kernel_1x1(ap, lda, w, groups, cr, ldc, left); break;
            }
        }
    }
}
#endif

#if COHORT_ARM
// Both Arm paths: tiles of up to 4 rows x 16 outputs (16 accumulators of the 32 registers).
enum { ARM_MR = 4 };

static inline void store_row_neon(int32_t *c, const int32x4_t acc[4], int cols) {
    if (cols == 16) {
        for (int b = 0; b < 4; b++) vst1q_s32(c + 4 * b, acc[b]);
        return;
    }
    int32_t row[16];
    for (int b = 0; b < 4; b++) vst1q_s32(row + 4 * b, acc[b]);
    memcpy(c, row, (size_t)cols * sizeof row[0]);
}

// The activations of 4 inputs, widened to int16 (0..255).
static inline int16x4_t widen4_neon(const uint8_t *a) {
    return vreinterpret_s16_u16(vget_low_u16(vmovl_u8(vreinterpret_u8_u32(vdup_n_u32(load_u32(a))))));
}

// NEON: int16 products widened into int32 by SMLAL, exact. w is the panel, 16 int16 per input.
__attribute__((always_inline)) static inline void tile_neon(const uint8_t *a, long lda, const int8_t *w, long k4,
                                                            int32_t *c, long ldc, int cols, const int rows) {
    int32x4_t acc[ARM_MR][4];
    for (int r = 0; r < rows; r++)
        for (int b = 0; b < 4; b++) acc[r][b] = vdupq_n_s32(0);
    for (long g = 0; g < k4; g += 4) {
        int16x4_t av[ARM_MR];
        for (int r = 0; r < rows; r++) av[r] = widen4_neon(a + r * lda + g);
// Input g + t: its 16 weights times lane t of each row's 4 activations (the lane an immediate).
#define NEON_STEP(t)                                                                                                  \
    {                                                                                                                 \
        int16x8_t w0 = vreinterpretq_s16_s8(vld1q_s8(w + (g + t) * 32));                                            \
        int16x8_t w1 = vreinterpretq_s16_s8(vld1q_s8(w + (g + t) * 32 + 16));                                       \
        for (int r = 0; r < rows; r++) {                                                                              \
            acc[r][0] = vmlal_lane_s16(acc[r][0], vget_low_s16(w0), av[r], t);                                        \
            acc[r][1] = vmlal_high_lane_s16(acc[r][1], w0, av[r], t);                                                 \
            acc[r][2] = vmlal_lane_s16(acc[r][2], vget_low_s16(w1), av[r], t);                                        \
            acc[r][3] = vmlal_high_lane_s16(acc[r][3], w1, av[r], t);                                                 \
        }                                                                                                             \
    }
        NEON_STEP(0) NEON_STEP(1) NEON_STEP(2) NEON_STEP(3)
#undef NEON_STEP
    }
    for (int r = 0; r < rows; r++) store_row_neon(c + r * ldc, acc[r], cols);
}

static void gemm_neon(const uint8_t *a, int m, int k, long lda, const int8_t *packed, int n, int32_t *c, long ldc) {
    long k4 = round_up(k, 4);
    for (long j0 = 0; j0 < n; j0 += 16) {
        const int8_t *w = packed + (j0 / 16) * k4 * 32;
        int cols = (int)min_long(16, n - j0);
        for (long i = 0; i < m; i += ARM_MR) {
            const uint8_t *ap = a + i * lda;
            int32_t *cp = c + i * ldc + j0;
            switch (min_long(ARM_MR, m - i)) {
            case 4: tile_neon(ap, lda, w, k4, cp, ldc, cols, 4); break;
            case 3: tile_neon(ap, lda, w, k4, cp, ldc, cols, 3); break;
            case 2: tile_neon(ap, lda, w, k4, cp, ldc, cols, 2); break;
            default: tile_neon(ap, lda, w, k4, cp, ldc, cols, 1); break;
            }
        }
    }
}

#if defined(__clang__)
#define DOTPROD_TARGET __attribute__((target("dotprod")))
#else
#define DOTPROD_TARGET __attribute__((target("arch=armv8.2-a+dotprod")))  // arm_neon.h's own target for SDOT
#endif

// DOTPROD: SDOT multiplies signed bytes, so the activations go in as a - 128 (a flip of the top
// bit) and the accumulators start at the panel's 128 x weight sums: 128 sum w + sum (a - 128) w
// = sum a w. Int32 wraps modulo 2^32 and the true sum fits, so the result is exact.
DOTPROD_TARGET __attribute__((always_inline)) static inline void tile_dotprod(const uint8_t *a, long lda,
                                                                              const int8_t *panel, long groups,
                                                                              int32_t *c, long ldc, int cols,
                                                                              const int rows) {
    int32x4_t acc[ARM_MR][4];
    for (int b = 0; b < 4; b++) {
        int32x4_t correction = vreinterpretq_s32_s8(vld1q_s8(panel + 16 * b));
        for (int r = 0; r < rows; r++) acc[r][b] = correction;
    }
    const int8_t *w = panel + 64;
    const int8x16_t flip = vdupq_n_s8(-128);
    for (long g = 0; g < groups; g++) {
        int8x16_t wv[4];
        for (int b = 0; b < 4; b++) wv[b] = vld1q_s8(w + g * 64 + 16 * b);
        for (int r = 0; r < rows; r++) {
            int8x16_t av = veorq_s8(vreinterpretq_s8_u32(vdupq_n_u32(load_u32(a + r * lda + g * 4))), flip);
            for (int b = 0; b < 4; b++) acc[r][b] = vdotq_s32(acc[r][b], wv[b], av);
        }
    }
    for (int r = 0; r < rows; r++) store_row_neon(c + r * ldc, acc[r], cols);
}

DOTPROD_TARGET static void gemm_dotprod(const uint8_t *a, int m, int k, long lda, const int8_t *packed, int n,
                                        int32_t *c, long ldc) {
    long groups = round_up(k, 4) / 4;
    for (long j0 = 0; j0 < n; j0 += 16) {
        const int8_t *panel = packed + (j0 / 16) * (64 + 64 * groups);
        int cols = (int)min_long(16, n - j0);
        for (long i = 0; i < m; i += ARM_MR) {
            const uint8_t *ap = a + i * lda;
            int32_t *cp = c + i * ldc + j0;
            switch (min_long(ARM_MR, m - i)) {
            case 4: tile_dotprod(ap, lda, panel, groups, cp, ldc, cols, 4); break;
            case 3: tile_dotprod(ap, lda, panel, groups, cp, ldc, cols, 3); break;
            case 2: tile_dotprod(ap, lda, panel, groups, cp, ldc, cols, 2); break;
            default: tile_dotprod(ap, lda, panel, groups, cp, ldc, cols, 1); break;
            }
        }
    }
}
#endif

void cohort_int8_gemm(const uint8_t *a, int m, int k, long lda, const int8_t *packed, int n, int32_t *c, long ldc,
                      cohort_int8_path path) {
    switch (path) {
#if COHORT_X86
    case COHORT_INT8_AVX2: gemm_avx2(a, m, k, lda, packed, n, c, ldc); return;
    case COHORT_INT8_AVX_VNNI: gemm_avx_vnni(a, m, k, lda, packed, n, c, ldc); return;
    case COHORT_INT8_AVX512_VNNI: gemm_avx512_vnni(a, m, k, lda, packed, n, c, ldc); return;
#endif
#if COHORT_ARM
    case COHORT_INT8_NEON: gemm_neon(a, m, k, lda, packed, n, c, ldc); return;
    case COHORT_INT8_DOTPROD: gemm_dotprod(a, m, k, lda, packed, n, c, ldc); return;
#endif
    default: gemm_portable(a, m, k, lda, packed, n, c, ldc); return;
    }
}

// ---- Dequantiser -------------------------------------------------------------------------------
// One loop, written so compilers vectorise it: the AVX2 copy (no FMA in its target, so nothing to
// fuse either way) runs wherever AVX2 does; NEON needs no copy, it is aarch64's baseline.

__attribute__((always_inline)) static inline void dequantize_rows(const int32_t *c, int m, int n,
                                                                  const int32_t *column_sums,
                                                                  const uint8_t *zero_points, const float *scales,
                                                                  const float *weight_scales, const float *bias,
                                                                  float *y) {
    for (long i = 0; i < m; i++) {
        const int32_t *row = c + i * n;
        float *out = y + i * n;
        int32_t zero_point = zero_points[i];
        float scale = scales[i];
        if (bias) {
            for (long j = 0; j < n; j++) {
                float v = (float)(row[j] - zero_point * column_sums[j]) * (scale * weight_scales[j]);
                out[j] = v + bias[j];
            }
        } else {
            for (long j = 0; j < n; j++) out[j] = (float)(row[j] - zero_point * column_sums[j]) * (scale * weight_scales[j]);
        }
    }
}

static void dequantize_portable(const int32_t *c, int m, int n, const int32_t *column_sums, const uint8_t *zero_points,
                                const float *scales, const float *weight_scales, const float *bias, float *y) {
    dequantize_rows(c, m, n, column_sums, zero_points, scales, weight_scales, bias, y);
}

#if COHORT_X86
__attribute__((target("avx2"))) static void dequantize_avx2(const int32_t *c, int m, int n, const int32_t *column_sums,
                                                           const uint8_t *zero_points, const float *scales,
                                                           const float *weight_scales, const float *bias, float *y) {
    dequantize_rows(c, m, n, column_sums, zero_points, scales, weight_scales, bias, y);
}
#endif

void cohort_int8_dequantize(const int32_t *c, int m, int n, const int32_t *column_sums, const uint8_t *zero_points,
                            const float *scales, const float *weight_scales, const float *bias, float *y) {
#if COHORT_X86
    if (cohort_cpu_features() & COHORT_CPU_AVX2) {
        dequantize_avx2(c, m, n, column_sums, zero_points, scales, weight_scales, bias, y);
        return;
    }
#endif
    dequantize_portable(c, m, n, column_sums, zero_points, scales, weight_scales, bias, y);
}
