#ifndef COHORT_BF16_H
#define COHORT_BF16_H
#include <stddef.h>
#include <stdint.h>

/// 1 when cohort_cpu_features() (Sources/CCPU: the CPU and OS, capped by COHORT_CPU) has
/// COHORT_CPU_AVX512_BF16, else 0.
int cohort_cpu_has_avx512_bf16(void);

/// bfloat16 bits of each float, rounded to nearest even (NaN stays NaN, quieted). Uses
/// vcvtne2ps2bf16 where cohort_cpu_features() has AVX-512 BF16, integer NEON on aarch64, else a
/// portable loop; all give the same bits.
void cohort_f32_to_bf16(const float *src, uint16_t *dst, size_t count);

/// The portable loop alone (tests compare it with the vector paths).
void cohort_f32_to_bf16_portable(const float *src, uint16_t *dst, size_t count);

/// Floats of bfloat16 bits (exact: a bfloat16 is the top half of a float).
void cohort_bf16_to_f32(const uint16_t *src, float *dst, size_t count);
#endif
