// How fast oneDNN's int8 convolution would run Cohort's small int8 CNN students: u8 x s8 -> s32
// (exact on VNNI: vpdpbusd sums in 32 bits) against f32 on the same shapes, in one run, nhwc,
// batch 256, no padding (Cohort would pad the quantised image with its zero point itself).
//   gcc -O2 docs/probes/onednn_int8_conv.c -o /tmp/onednn_int8_conv -ldnnl && OMP_NUM_THREADS=1 /tmp/onednn_int8_conv
#include <dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#define CK(x) do { dnnl_status_t s = (x); if (s != dnnl_success) { printf("err %d at %s\n", s, #x); exit(1); } } while (0)
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static void run(dnnl_engine_t eng, dnnl_stream_t st, int mb, int ic, int ih, int oc, int int8) {
    int oh = ih - 2;
    dnnl_memory_desc_t src, wei, dst, wany;
    dnnl_dims_t sd = {mb, ic, ih, ih}, wd = {oc, ic, 3, 3}, dd = {mb, oc, oh, oh}, strides = {1, 1}, pad = {0, 0};
    CK(dnnl_memory_desc_init_by_tag(&src, 4, sd, int8 ? dnnl_u8 : dnnl_f32, dnnl_nhwc));
    CK(dnnl_memory_desc_init_by_tag(&wany, 4, wd, int8 ? dnnl_s8 : dnnl_f32, dnnl_format_tag_any));
    CK(dnnl_memory_desc_init_by_tag(&dst, 4, dd, int8 ? dnnl_s32 : dnnl_f32, dnnl_nhwc));
    dnnl_convolution_desc_t cd;
    CK(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct, &src, &wany, NULL, &dst, strides, pad, pad));
    dnnl_primitive_desc_t pd;
    CK(dnnl_primitive_desc_create(&pd, &cd, NULL, eng, NULL));
    const char *impl; CK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl));
    wei = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    dnnl_memory_t ms, mw, md;
    CK(dnnl_memory_create(&ms, &src, eng, DNNL_MEMORY_ALLOCATE));
    CK(dnnl_memory_create(&mw, &wei, eng, DNNL_MEMORY_ALLOCATE));
    CK(dnnl_memory_create(&md, &dst, eng, DNNL_MEMORY_ALLOCATE));
    // Defined inputs (small normal floats, bytes of every value), not whatever the allocation held.
    void *h;
    CK(dnnl_memory_get_data_handle(ms, &h));
    const size_t src_bytes = dnnl_memory_desc_get_size(&src), wei_bytes = dnnl_memory_desc_get_size(&wei);
    if (int8) for (size_t i = 0; i < src_bytes; i++) ((uint8_t *)h)[i] = (uint8_t)(i * 7 % 251);
    else for (size_t i = 0; i < src_bytes / 4; i++) ((float *)h)[i] = 0.01f * (float)(i % 97);
    CK(dnnl_memory_get_data_handle(mw, &h));
    if (int8) for (size_t i = 0; i < wei_bytes; i++) ((int8_t *)h)[i] = (int8_t)(i * 13 % 255 - 127);
    else for (size_t i = 0; i < wei_bytes / 4; i++) ((float *)h)[i] = 0.01f * (float)(i % 89) - 0.4f;
    dnnl_primitive_t p; CK(dnnl_primitive_create(&p, pd));
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, ms}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_DST, md}};
    for (int i = 0; i < 3; i++) CK(dnnl_primitive_execute(p, st, 3, args));
    dnnl_stream_wait(st);
    int reps = 50; double t0 = now();
    for (int i = 0; i < reps; i++) CK(dnnl_primitive_execute(p, st, 3, args));
    dnnl_stream_wait(st);
    double t = (now() - t0) / reps;
    double macs = (double)mb * oc * oh * oh * ic * 9;
    printf("%s %s ic %d %dx%d oc %d: %.3f ms per batch of %d, %.1f GMAC/s, %.0f samples/s (conv alone)\n", int8 ? "u8s8s32" : "f32", impl, ic, ih, ih, oc, t * 1e3, mb, macs / t * 1e-9, mb / t);
    dnnl_primitive_destroy(p);
    dnnl_memory_destroy(ms); dnnl_memory_destroy(mw); dnnl_memory_destroy(md);
    dnnl_primitive_desc_destroy(pd);  // after the printf: it owns impl
}
int main(void) {
    dnnl_engine_t eng; dnnl_stream_t st;
    CK(dnnl_engine_create(&eng, dnnl_cpu, 0)); CK(dnnl_stream_create(&st, eng, dnnl_stream_default_flags));
    // cnn-m's two convolutions, then a 32 -> 64 channel one (configs/fashion-cnn.yaml's widths) on the same 13x13 maps.
    const int shapes[3][3] = {{1, 28, 16}, {16, 13, 32}, {32, 13, 64}};
    for (int r = 0; r < 3; r++)
        for (int s = 0; s < 3; s++) { run(eng, st, 256, shapes[s][0], shapes[s][1], shapes[s][2], 1); run(eng, st, 256, shapes[s][0], shapes[s][1], shapes[s][2], 0); }
    dnnl_stream_destroy(st);
    dnnl_engine_destroy(eng);
    return 0;
}
