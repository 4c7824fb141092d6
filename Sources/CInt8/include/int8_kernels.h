#ifndef COHORT_INT8_KERNELS_H
#define COHORT_INT8_KERNELS_H
#include <stdint.h>

// 8-bit inference kernels (Cohort's int8 Linear layers): activations quantised per batch to
// uint8 with a zero point (ONNX DynamicQuantizeLinear's rule), weights int8 per output channel,
// products accumulated in int32. The AVX-512 VNNI path is chosen at run time where the CPU has it.

/// 1 when the CPU (and the OS, for the ZMM state) supports AVX512F, AVX512BW and AVX512-VNNI.
int cohort_int8_has_vnni(void);

/// Columns of the packed weight layout are padded to this, the input dimension to a multiple of 4.
enum { COHORT_INT8_COLUMN_BLOCK = 16 };

/// The uint8 quantisation of n values: scale = (max(0, max x) - min(0, min x)) / 255, zero point
/// round(-min / scale), q = saturate(round(x / scale) + zero point), rounding half to even.
/// `rows` rows of `n / rows` values are written with a row stride of `ldq` bytes (the padding is 0).
/// use_avx512 (only where cohort_int8_has_vnni() says so) takes the AVX-512 path; both give the same bytes.
void cohort_int8_quantize_u8(const float *x, long n, long rows, long ldq, uint8_t *q, float *scale, uint8_t *zero_point, int use_avx512);

/// Bytes of the packed layout of an [n][k] int8 weight (n outputs of k inputs).
long cohort_int8_packed_size(int n, int k);

/// Packs w [n][k] row-major into the kernel's layout and writes each output's sum of weights
/// (for the zero-point correction) to column_sums[n].
void cohort_int8_pack(const int8_t *w, int n, int k, int8_t *packed, int32_t *column_sums);

/// c[m][n] (row stride ldc) = sum over k of a[i][k] * w[j][k], a uint8 [m][k4] (row stride lda,
/// k4 = k rounded up to 4, padded with 0), w packed by cohort_int8_pack.
void cohort_int8_gemm(const uint8_t *a, int m, int k, long lda, const int8_t *packed, int n, int32_t *c, long ldc, int use_vnni);
/// y[m][n] = (c[i][j] - zero_point * column_sums[j]) * (input_scale * weight_scales[j]) + bias[j]
/// (bias may be NULL): the int32 products back to floats, as ONNX's Cast, Mul and Add do.
void cohort_int8_dequantize(const int32_t *c, int m, int n, const int32_t *column_sums, uint8_t zero_point, float input_scale,
                            const float *weight_scales, const float *bias, float *y);
#endif
