#ifndef COHORT_INT8_KERNELS_H
#define COHORT_INT8_KERNELS_H
#include <stdint.h>

// 8-bit inference kernels (Cohort's int8 Linear layers). Activations are quantised per row (each
// sample its own range, so a prediction never depends on the rest of its batch) to uint8 with a
// zero point, by ONNX DynamicQuantizeLinear's rule applied to the row; weights are int8 per output
// channel; products accumulate in int32, exactly, on every path. The path is chosen at run time
// from cohort_cpu_features() (Sources/CCPU); every path gives the same bytes and the same int32s.

/// The kernel paths. A path's packed weight layout is its own: pack with the path you multiply with.
typedef enum {
    COHORT_INT8_PORTABLE = 0,  // C loops
    COHORT_INT8_AVX2,          // AVX2: u8 and s8 widened to int16, VPMADDWD into int32 (exact; VPMADDUBSW is not)
    COHORT_INT8_AVX_VNNI,      // VEX VPDPBUSD on YMM
    COHORT_INT8_AVX512_VNNI,   // VPDPBUSD on ZMM
    COHORT_INT8_NEON,          // aarch64 Advanced SIMD: widening multiply-accumulate
    COHORT_INT8_DOTPROD,       // aarch64 SDOT on activations shifted to int8 (a - 128), corrected by 128 x the weight sums
    COHORT_INT8_PATH_COUNT
} cohort_int8_path;

/// The fastest path cohort_cpu_features() allows.
cohort_int8_path cohort_int8_best_path(void);

/// 1 when this CPU (within the COHORT_CPU cap) can run `path`, else 0.
int cohort_int8_path_available(cohort_int8_path path);

/// The path's name for reports ("portable", "avx2", "avx_vnni", "avx512_vnni", "neon", "dotprod").
const char *cohort_int8_path_name(cohort_int8_path path);

/// This core's ceiling for `path` (`cohort bench int8`): the issue rate of the path's integer
/// multiply-add instruction and of the float FMA of the same vector width, each on ten register-only
/// chains for about seconds / 2, in multiply-adds per nanosecond. An exact int8 product cannot beat
/// sgemm by more than their ratio. Returns 0 (and sets nothing) for the portable path or a path
/// this CPU cannot run.
int cohort_int8_ceiling(cohort_int8_path path, double seconds, double *int8_macs_per_ns, double *fp32_macs_per_ns);

/// The input dimension of the quantised activations is padded with zeros to a multiple of this.
enum { COHORT_INT8_K_ALIGN = 4 };

/// The bytes cohort_int8_im2row may read past an image and write past its rows.
enum { COHORT_INT8_CONV_SLACK = 8 };

/// Per-row uint8 quantisation of x [rows][k] (row stride ldx floats) into q [rows][ldq] (ldq >=
/// k rounded up to COHORT_INT8_K_ALIGN; bytes k..ldq-1 of each row are written 0). For each row r:
/// lo = min(0, min x_r), hi = max(0, max x_r), scale_r = (hi - lo) / 255 (computed in float),
/// zero_r = saturate(round(-lo / scale_r)) to [0, 255], q = saturate(round(x / scale_r) + zero_r)
/// to [0, 255], rounding half to even and dividing (not multiplying by a reciprocal) as ONNX's
/// QuantizeLinear does. A row whose computed scale is 0 (a row of zeros) gets scale_r = 1 and zero_r = 0
/// (the ONNX export's Where does the same). NaN saturates to 0.
/// Every path writes the same bytes, scales and zero points as COHORT_INT8_PORTABLE.
void cohort_int8_quantize_rows(const float *x, long rows, long k, long ldx, uint8_t *q, long ldq,
                               float *scales, uint8_t *zero_points, cohort_int8_path path);

/// Bytes of `path`'s packed layout of an [n][k] int8 weight (n outputs of k inputs).
long cohort_int8_packed_size(int n, int k, cohort_int8_path path);

/// Packs w [n][k] row-major into `path`'s layout (`packed` has cohort_int8_packed_size bytes)
/// and writes each output's sum of weights to column_sums[n] (the zero-point correction).
void cohort_int8_pack(const int8_t *w, int n, int k, int8_t *packed, int32_t *column_sums, cohort_int8_path path);

/// c[m][n] (row stride ldc) = sum over k of a[i][k] * w[j][k], exact in int32: a uint8 [m][k]
/// (row stride lda >= k rounded up to 4, padded with 0 as cohort_int8_quantize_rows writes it),
/// w packed for the same path. No zero point is applied here. Exact while k * 255 * 128 < 2^31
/// (k <= 65793).
void cohort_int8_gemm(const uint8_t *a, int m, int k, long lda, const int8_t *packed, int n, int32_t *c, long ldc,
                      cohort_int8_path path);

/// y[i][j] = (float)(c[i][j] - zero_points[i] * column_sums[j]) * (scales[i] * weight_scales[j]) + bias[j]
/// (bias may be NULL; c and y have row stride n): the int32 products back to floats, as the ONNX
/// export's Sub, Cast, Mul and Add compute them (the two scales multiplied in float first).
void cohort_int8_dequantize(const int32_t *c, int m, int n, const int32_t *column_sums, const uint8_t *zero_points,
                            const float *scales, const float *weight_scales, const float *bias, float *y);

/// The patches of one quantised image [channels][height][width] as rows (int8 convolutions): row
/// p = oy x out_w + ox holds the channels x kernel_h x kernel_w bytes under the kernel at output pixel
/// (oy, ox), in [c][ky][kx] order (the weight's), `pad_value` (the image's zero point, the
/// quantised 0) where the kernel lies over the padding; bytes k..ldr-1 of each row are written 0
/// (ldr >= k rounded up to COHORT_INT8_K_ALIGN). out_h x out_w rows, as ConvGeometry computes them.
/// Runs of the kernel are copied 8 bytes at a time: `image` must be readable, and `rows` writable,
/// COHORT_INT8_CONV_SLACK bytes past their ends.
void cohort_int8_im2row(const uint8_t *image, int channels, int height, int width, int kernel_h, int kernel_w,
                        int stride_h, int stride_w, int pad_h, int pad_w, uint8_t pad_value, uint8_t *rows, long ldr);

/// One quantised image [channels][height][width] in nhwc with its padding, for oneDNN's int8
/// convolution: out [height + 2 pad_h][width + 2 pad_w][channels], `pad_value` (the image's zero
/// point, the quantised 0) on the border.
void cohort_int8_pad_nhwc(const uint8_t *image, int channels, int height, int width, int pad_h, int pad_w, uint8_t pad_value,
                          uint8_t *out);

/// What an int8 convolution's epilogue applies after the dequantiser: nothing, ReLU, or ReLU then
/// a 2x2 max pooling of stride 2 (the layers that follow it in a network, fused).
typedef enum {
    COHORT_INT8_EPILOGUE_NONE = 0,
    COHORT_INT8_EPILOGUE_RELU,
    COHORT_INT8_EPILOGUE_RELU_MAXPOOL2
} cohort_int8_epilogue;

/// One image's int32 products c [out_h x out_w][n] back to floats in its planes y [n][pixels] (NCHW):
/// v[o][p] = (float)(c[p][o] - zero_point * column_sums[o]) * (scale * weight_scales[o]) + bias[o],
/// rounded as cohort_int8_dequantize rounds it (bias may be NULL); then, as `epilogue` asks, ReLU
/// (Swift's max(v, 0)) and the 2x2 stride-2 max pooling of Pool2d (floor: y has ((out_h - 2) / 2 + 1)
/// x ((out_w - 2) / 2 + 1) pixels per plane), giving the bits the separate layers give. `scratch`
/// holds out_h x out_w x n floats. `path` above portable allows the AVX2 build of the same code.
void cohort_int8_conv_epilogue(const int32_t *c, int out_h, int out_w, int n, const int32_t *column_sums,
                               uint8_t zero_point, float scale, const float *weight_scales, const float *bias,
                               cohort_int8_epilogue epilogue, float *scratch, float *y, cohort_int8_path path);
#endif
