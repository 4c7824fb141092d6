#ifndef COHORT_CDNNL_SHIM_H
#define COHORT_CDNNL_SHIM_H
// oneDNN 2.x (Debian's libdnnl-dev ships no pkg-config file, hence a plain `link "dnnl"`).
#include <oneapi/dnnl/dnnl.h>
#include <dlfcn.h>

// Debian's oneDNN runs on OpenMP (libgomp, loaded with libdnnl). Its thread count is OpenMP's:
// looked up at run time so that nothing links libgomp directly. Returns 0 when OpenMP is absent.
static inline int cohort_omp_set_num_threads(int n) {
    void (*set)(int) = (void (*)(int))dlsym(RTLD_DEFAULT, "omp_set_num_threads");
    if (!set) return 0;
    set(n);
    return 1;
}

static inline int cohort_omp_get_max_threads(void) {
    int (*get)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "omp_get_max_threads");
    return get ? get() : 1;
}
#endif
