// See include/int8_kernels.h. The packed weight layout: for every block of 16 outputs and every
// 4 consecutive inputs, 64 bytes: the 4 inputs' weights of output 0, of output 1, ... of output 15,
// which is what VPDPBUSD multiplies against 4 broadcast uint8 activations.
#include "int8_kernels.h"
#include <math.h>
#include <string.h>
#include <immintrin.h>
#include <cpuid.h>

__attribute__((target("xsave")))
int cohort_int8_has_vnni(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid_count(1, 0, &a, &b, &c, &d) || !(c & (1u << 27))) return 0;  // OSXSAVE
    unsigned long long xcr0 = _xgetbv(0);
    if ((xcr0 & 0xe6) != 0xe6) return 0;  // the OS saves XMM, YMM, opmask and ZMM state
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    int avx512f = (b >> 16) & 1, avx512bw = (b >> 30) & 1, vnni = (c >> 11) & 1;
    return avx512f && avx512bw && vnni;
}

// The range, scale and zero point of the whole batch (shared by both paths).
static void quantization_range(float lo, float hi, float *scale_out, uint8_t *zero_out) {
    lo = lo < 0 ? lo : 0;
    hi = hi > 0 ? hi : 0;
    float scale = (hi - lo) / 255.0f;
    float zero = scale > 0 ? nearbyintf(-lo / scale) : 0;
    *scale_out = scale;
    *zero_out = (uint8_t)(zero < 0 ? 0 : (zero > 255 ? 255 : zero));
}

static void quantize_portable(const float *x, long n, long rows, long ldq, uint8_t *q, float *scale_out, uint8_t *zero_out) {
    float lo = 0, hi = 0;
    for (long i = 0; i < n; i++) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
    quantization_range(lo, hi, scale_out, zero_out);
    float scale = *scale_out, zero = *zero_out;
    long per = n / rows;
    for (long r = 0; r < rows; r++) {
        const float *src = x + r * per;
        uint8_t *dst = q + r * ldq;
        for (long i = 0; i < per; i++) {
            float v = scale > 0 ? nearbyintf(src[i] / scale) + zero : zero;
            dst[i] = (uint8_t)(v < 0 ? 0 : (v > 255 ? 255 : v));
        }
        for (long i = per; i < ldq; i++) dst[i] = 0;
    }
}

// The same rule, 16 values at a time, with identical results. ONNX divides by the scale; a
// division of 16 floats costs as much as the whole VNNI product of a small layer, so the quotient
// is taken as x * (1 / scale), within 3 ulp of the correctly rounded x / scale. Rounding to the
// nearest integer can only tell the two apart when the quotient lies within those ulps of a
// half-integer (|quotient| <= 255, so 3 ulp < 2^-13); lanes within 2^-11 of one (|y - round(y)|
// >= 0.5 - 2^-11), rare, are divided exactly. Returns round(quotient) + zero point as int32 (a NaN
// input gives INT32_MIN, which saturates to 0 as the portable loop's clamp does).
__attribute__((target("avx512f,avx512bw"), always_inline))
static inline __m512i quantize16(__m512 xv, __m512 s, __m512 inv, __m512 z, __m512 tie_from, int multiply) {
    __m512 y, r;
    if (multiply) {
        y = _mm512_mul_ps(xv, inv);
        r = _mm512_roundscale_ps(y, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        __mmask16 tie = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_sub_ps(y, r)), tie_from, _CMP_GE_OQ);
        if (tie) {
            y = _mm512_mask_div_ps(y, tie, xv, s);
            r = _mm512_mask_roundscale_ps(r, tie, y, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        }
    } else {
        r = _mm512_roundscale_ps(_mm512_div_ps(xv, s), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    }
    return _mm512_cvtps_epi32(_mm512_add_ps(r, z));  // |r| <= 255 + zero point: exact
}

__attribute__((target("avx512f,avx512bw")))
static void quantize_avx512(const float *x, long n, long rows, long ldq, uint8_t *q, float *scale_out, uint8_t *zero_out) {
    // Four independent minima and maxima: one chain would wait out vmaxps's latency every 16 values.
    __m512 lo[4], hi[4];
    for (int t = 0; t < 4; t++) lo[t] = hi[t] = _mm512_setzero_ps();
    long i = 0;
    for (; i + 64 <= n; i += 64) {
        for (int t = 0; t < 4; t++) {
            __m512 v = _mm512_loadu_ps(x + i + 16 * t);
            lo[t] = _mm512_min_ps(lo[t], v);
            hi[t] = _mm512_max_ps(hi[t], v);
        }
    }
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        lo[0] = _mm512_min_ps(lo[0], v);
        hi[0] = _mm512_max_ps(hi[0], v);
    }
    __m512 lo4 = _mm512_min_ps(_mm512_min_ps(lo[0], lo[1]), _mm512_min_ps(lo[2], lo[3]));
    __m512 hi4 = _mm512_max_ps(_mm512_max_ps(hi[0], hi[1]), _mm512_max_ps(hi[2], hi[3]));
    float l = _mm512_reduce_min_ps(lo4), h = _mm512_reduce_max_ps(hi4);
    for (; i < n; i++) { l = x[i] < l ? x[i] : l; h = x[i] > h ? x[i] : h; }
    quantization_range(l, h, scale_out, zero_out);
    float scale = *scale_out;
    long per = n / rows;
    if (!(scale > 0)) {
        for (long r = 0; r < rows; r++) { memset(q + r * ldq, *zero_out, (size_t)per); memset(q + r * ldq + per, 0, (size_t)(ldq - per)); }
        return;
    }
    // A scale so small or so large that its reciprocal is not a normal float: divide throughout.
    float reciprocal = 1.0f / scale;
    int multiply = isnormal(reciprocal) && isnormal(scale);
    __m512 s = _mm512_set1_ps(scale), inv = _mm512_set1_ps(reciprocal), z = _mm512_set1_ps((float)*zero_out);
    __m512 tie_from = _mm512_set1_ps(0.5f - 1.0f / 2048);
    // packs/packus work within 128-bit lanes: dword 4L + t of their result holds bytes 4L..4L+3 of
    // the t-th vector; this puts them back in order.
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    for (long r = 0; r < rows; r++) {
        const float *src = x + r * per;
        uint8_t *dst = q + r * ldq;
        long j = 0;
        // 64 values at a time: signed then unsigned saturating packs clamp to [0, 255] with two
        // shuffles for 64 bytes (a narrowing store per 16 values costs two).
        for (; j + 64 <= per; j += 64) {
            __m512i a = quantize16(_mm512_loadu_ps(src + j), s, inv, z, tie_from, multiply);
            __m512i b = quantize16(_mm512_loadu_ps(src + j + 16), s, inv, z, tie_from, multiply);
            __m512i c = quantize16(_mm512_loadu_ps(src + j + 32), s, inv, z, tie_from, multiply);
            __m512i d = quantize16(_mm512_loadu_ps(src + j + 48), s, inv, z, tie_from, multiply);
            __m512i bytes = _mm512_packus_epi16(_mm512_packs_epi32(a, b), _mm512_packs_epi32(c, d));
            _mm512_storeu_si512((void *)(dst + j), _mm512_permutexvar_epi32(order, bytes));
        }
        for (; j + 16 <= per; j += 16) {
            __m512i v = _mm512_max_epi32(quantize16(_mm512_loadu_ps(src + j), s, inv, z, tie_from, multiply), _mm512_setzero_si512());
            _mm_storeu_si128((__m128i *)(dst + j), _mm512_cvtusepi32_epi8(v));
        }
        for (; j < per; j++) {
            float v = nearbyintf(src[j] / scale) + (float)*zero_out;
            dst[j] = (uint8_t)(v < 0 ? 0 : (v > 255 ? 255 : v));
        }
        for (; j < ldq; j++) dst[j] = 0;
    }
}

void cohort_int8_quantize_u8(const float *x, long n, long rows, long ldq, uint8_t *q, float *scale_out, uint8_t *zero_out, int use_avx512) {
    if (use_avx512) quantize_avx512(x, n, rows, ldq, q, scale_out, zero_out);
    else quantize_portable(x, n, rows, ldq, q, scale_out, zero_out);
}

static int round_up(int v, int m) { return (v + m - 1) / m * m; }

long cohort_int8_packed_size(int n, int k) { return (long)round_up(n, 16) * round_up(k, 4); }

void cohort_int8_pack(const int8_t *w, int n, int k, int8_t *packed, int32_t *column_sums) {
    int n16 = round_up(n, 16), k4 = round_up(k, 4);
    memset(packed, 0, (size_t)n16 * k4);
    for (int j = 0; j < n; j++) {
        int32_t sum = 0;
        for (int i = 0; i < k; i++) {
            int8_t v = w[(long)j * k + i];
            sum += v;
            // block j/16, input group i/4, lane j%16, byte i%4
            packed[((long)(j / 16) * (k4 / 4) + i / 4) * 64 + (j % 16) * 4 + i % 4] = v;
        }
        column_sums[j] = sum;
    }
}

static void gemm_portable(const uint8_t *a, int m, int k, long lda, const int8_t *packed, int n, int32_t *c, long ldc) {
    int k4 = round_up(k, 4);
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
            const int8_t *col = packed + (long)(j / 16) * (k4 / 4) * 64 + (j % 16) * 4;
            int32_t acc = 0;
            for (int g = 0; g < k4 / 4; g++)
                for (int b = 0; b < 4; b++) acc += (int32_t)a[(long)i * lda + g * 4 + b] * col[(long)g * 64 + b];
            c[(long)i * ldc + j] = acc;
        }
    }
}

// MR rows x NB blocks of 16 outputs, all accumulators in registers (constant sizes, so the
// compiler unrolls the loops): per group of 4 inputs, NB weight loads, MR broadcasts, MR x NB
// VPDPBUSD. `left` is how many outputs of the last block are real.
#define VNNI_KERNEL(MR, NB)                                                                                           \
    __attribute__((target("avx512f,avx512bw,avx512vnni"), always_inline)) static inline void                        \
    kernel_##MR##x##NB(const uint8_t *a, long lda, const int8_t *w, int groups, int32_t *c, long ldc, int left) {    \
        __m512i acc[MR][NB];                                                                                          \
        for (int r = 0; r < MR; r++) for (int b = 0; b < NB; b++) acc[r][b] = _mm512_setzero_si512();               \
        for (int g = 0; g < groups; g++) {                                                                            \
            __m512i wv[NB];                                                                                           \
            for (int b = 0; b < NB; b++) wv[b] = _mm512_loadu_si512((const void *)(w + ((long)b * groups + g) * 64)); \
            for (int r = 0; r < MR; r++) {                                                                            \
                __m512i av = _mm512_set1_epi32(*(const int32_t *)(a + r * lda + g * 4));                              \
                for (int b = 0; b < NB; b++) acc[r][b] = _mm512_dpbusd_epi32(acc[r][b], av, wv[b]);                   \
            }                                                                                                         \
        }                                                                                                             \
        __mmask16 last = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);                              \
        for (int r = 0; r < MR; r++)                                                                                  \
            for (int b = 0; b < NB; b++)                                                                              \
                _mm512_mask_storeu_epi32(c + r * ldc + b * 16, b == NB - 1 ? last : (__mmask16)0xffff, acc[r][b]);    \
    }
VNNI_KERNEL(4, 4) VNNI_KERNEL(4, 3) VNNI_KERNEL(4, 2) VNNI_KERNEL(4, 1)
VNNI_KERNEL(1, 4) VNNI_KERNEL(1, 3) VNNI_KERNEL(1, 2) VNNI_KERNEL(1, 1)

__attribute__((target("avx512f,avx512bw,avx512vnni")))
static void gemm_vnni(const uint8_t *a, int m, int k, long lda, const int8_t *packed, int n, int32_t *c, long ldc) {
    int groups = round_up(k, 4) / 4, blocks = round_up(n, 16) / 16;
    for (int jb = 0; jb < blocks; jb += 4) {
        int nb = blocks - jb < 4 ? blocks - jb : 4;
        int left = n - (jb + nb - 1) * 16;  // real outputs of this panel's last block
        const int8_t *w = packed + (long)jb * groups * 64;
        int32_t *cp = c + jb * 16;
        int i = 0;
        for (; i + 4 <= m; i += 4) {
            const uint8_t *ap = a + (long)i * lda;
            int32_t *cr = cp + (long)i * ldc;
            switch (nb) {
            case 4: kernel_4x4(ap, lda, w, groups, cr, ldc, left); break;
            case 3: kernel_4x3(ap, lda, w, groups, cr, ldc, left); break;
            case 2: kernel_4x2(ap, lda, w, groups, cr, ldc, left); break;
            default: kernel_4x1(ap, lda, w, groups, cr, ldc, left); break;
            }
        }
        for (; i < m; i++) {
            const uint8_t *ap = a + (long)i * lda;
            int32_t *cr = cp + (long)i * ldc;
            switch (nb) {
            case 4: kernel_1x4(ap, lda, w, groups, cr, ldc, left); break;
            case 3: kernel_1x3(ap, lda, w, groups, cr, ldc, left); break;
            case 2: kernel_1x2(ap, lda, w, groups, cr, ldc, left); break;
            default: kernel_1x1(ap, lda, w, groups, cr, ldc, left); break;
            }
        }
    }
}

void cohort_int8_gemm(const uint8_t *a, int m, int k, long lda, const int8_t *packed, int n, int32_t *c, long ldc, int use_vnni) {
    if (use_vnni) gemm_vnni(a, m, k, lda, packed, n, c, ldc);
    else gemm_portable(a, m, k, lda, packed, n, c, ldc);
}

void cohort_int8_dequantize(const int32_t *c, int m, int n, const int32_t *column_sums, uint8_t zero_point, float input_scale,
                            const float *weight_scales, const float *bias, float *y) {
    // Per output: the zero-point correction and the combined scale (input scale x weight scale,
    // rounded to float first, as the graph's Mul of the two scales does).
    int32_t correction[n];
    float scale[n];
    for (int j = 0; j < n; j++) {
        correction[j] = (int32_t)zero_point * column_sums[j];
        scale[j] = input_scale * weight_scales[j];
    }
    for (int i = 0; i < m; i++) {
        const int32_t *row = c + (long)i * n;
        float *out = y + (long)i * n;
        if (bias) {
            for (int j = 0; j < n; j++) {
                float v = (float)(row[j] - correction[j]) * scale[j];
                out[j] = v + bias[j];
            }
        } else {
            for (int j = 0; j < n; j++) out[j] = (float)(row[j] - correction[j]) * scale[j];
        }
    }
}
