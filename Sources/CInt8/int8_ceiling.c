// See include/int8_kernels.h, cohort_int8_ceiling. Each probe runs ten independent chains of one
// instruction on registers only (each chain feeds its own result back, so nothing can be hoisted
// out of the loop and no load or store is timed): the issue rate of the path's integer
// multiply-add against the float FMA of the same vector width, which is what an exact int8 kernel
// can gain over sgemm on this core at best.
#include "int8_kernels.h"
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif
#if defined(__aarch64__)
#include <arm_neon.h>
#endif

static double seconds_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

// Ten chains: ten times the latency covers the throughput of every core we know of.
#define CHAINS(step) step(0) step(1) step(2) step(3) step(4) step(5) step(6) step(7) step(8) step(9)
// Each chain starts from its own value, so the compiler cannot merge chains that would be equal.
#define DECLARE(type, init) type r0 = init(0), r1 = init(1), r2 = init(2), r3 = init(3), r4 = init(4), r5 = init(5), \
                            r6 = init(6), r7 = init(7), r8 = init(8), r9 = init(9)
// Times `iterations` rounds of the chains and returns multiply-adds per nanosecond; `sink`
// receives a lane of the result so the compiler keeps the work.
#define PROBE(name, target, type, init, step, lane, macs_per_instruction)                                       \
    target static double name(long iterations, volatile float *sink) {                                          \
        DECLARE(type, init);                                                                                      \
        double start = seconds_now();                                                                             \
        for (long i = 0; i < iterations; i++) { CHAINS(step) }                                                   \
        double elapsed = seconds_now() - start;                                                                   \
        *sink = (float)(lane(r0) + lane(r1) + lane(r2) + lane(r3) + lane(r4) + lane(r5) + lane(r6) + lane(r7)   \
                        + lane(r8) + lane(r9));                                                                   \
        return (double)iterations * 10 * (macs_per_instruction) / (elapsed * 1e9);                                \
    }

#if defined(__x86_64__) || defined(__i386__)
#define AVX2_TARGET __attribute__((target("avx2,fma")))
#define AVX_VNNI_TARGET __attribute__((target("avx2,avxvnni")))
#define AVX512_TARGET __attribute__((target("avx512f,avx512bw")))
#define AVX512_VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vnni")))
// The operands the chains multiply by: small values, so nothing overflows to a special value.
#define FMA256(i) r##i = _mm256_fmadd_ps(r##i, _mm256_set1_ps(0.999f), _mm256_set1_ps(0.001f));
#define FMA512(i) r##i = _mm512_fmadd_ps(r##i, _mm512_set1_ps(0.999f), _mm512_set1_ps(0.001f));
#define MADD256(i) r##i = _mm256_madd_epi16(r##i, _mm256_set1_epi16(1));
#define DPBUSD256(i) r##i = _mm256_dpbusd_avx_epi32(r##i, _mm256_set1_epi8(1), _mm256_set1_epi8(1));
#define DPBUSD512(i) r##i = _mm512_dpbusd_epi32(r##i, _mm512_set1_epi8(1), _mm512_set1_epi8(1));
#define LANE256F(r) _mm256_cvtss_f32(r)
#define LANE512F(r) _mm512_cvtss_f32(r)
#define LANE256I(r) _mm256_cvtsi256_si32(r)
#define LANE512I(r) _mm_cvtsi128_si32(_mm512_castsi512_si128(r))
#define INIT256F(i) _mm256_set1_ps(1 + i)
#define INIT512F(i) _mm512_set1_ps(1 + i)
#define INIT256I(i) _mm256_set1_epi32(1 + i)
#define INIT512I(i) _mm512_set1_epi32(1 + i)
PROBE(fma_avx2, AVX2_TARGET, __m256, INIT256F, FMA256, LANE256F, 8)
PROBE(fma_avx512, AVX512_TARGET, __m512, INIT512F, FMA512, LANE512F, 16)
// VPMADDWD: 16 int16 products summed in pairs into 8 int32 (the avx2 path adds them with VPADDD,
// which issues on other ports).
PROBE(madd_avx2, AVX2_TARGET, __m256i, INIT256I, MADD256, LANE256I, 16)
PROBE(dpbusd_avx_vnni, AVX_VNNI_TARGET, __m256i, INIT256I, DPBUSD256, LANE256I, 32)
PROBE(dpbusd_avx512, AVX512_VNNI_TARGET, __m512i, INIT512I, DPBUSD512, LANE512I, 64)
#endif

#if defined(__aarch64__)
#if defined(__clang__)
#define DOTPROD_TARGET __attribute__((target("dotprod")))
#else
#define DOTPROD_TARGET __attribute__((target("arch=armv8.2-a+dotprod")))
#endif
#define FMLA(i) r##i = vfmaq_f32(r##i, r##i, vdupq_n_f32(0.999f));
#define MLAL(i) r##i = vmlal_s16(r##i, vget_low_s16(vreinterpretq_s16_s32(r##i)), vdup_n_s16(1));
#define SDOT(i) r##i = vdotq_s32(r##i, vdupq_n_s8(1), vdupq_n_s8(1));
#define INITF(i) vdupq_n_f32(1 + i)
#define INITI(i) vdupq_n_s32(1 + i)
#define LANEF(r) vgetq_lane_f32(r, 0)
#define LANEI(r) vgetq_lane_s32(r, 0)
PROBE(fma_neon, , float32x4_t, INITF, FMLA, LANEF, 4)
// SMLAL: 4 int16 x int16 products into 4 int32 (the neon path's vmlal_lane_s16).
PROBE(mlal_neon, , int32x4_t, INITI, MLAL, LANEI, 4)
PROBE(sdot_neon, DOTPROD_TARGET, int32x4_t, INITI, SDOT, LANEI, 16)
#endif

typedef double (*probe_fn)(long, volatile float *);

// Runs a probe for about `seconds` (after a 1/20 warm-up that also calibrates the count).
static double measure(probe_fn probe, double seconds) {
    volatile float sink;
    long iterations = 1 << 16;
    double rate = probe(iterations, &sink);
    while (iterations * 10.0 / (rate * 1e9) < seconds / 20 && iterations < (1L << 40)) {
        iterations *= 4;
        rate = probe(iterations, &sink);
    }
    long count = (long)(seconds * rate * 1e9 / 10.0 / 16.0) + 1;  // rate counts MACs; 16 per instruction at most
    return probe(count > iterations ? count : iterations, &sink);
}

int cohort_int8_ceiling(cohort_int8_path path, double seconds, double *int8_macs_per_ns, double *fp32_macs_per_ns) {
    probe_fn integer = 0, fp32 = 0;
    if (!cohort_int8_path_available(path)) return 0;
    switch (path) {
#if defined(__x86_64__) || defined(__i386__)
    case COHORT_INT8_AVX2: integer = madd_avx2; fp32 = fma_avx2; break;
    case COHORT_INT8_AVX_VNNI: integer = dpbusd_avx_vnni; fp32 = fma_avx2; break;
    case COHORT_INT8_AVX512_VNNI: integer = dpbusd_avx512; fp32 = fma_avx512; break;
#endif
#if defined(__aarch64__)
    case COHORT_INT8_NEON: integer = mlal_neon; fp32 = fma_neon; break;
    case COHORT_INT8_DOTPROD: integer = sdot_neon; fp32 = fma_neon; break;
#endif
    default: return 0;
    }
    // Alternate the two so a change of clock or a neighbour's load falls on both.
    double a = measure(fp32, seconds / 4), b = measure(integer, seconds / 4);
    double c = measure(integer, seconds / 4), d = measure(fp32, seconds / 4);
    *fp32_macs_per_ns = (a + d) / 2;
    *int8_macs_per_ns = (b + c) / 2;
    return 1;
}
