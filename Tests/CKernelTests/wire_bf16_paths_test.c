// The vector paths of the 16-bit wire codec (bf16 and fp16: encode with and without error
// feedback, decode, accumulate) and of cohort_f32_to_bf16 give the portable loops' bits, on
// adversarial inputs: rounding ties, NaN (quiet, signalling, negative, with payloads), infinities,
// fp32 and fp16 subnormals, values that overflow fp16, random bit patterns, every tail length.
// Which path is "vector" is what cohort_cpu_features() allows (run with COHORT_CPU to cap it); a
// path the CPU (or the cap) does not allow is reported as skipped. Exits 1 on the first mismatch.
//
// Built and run by launch/check-c (natively, and for aarch64 under qemu-aarch64).
#include "cohort_bf16.h"
#include "cohort_cpu.h"
#include "wire_codec.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long long checks;
static char summary[256];  // which paths ran and which were skipped, for the closing line
static void note(const char *what) {
    if (summary[0]) strncat(summary, "; ", sizeof summary - strlen(summary) - 1);
    strncat(summary, what, sizeof summary - strlen(summary) - 1);
}

static uint32_t bits_of(float x) { uint32_t u; memcpy(&u, &x, 4); return u; }
static float float_bits(uint32_t u) { float x; memcpy(&x, &u, 4); return x; }

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t next_random(void) {  // xorshift64*: the same inputs on every machine
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}

static void fail(const char *what, size_t i, uint32_t input, uint32_t vector, uint32_t portable, const char *hint) {
    printf("wire/bf16 paths: MISMATCH in %s at %zu: input %08x: vector %08x, portable %08x%s%s\n", what, i, input,
           vector, portable, hint ? " - " : "", hint ? hint : "");
    exit(1);
}

// The adversarial floats (as bit patterns), then random ones.
static size_t build_inputs(uint32_t *v, size_t cap) {
    size_t n = 0;
#define ADD(x) do { if (n < cap) v[n++] = (x); } while (0)
    const uint32_t specials[] = {
        0x00000000, 0x80000000, 0x7F800000, 0xFF800000,              // zeros, infinities
        0x7FC00000, 0xFFC00000, 0x7FC00001, 0x7FFFFFFF, 0xFFFFFFFF,  // quiet NaNs with payloads
        0x7F800001, 0x7FA00000, 0xFF800001, 0x7FBFFFFF, 0x7F80FFFF,  // signalling NaNs
        0x7F7FFFFF, 0xFF7FFFFF, 0x7F7F8000, 0x7F7F7FFF,              // fp32 max: bf16 rounds it to Inf
        0x00000001, 0x80000001, 0x00008000, 0x00018000, 0x0000FFFF,  // fp32 subnormals (bf16 ties among them)
        0x000AE398, 0x007FFFFF, 0x807FFFFF, 0x007F8000, 0x00400000,
        0x00800000, 0x80800000,                                      // smallest fp32 normal
        0x3F808000, 0x3F818000, 0x3F808001, 0x3F807FFF,              // bf16 ties (even down, odd up) and neighbours
        0x477FE000, 0x477FEFFF, 0x477FF000, 0x477FFFFF, 0x47800000,  // 65504, just under/at 65520 (fp16 overflow), 65536
        0xC77FF000, 0x49742400, 0x7149F2CA,                          // -65520, 1e6, 1e30
        0x38800000, 0x387FFFFF, 0x387FE000, 0x387FF000,              // fp16 smallest normal and just below
        0x33800000, 0x33000000, 0x33000001, 0x32FFFFFF, 0x33C00000,  // 2^-24, 2^-25 (tie to 0), 1.5*2^-24 (tie)
        0x34000000, 0x34200000, 0x34400000, 0xB3C00000, 0x3F801000,  // fp16 subnormal ties, a normal fp16 tie
        0x3F803000, 0x3F801001, 0x3F800FFF, 0x3F800000, 0xBF800000,
    };
    for (size_t i = 0; i < sizeof specials / sizeof specials[0]; i++) ADD(specials[i]);
    // Ties and near-ties of both formats across many exponents (fp32 and fp16 ranges).
    for (uint32_t e = 0; e < 256; e += 3) {
        uint32_t m = next_random() & 0x7F0000u;
        ADD((e << 23) | m | 0x8000u);             // bf16 tie, even
        ADD((e << 23) | m | 0x18000u);            // bf16 tie, odd
        ADD(0x80000000u | (e << 23) | m | 0x7FFFu);
        uint32_t m13 = next_random() & 0x7FE000u;
        ADD((e << 23) | m13 | 0x1000u);           // fp16 tie (in the normal range of fp16 for e 113..142)
        ADD((e << 23) | m13 | 0x3000u);
        ADD((e << 23) | m13 | 0x1001u);
    }
    for (uint32_t e = 100; e < 114; e++)          // fp16 subnormal range, ties at every shift
        for (uint32_t k = 0; k < 8; k++) {
            uint32_t shift = 126u - e;             // 13..26 mantissa bits dropped
            uint32_t m = (next_random() & 0x7FFFFFu);
            if (shift < 24) m = (m & ~((1u << shift) - 1u)) | (1u << (shift - 1u)); // exact tie
            ADD(((k & 1) ? 0x80000000u : 0) | (e << 23) | m);
        }
    while (n < cap) {  // random bit patterns and random ordinary magnitudes
        uint32_t r = next_random(), odd = n & 1;
        ADD(odd ? r : (r & 0x80FFFFFFu) | ((100u + (r >> 24) % 50u) << 23));
    }
#undef ADD
    return n;
}

// Bit-exact comparison of two float arrays, except that where in_a and in_b (the two addends) are
// both NaN the result only has to be NaN on both paths: IEEE 754 does not say which operand's
// payload a sum of two NaNs carries, and compilers commute float additions, so neither path can
// promise one.
static size_t nan_pairs;
static void compare_floats(const char *what, const float *vec, const float *por, const float *in_a, const float *in_b,
                           size_t n, const uint32_t *inputs) {
    for (size_t i = 0; i < n; i++) {
        checks++;
        if (bits_of(vec[i]) == bits_of(por[i])) continue;
        if (in_a && in_b && isnan(in_a[i]) && isnan(in_b[i]) && isnan(vec[i]) && isnan(por[i])) { nan_pairs++; continue; }
        fail(what, i, inputs ? inputs[i] : 0, bits_of(vec[i]), bits_of(por[i]), NULL);
    }
}

// Same for 16-bit results. With in_a and in_b (the two addends of an encode with error feedback)
// a lane where both are NaN only has to give a NaN (its 16-bit NaN pattern: magnitude above
// nan_above) on both paths, for the same reason as sums.
static void compare_halves(const char *what, const uint16_t *vec, const uint16_t *por, size_t n, const uint32_t *inputs,
                           const char *hint, const float *in_a, const float *in_b, uint16_t nan_above) {
    for (size_t i = 0; i < n; i++) {
        checks++;
        if (vec[i] == por[i]) continue;
        if (in_a && in_b && isnan(in_a[i]) && isnan(in_b[i]) && (vec[i] & 0x7FFF) > nan_above &&
            (por[i] & 0x7FFF) > nan_above) { nan_pairs++; continue; }
        fail(what, i, inputs[i], vec[i], por[i], hint);
    }
}

typedef void encode_fn(const float *, float *, uint16_t *, size_t);
typedef void decode_fn(const uint16_t *, float *, size_t);

// One format's encode (with and without residual), decode and accumulate, vector against portable,
// on the whole array and on short runs at every offset (every tail of 4-, 8- and 16-lane loops).
static void check_wire(const char *name, encode_fn *encode, decode_fn *decode, decode_fn *accumulate,
                       const float *x, const uint32_t *xb, size_t n, const float *res0, uint16_t nan_above) {
    uint16_t *hv = malloc(n * 2), *hp = malloc(n * 2);
    float *rv = malloc(n * 4), *rp = malloc(n * 4), *before = malloc(n * 4);
    char what[96];
    for (size_t off = 0; off < 40; off++) {
        for (size_t len = 0; len <= 40 && off + len <= n; len++) {
            cohort_wire_use_vector(1);
            encode(x + off, NULL, hv, len);
            cohort_wire_use_vector(0);
            encode(x + off, NULL, hp, len);
            snprintf(what, sizeof what, "%s encode (offset %zu, length %zu)", name, off, len);
            compare_halves(what, hv, hp, len, xb + off, NULL, NULL, NULL, 0);
        }
    }
    // The whole array, without residual.
    cohort_wire_use_vector(1);
    encode(x, NULL, hv, n);
    cohort_wire_use_vector(0);
    encode(x, NULL, hp, n);
    snprintf(what, sizeof what, "%s encode", name);
    compare_halves(what, hv, hp, n, xb, NULL, NULL, NULL, 0);
    // With error feedback: residuals start adversarial, then carry over three rounds.
    memcpy(rv, res0, n * 4);
    memcpy(rp, res0, n * 4);
    for (int round = 0; round < 3; round++) {
        memcpy(before, rp, n * 4);
        cohort_wire_use_vector(1);
        encode(x, rv, hv, n);
        cohort_wire_use_vector(0);
        encode(x, rp, hp, n);
        snprintf(what, sizeof what, "%s encode with residual (round %d)", name, round);
        compare_halves(what, hv, hp, n, xb, NULL, x, before, nan_above);
        snprintf(what, sizeof what, "%s residual (round %d)", name, round);
        compare_floats(what, rv, rp, x, before, n, xb);
        for (size_t off = 1; off < 20; off++) {  // tails with residual
            size_t len = 3 + off;
            memcpy(before, rp, n * 4);
            cohort_wire_use_vector(1);
            encode(x + off, rv + off, hv, len);
            cohort_wire_use_vector(0);
            encode(x + off, rp + off, hp, len);
            snprintf(what, sizeof what, "%s encode with residual (offset %zu)", name, off);
            compare_halves(what, hv, hp, len, xb + off, NULL, x + off, before + off, nan_above);
            compare_floats(what, rv + off, rp + off, x + off, before + off, len, xb + off);
        }
    }
    // Decode and accumulate every 16-bit pattern (the encoder's outputs and everything else).
    size_t m = 65536;
    uint16_t *all = malloc(m * 2);
    float *dv = malloc(m * 4), *dp = malloc(m * 4), *base = malloc(m * 4);
    uint32_t *allb = malloc(m * 4);
    for (size_t i = 0; i < m; i++) { all[i] = (uint16_t)i; allb[i] = (uint32_t)i; base[i] = x[i % n]; }
    for (size_t off = 0; off < 3; off++) {
        cohort_wire_use_vector(1);
        decode(all + off, dv, m - off);
        cohort_wire_use_vector(0);
        decode(all + off, dp, m - off);
        snprintf(what, sizeof what, "%s decode (offset %zu)", name, off);
        compare_floats(what, dv, dp, NULL, NULL, m - off, allb + off);
        // accumulate onto adversarial sums (NaN, Inf, -0, subnormals, random)
        float *acc_v = malloc(m * 4), *acc_p = malloc(m * 4), *dec = malloc(m * 4);
        memcpy(acc_v, base, m * 4);
        memcpy(acc_p, base, m * 4);
        cohort_wire_use_vector(1);
        accumulate(all + off, acc_v, m - off);
        cohort_wire_use_vector(0);
        accumulate(all + off, acc_p, m - off);
        decode(all + off, dec, m - off);
        snprintf(what, sizeof what, "%s accumulate (offset %zu)", name, off);
        compare_floats(what, acc_v, acc_p, base, dec, m - off, allb + off);
        free(acc_v); free(acc_p); free(dec);
    }
    cohort_wire_use_vector(1);
    free(all); free(dv); free(dp); free(base); free(allb);
    free(hv); free(hp); free(rv); free(rp); free(before);
}

int main(void) {
    enum { N = 6000 };
    uint32_t *xb = malloc(N * 4);
    float *x = malloc(N * 4), *res0 = malloc(N * 4);
    size_t n = build_inputs(xb, N);
    for (size_t i = 0; i < n; i++) x[i] = float_bits(xb[i]);
    // Residuals: mostly small (what error feedback carries), some zeros, -0, NaN, Inf, subnormals.
    for (size_t i = 0; i < n; i++) {
        uint32_t r = next_random();
        switch (r % 16) {
        case 0: res0[i] = 0.0f; break;
        case 1: res0[i] = -0.0f; break;
        case 2: res0[i] = float_bits(0x7FC00123u | (r & 0x80000000u)); break;
        case 3: res0[i] = float_bits(0x7F800000u | (r & 0x80000000u)); break;
        case 4: res0[i] = float_bits(r & 0x807FFFFFu); break;
        default: res0[i] = ldexpf((float)(int32_t)r / 2147483648.0f, -(int)(r % 24)) * fabsf(x[i]) * 0x1p-8f;
                 if (!isfinite(res0[i])) res0[i] = 0x1p-12f;
        }
    }

    unsigned feats = cohort_cpu_features();
    printf("wire/bf16 paths: COHORT_CPU cap %s, features:", cohort_cpu_level_name(cohort_cpu_cap()));
    if (!feats) printf(" none");
    for (unsigned b = 1; b; b <<= 1)
        if ((feats & b) && cohort_cpu_feature_name(b)) printf(" %s", cohort_cpu_feature_name(b));
    printf("\n");

    // The wire codec: vector is AVX2/F16C (x86-64) or NEON (aarch64).
    cohort_wire_use_vector(1);
    const char *wire_path = NULL;
#if defined(__x86_64__)
    wire_path = "avx2/f16c";
#elif defined(__aarch64__)
    wire_path = "neon";
#endif
    if (cohort_wire_has_f16c()) {
        printf("wire/bf16 paths: ran wire codec %s against portable (bf16, fp16)\n", wire_path);
        char ran[64];
        snprintf(ran, sizeof ran, "ran wire %s", wire_path);
        note(ran);
        check_wire("bf16", cohort_wire_encode_bf16, cohort_wire_decode_bf16, cohort_wire_accumulate_bf16, x, xb, n, res0, 0x7F80);
        check_wire("fp16", cohort_wire_encode_fp16, cohort_wire_decode_fp16, cohort_wire_accumulate_fp16, x, xb, n, res0, 0x7C00);
    } else {
        printf("wire/bf16 paths: skipped wire codec vector path: %s\n",
               wire_path ? "the CPU lacks it or COHORT_CPU caps it off" : "no vector path on this architecture");
        note("skipped wire vector");
    }

    // cohort_f32_to_bf16: vector is AVX-512 BF16 (x86-64) or NEON (aarch64).
    const char *bf16_path = NULL;
    int bf16_vector = 0;
#if defined(__x86_64__)
    bf16_path = "avx512_bf16";
    bf16_vector = (feats & COHORT_CPU_AVX512_BF16) != 0;
#elif defined(__aarch64__)
    bf16_path = "neon";
    bf16_vector = (feats & COHORT_CPU_NEON) != 0;
#endif
    if (cohort_cpu_has_avx512_bf16() != ((feats & COHORT_CPU_AVX512_BF16) != 0)) {
        printf("wire/bf16 paths: MISMATCH: cohort_cpu_has_avx512_bf16() disagrees with cohort_cpu_features()\n");
        return 1;
    }
    checks++;
    if (bf16_vector) {
        printf("wire/bf16 paths: ran cohort_f32_to_bf16 %s against portable\n", bf16_path);
        char ran[64];
        snprintf(ran, sizeof ran, "ran f32_to_bf16 %s", bf16_path);
        note(ran);
        // The AVX-512 BF16 instruction treats fp32 subnormal inputs as zero (Intel SDM,
        // VCVTNE2PS2BF16); if that is what differs, say so.
        const char *hint = bf16_path && strcmp(bf16_path, "avx512_bf16") == 0
                               ? "avx512_bf16 flushes fp32 subnormal inputs to signed zero, the portable loop rounds them"
                               : NULL;
        uint16_t *v = malloc(n * 2), *p = malloc(n * 2);
        char what[96];
        for (size_t off = 0; off < 40; off++)
            for (size_t len = 0; len <= 70 && off + len <= n; len++) {
                cohort_f32_to_bf16(x + off, v, len);
                cohort_f32_to_bf16_portable(x + off, p, len);
                snprintf(what, sizeof what, "cohort_f32_to_bf16 (offset %zu, length %zu)", off, len);
                compare_halves(what, v, p, len, xb + off, hint, NULL, NULL, 0);
            }
        cohort_f32_to_bf16(x, v, n);
        cohort_f32_to_bf16_portable(x, p, n);
        compare_halves("cohort_f32_to_bf16", v, p, n, xb, hint, NULL, NULL, 0);
        free(v); free(p);
    } else {
        printf("wire/bf16 paths: skipped cohort_f32_to_bf16 vector path: %s\n",
               bf16_path ? "the CPU lacks it or COHORT_CPU caps it off" : "no vector path on this architecture");
        note("skipped f32_to_bf16 vector");
    }

#ifdef __FLT16_MAX__
    // The portable fp16 encoder against the compiler's own float -> _Float16 conversion (every
    // non-NaN input; NaN payloads are the codec's own rule).
    {
        cohort_wire_use_vector(0);
        uint16_t *h = malloc(n * 2);
        cohort_wire_encode_fp16(x, NULL, h, n);
        for (size_t i = 0; i < n; i++) {
            if (isnan(x[i])) continue;
            volatile float xi = x[i];
            _Float16 r = (_Float16)xi;
            uint16_t rb;
            memcpy(&rb, &r, 2);
            checks++;
            if (rb != h[i]) fail("portable fp16 against _Float16", i, xb[i], rb, h[i], NULL);
        }
        free(h);
        cohort_wire_use_vector(1);
        printf("wire/bf16 paths: ran portable fp16 encode against the compiler's _Float16 conversion\n");
        note("fp16 against _Float16");
    }
#endif
    if (nan_pairs)
        printf("wire/bf16 paths: %zu sums of two NaNs compared as NaN only (IEEE 754 and the compilers leave which payload wins open)\n",
               nan_pairs);
    printf("wire/bf16 paths: %llu checks agree (%s)\n", checks, summary);
    free(xb); free(x); free(res0);
    return 0;
}
