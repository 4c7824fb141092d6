// Winograd F(4x4, 3x3) transforms (winograd_kernels.h): the passes are in winograd_body.h, compiled
// once as portable C and once for AVX2.
#include "winograd_kernels.h"
#include "cohort_cpu.h"
#include <string.h>

typedef float v8 __attribute__((vector_size(32)));

static long round8(long n) { return (n + 7) / 8 * 8; }

int cohort_wino_shape_make(int batch, int channels, int height, int width, int pad, int out_channels, cohort_wino_shape *s) {
    if (batch <= 0 || channels <= 0 || height <= 0 || width <= 0 || pad < 0 || out_channels <= 0) return 0;
    int out_h = height + 2 * pad - 2, out_w = width + 2 * pad - 2;
    if (out_h <= 0 || out_w <= 0) return 0;
    *s = (cohort_wino_shape){
        .batch = batch, .channels = channels, .height = height, .width = width, .pad = pad,
        .out_channels = out_channels, .out_h = out_h, .out_w = out_w,
        .tiles_h = (out_h + 3) / 4, .tiles_w = (out_w + 3) / 4,
        .cp = (int)round8(channels), .kp = (int)round8(out_channels),
    };
    return 1;
}

static long tiles(const cohort_wino_shape *s) { return (long)s->batch * s->tiles_h * s->tiles_w; }
long cohort_wino_xp_count(const cohort_wino_shape *s) { return (long)s->batch * (4L * s->tiles_h + 2) * (4L * s->tiles_w + 2) * s->cp; }
long cohort_wino_v_count(const cohort_wino_shape *s) { return 36L * tiles(s) * s->cp; }
long cohort_wino_u_count(const cohort_wino_shape *s) { return 36L * s->cp * s->kp; }
long cohort_wino_m_count(const cohort_wino_shape *s) { return 36L * tiles(s) * s->kp; }

static const struct {
    const char *name;
    unsigned needs;
    int built;
} path_info[COHORT_WINO_PATH_COUNT] = {
    [COHORT_WINO_PORTABLE] = {"portable", 0, 1},
    [COHORT_WINO_AVX2] = {"avx2", COHORT_CPU_AVX2, COHORT_X86},
};

int cohort_wino_path_available(cohort_wino_path path) {
    if ((unsigned)path >= COHORT_WINO_PATH_COUNT || !path_info[path].built) return 0;
    return (cohort_cpu_features() & path_info[path].needs) == path_info[path].needs;
}

const char *cohort_wino_path_name(cohort_wino_path path) {
    return (unsigned)path < COHORT_WINO_PATH_COUNT ? path_info[path].name : "unknown";
}

cohort_wino_path cohort_wino_best_path(void) {
    return cohort_wino_path_available(COHORT_WINO_AVX2) ? COHORT_WINO_AVX2 : COHORT_WINO_PORTABLE;
}

#define WINO_FN(name) name##_portable
#define WINO_ATTR
#include "winograd_body.h"
#undef WINO_FN
#undef WINO_ATTR

#if COHORT_X86
#define WINO_FN(name) name##_avx2
#define WINO_ATTR __attribute__((target("avx2")))
#include "winograd_body.h"
#undef WINO_FN
#undef WINO_ATTR
#define WINO_DISPATCH(name, ...) \
    do { \
        if (path == COHORT_WINO_AVX2) name##_avx2(__VA_ARGS__); else name##_portable(__VA_ARGS__); \
    } while (0)
#else
#define WINO_DISPATCH(name, ...) \
    do { \
        (void)path; \
        name##_portable(__VA_ARGS__); \
    } while (0)
#endif

void cohort_wino_filter(const cohort_wino_shape *s, const float *w, float *U, cohort_wino_path path) {
    WINO_DISPATCH(filter, s, w, U);
}
void cohort_wino_filter_grad(const cohort_wino_shape *s, const float *dU, float *dw, cohort_wino_path path) {
    WINO_DISPATCH(filter_grad, s, dU, dw);
}
void cohort_wino_input(const cohort_wino_shape *s, const float *x, float *xp, float *V, cohort_wino_path path) {
    WINO_DISPATCH(input, s, x, xp, V);
}
void cohort_wino_output(const cohort_wino_shape *s, const float *M, const float *bias, float *y, cohort_wino_path path) {
    WINO_DISPATCH(output, s, M, bias, y);
}
void cohort_wino_output_grad(const cohort_wino_shape *s, const float *dy, float *dM, cohort_wino_path path) {
    WINO_DISPATCH(output_grad, s, dy, dM);
}
void cohort_wino_input_grad(const cohort_wino_shape *s, const float *dV, float *xp, float *dx, cohort_wino_path path) {
    WINO_DISPATCH(input_grad, s, dV, xp, dx);
}
