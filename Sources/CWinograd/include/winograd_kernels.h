#ifndef COHORT_WINOGRAD_KERNELS_H
#define COHORT_WINOGRAD_KERNELS_H

// Winograd F(4x4, 3x3) (Lavin and Gray 2016) for 3x3, stride-1 convolutions: the transforms around
// the 36 products that replace the direct convolution's multiply-adds (144 per 4x4 output tile and
// channel pair become 36). The caller (Sources/Cohort/Kernels/WinogradConvolution.swift) runs the
// products; these functions move data between NCHW tensors and the transformed domain:
//
//   forward    V = B^T d B (every 6x6 input tile d), U = G g G^T (every 3x3 filter g),
//              M[xi] = V[xi] U[xi] (36 products, the caller), y = A^T M A (+ bias)
//   backward   dM = A dy A^T, dU[xi] = V[xi]^T dM[xi], dV[xi] = dM[xi] U[xi]^T (the caller),
//              dg += G^T dU G, dx += the sum over tiles of B dV B^T
//
// The backward transforms are the exact transposes of the forward ones, so the gradients are those
// of the function the forward computes. Layouts (row-major, channels innermost so every transform
// works on 8 channels at a time):
//   xp  [batch][4*tiles_h+2][4*tiles_w+2][cp]  the input, zero-padded (written whole by the input
//                                              pass; dx's pass accumulates in it)
//   V   [36][P][cp]   U [36][cp][kp]   M [36][P][kp]   (P = batch*tiles_h*tiles_w tiles)
// cp and kp are channels and out_channels rounded up to a multiple of 8; the passes write zeros in
// the padding channels. y and dy stay NCHW: the output passes write and read their planes directly.
//
// Every path takes the same operations in the same order, without fused multiply-adds (this
// target is built with -ffp-contract=off), so all paths agree bit for bit.

typedef enum {
    COHORT_WINO_PORTABLE = 0,  // C, 8-lane vectors of the compiler's generic vector extension
    COHORT_WINO_AVX2,          // the same code compiled for AVX2
    COHORT_WINO_PATH_COUNT
} cohort_wino_path;

typedef struct {
    int batch, channels, height, width, pad;  // the input [batch][channels][height][width], padding on every side
    int out_channels, out_h, out_w;           // out_h = height + 2*pad - 2
    int tiles_h, tiles_w;                     // ceil(out_h / 4), ceil(out_w / 4)
    int cp, kp;                               // channels, out_channels rounded up to a multiple of 8
} cohort_wino_shape;

/// The shape of a 3x3 stride-1 convolution; 0 if the sizes are not positive or the output would be empty.
int cohort_wino_shape_make(int batch, int channels, int height, int width, int pad, int out_channels, cohort_wino_shape *shape);

/// Floats in each buffer: xp, V, U, M.
long cohort_wino_xp_count(const cohort_wino_shape *s);
long cohort_wino_v_count(const cohort_wino_shape *s);
long cohort_wino_u_count(const cohort_wino_shape *s);
long cohort_wino_m_count(const cohort_wino_shape *s);

cohort_wino_path cohort_wino_best_path(void);
int cohort_wino_path_available(cohort_wino_path path);
const char *cohort_wino_path_name(cohort_wino_path path);

/// U = G g G^T for every (c, k) of w [out_channels][channels][3][3]. U's rows for the padding input
/// channels (channels <= c < cp) are not written: the caller zeroes U once, when it makes it.
void cohort_wino_filter(const cohort_wino_shape *s, const float *w, float *U, cohort_wino_path path);
/// dw [out_channels][channels][3][3] += G^T dU G.
void cohort_wino_filter_grad(const cohort_wino_shape *s, const float *dU, float *dw, cohort_wino_path path);
/// x (NCHW) into xp's interior, then V = B^T d B for every tile.
void cohort_wino_input(const cohort_wino_shape *s, const float *x, float *xp, float *V, cohort_wino_path path);
/// y (NCHW) = A^T M A + bias (bias may be NULL).
void cohort_wino_output(const cohort_wino_shape *s, const float *M, const float *bias, float *y, cohort_wino_path path);
/// dM = A dy A^T for every tile of dy (NCHW; zeros where a tile overhangs the output).
void cohort_wino_output_grad(const cohort_wino_shape *s, const float *dy, float *dM, cohort_wino_path path);
/// dx (NCHW) += the sum over tiles of B dV B^T (accumulated in xp, which this zeroes first).
void cohort_wino_input_grad(const cohort_wino_shape *s, const float *dV, float *xp, float *dx, cohort_wino_path path);
#endif
