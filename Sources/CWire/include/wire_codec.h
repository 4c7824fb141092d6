#ifndef COHORT_WIRE_CODEC_H
#define COHORT_WIRE_CODEC_H
#include <stddef.h>
#include <stdint.h>
// Rounding gradients to the 16-bit wire formats and back (round to nearest, ties to even) in C:
// bf16 by bit arithmetic on AVX2, fp16 with F16C's conversions, where cohort_cpu_features() has
// COHORT_CPU_AVX2 (Sources/CCPU, capped by COHORT_CPU); on aarch64 the same with Advanced SIMD
// (integer bf16 rounding, FCVTN/FCVTL); a portable bitwise path elsewhere. All give the same bits
// (-0 stays -0; a NaN stays a NaN, quieted).
// `residual` (may be NULL): error feedback; src + residual is rounded and what the rounding lost is
// stored back in residual.
void cohort_wire_encode_bf16(const float *src, float *residual, uint16_t *out, size_t n);
void cohort_wire_decode_bf16(const uint16_t *src, float *out, size_t n);
void cohort_wire_accumulate_bf16(const uint16_t *src, float *sum, size_t n);
void cohort_wire_encode_fp16(const float *src, float *residual, uint16_t *out, size_t n);
void cohort_wire_decode_fp16(const uint16_t *src, float *out, size_t n);
void cohort_wire_accumulate_fp16(const uint16_t *src, float *sum, size_t n);
// Whether the conversions (fp16 and bf16) run on a vector path (F16C/AVX2, or NEON on aarch64);
// cohort_wire_use_vector(0) makes every conversion take the portable path even where the CPU has
// one (tests compare both).
int cohort_wire_has_f16c(void);
void cohort_wire_use_vector(int on);
#endif
