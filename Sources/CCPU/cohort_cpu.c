// See include/cohort_cpu.h. The probe runs once per process (pthread_once), as does reading
// COHORT_CPU: the CPU does not change under a process, and every kernel family must see the same
// answer for the whole run (a packed weight layout belongs to the path that packed it).
#include "cohort_cpu.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif
#elif defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

static const char *const level_names[COHORT_CPU_LEVEL_COUNT] = {
    [COHORT_CPU_LEVEL_PORTABLE] = "portable",
    [COHORT_CPU_LEVEL_AVX2] = "avx2",
    [COHORT_CPU_LEVEL_AVX2_VNNI] = "avx2_vnni",
    [COHORT_CPU_LEVEL_AVX512] = "avx512",
    [COHORT_CPU_LEVEL_AVX512_VNNI] = "avx512_vnni",
    [COHORT_CPU_LEVEL_AVX512_BF16] = "avx512_bf16",
    [COHORT_CPU_LEVEL_NEON] = "neon",
    [COHORT_CPU_LEVEL_DOTPROD] = "dotprod",
    [COHORT_CPU_LEVEL_I8MM] = "i8mm",
    [COHORT_CPU_LEVEL_NATIVE] = "native",
};

// ---- detection -------------------------------------------------------------------------------

#if defined(__x86_64__) || defined(__i386__)
static unsigned long long read_xcr0(void) {
    unsigned lo, hi;
    // xgetbv by its encoding: older assemblers and -mno-xsave builds still accept it.
    __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

// Linux keeps AMX tile data out of a thread's state until the process asks for it; without the
// permission the first tile instruction faults. Granted (0) or not, ask once, here.
static int amx_permitted(void) {
#if defined(__linux__) && defined(__x86_64__) && defined(SYS_arch_prctl)
    enum { ARCH_GET_XCOMP_PERM = 0x1022, ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18 };
    if (syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) != 0) return 0;
    unsigned long long perm = 0;
    if (syscall(SYS_arch_prctl, ARCH_GET_XCOMP_PERM, &perm) != 0) return 0;
    return (perm >> XFEATURE_XTILEDATA) & 1;
#else
    return 0;  // other OSes: no way here to know the tiles are enabled, so no AMX
#endif
}

static unsigned detect(void) {
    unsigned a, b, c, d, f = 0;
    unsigned max_leaf = __get_cpuid_max(0, 0);
    if (max_leaf < 1) return 0;
    __cpuid_count(1, 0, a, b, c, d);
    unsigned l1c = c;
    if (!(l1c & (1u << 27))) return 0;  // OSXSAVE off: no xgetbv, no AVX state of any kind
    unsigned long long xcr0 = read_xcr0();
    int ymm = (xcr0 & 0x6) == 0x6;     // XMM and YMM state saved
    int zmm = (xcr0 & 0xe6) == 0xe6;   // + opmask, ZMM_Hi256, Hi16_ZMM
    int tiles = (xcr0 & 0x60000) == 0x60000;  // XTILECFG (17) and XTILEDATA (18)
    if (max_leaf < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    unsigned l7b = b, l7c = c, l7d = d, l7s0a = a;
    unsigned l7s1a = 0;
    if (l7s0a >= 1) {  // subleaf 1 exists
        __cpuid_count(7, 1, a, b, c, d);
        l7s1a = a;
    }
    int avx = (l1c >> 28) & 1, fma = (l1c >> 12) & 1, f16c = (l1c >> 29) & 1;
    int avx2 = (l7b >> 5) & 1;
    if (ymm && avx && fma && f16c && avx2) f |= COHORT_CPU_AVX2;
    if (ymm && (f & COHORT_CPU_AVX2) && ((l7s1a >> 4) & 1)) f |= COHORT_CPU_AVX_VNNI;
    unsigned avx512_mask = (1u << 16) | (1u << 17) | (1u << 30) | (1u << 31);  // F, DQ, BW, VL
    if (zmm && (f & COHORT_CPU_AVX2) && (l7b & avx512_mask) == avx512_mask) f |= COHORT_CPU_AVX512;
    if ((f & COHORT_CPU_AVX512) && ((l7c >> 11) & 1)) f |= COHORT_CPU_AVX512_VNNI;
    if ((f & COHORT_CPU_AVX512) && ((l7s1a >> 5) & 1)) f |= COHORT_CPU_AVX512_BF16;
    unsigned amx_mask = (1u << 22) | (1u << 24) | (1u << 25);  // AMX-BF16, AMX-TILE, AMX-INT8
    if (tiles && (l7d & amx_mask) == amx_mask && amx_permitted()) f |= COHORT_CPU_AMX;
    return f;
}
#elif defined(__aarch64__) && defined(__linux__)
static unsigned detect(void) {
    unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2), f = 0;
    (void)hw2;
#ifdef HWCAP_ASIMD
    if (hw & HWCAP_ASIMD) f |= COHORT_CPU_NEON;
#else
    f |= COHORT_CPU_NEON;  // the aarch64 ABI requires Advanced SIMD
#endif
#ifdef HWCAP_ASIMDDP
    if ((f & COHORT_CPU_NEON) && (hw & HWCAP_ASIMDDP)) f |= COHORT_CPU_DOTPROD;
#endif
#ifdef HWCAP2_I8MM
    if ((f & COHORT_CPU_NEON) && (hw2 & HWCAP2_I8MM)) f |= COHORT_CPU_I8MM;
#endif
#ifdef HWCAP2_BF16
    if ((f & COHORT_CPU_NEON) && (hw2 & HWCAP2_BF16)) f |= COHORT_CPU_ARM_BF16;
#endif
    return (unsigned)f;
}
#elif defined(__aarch64__)
// aarch64 off Linux (no getauxval): only what the architecture guarantees.
static unsigned detect(void) { return COHORT_CPU_NEON; }
#else
static unsigned detect(void) { return 0; }  // no probe for this architecture: portable loops only
#endif

static pthread_once_t detected_once = PTHREAD_ONCE_INIT;
static unsigned detected_features;
static void detect_once(void) { detected_features = detect(); }

unsigned cohort_cpu_detected(void) {
    pthread_once(&detected_once, detect_once);
    return detected_features;
}

// ---- the cap ---------------------------------------------------------------------------------

static pthread_once_t cap_once = PTHREAD_ONCE_INIT;
static cohort_cpu_level cap_level;

static void read_cap(void) {
    const char *v = getenv("COHORT_CPU");
    if (v == NULL || v[0] == '\0') {
        cap_level = COHORT_CPU_LEVEL_NATIVE;
        return;
    }
    int level = cohort_cpu_level_named(v);
    if (level < 0) {
        // A typo must not silently run another path: stop before any kernel runs.
        char accepted[256] = "";
        for (int i = 0; i < COHORT_CPU_LEVEL_COUNT; i++) {
            if (i) strcat(accepted, ", ");
            strcat(accepted, level_names[i]);
        }
        fprintf(stderr, "COHORT_CPU: '%s' is not a CPU level (%s)\n", v, accepted);
        exit(2);
    }
    cap_level = (cohort_cpu_level)level;
}

cohort_cpu_level cohort_cpu_cap(void) {
    pthread_once(&cap_once, read_cap);
    return cap_level;
}

unsigned cohort_cpu_features(void) {
    return cohort_cpu_detected() & cohort_cpu_level_features(cohort_cpu_cap());
}

// Each level names only its own family's features, so an x86 level on an Arm CPU (or an Arm level
// on x86) leaves no bit set: every kernel runs its portable loop, as with `portable`.
unsigned cohort_cpu_level_features(cohort_cpu_level level) {
    const unsigned avx512_vnni = COHORT_CPU_AVX2 | COHORT_CPU_AVX512 | COHORT_CPU_AVX512_VNNI | COHORT_CPU_AVX_VNNI;
    switch (level) {
    case COHORT_CPU_LEVEL_PORTABLE: return 0;
    case COHORT_CPU_LEVEL_AVX2: return COHORT_CPU_AVX2;
    case COHORT_CPU_LEVEL_AVX2_VNNI: return COHORT_CPU_AVX2 | COHORT_CPU_AVX_VNNI;
    case COHORT_CPU_LEVEL_AVX512: return COHORT_CPU_AVX2 | COHORT_CPU_AVX512;
    case COHORT_CPU_LEVEL_AVX512_VNNI: return avx512_vnni;
    case COHORT_CPU_LEVEL_AVX512_BF16: return avx512_vnni | COHORT_CPU_AVX512_BF16;
    case COHORT_CPU_LEVEL_NEON: return COHORT_CPU_NEON;
    case COHORT_CPU_LEVEL_DOTPROD: return COHORT_CPU_NEON | COHORT_CPU_DOTPROD;
    case COHORT_CPU_LEVEL_I8MM: return COHORT_CPU_NEON | COHORT_CPU_DOTPROD | COHORT_CPU_I8MM | COHORT_CPU_ARM_BF16;
    case COHORT_CPU_LEVEL_NATIVE: return ~0u;  // AMX is only reachable here
    default: return 0;
    }
}

const char *cohort_cpu_level_name(cohort_cpu_level level) {
    if ((int)level < 0 || (int)level >= COHORT_CPU_LEVEL_COUNT) return NULL;
    return level_names[level];
}

int cohort_cpu_level_named(const char *name) {
    if (name == NULL) return -1;
    for (int i = 0; i < COHORT_CPU_LEVEL_COUNT; i++)
        if (strcmp(name, level_names[i]) == 0) return i;
    return -1;
}

const char *cohort_cpu_feature_name(unsigned bit) {
    switch (bit) {
    case COHORT_CPU_AVX2: return "avx2";
    case COHORT_CPU_AVX512: return "avx512";
    case COHORT_CPU_AVX512_VNNI: return "avx512_vnni";
    case COHORT_CPU_AVX_VNNI: return "avx_vnni";
    case COHORT_CPU_AVX512_BF16: return "avx512_bf16";
    case COHORT_CPU_AMX: return "amx";
    case COHORT_CPU_NEON: return "neon";
    case COHORT_CPU_DOTPROD: return "dotprod";
    case COHORT_CPU_I8MM: return "i8mm";
    case COHORT_CPU_ARM_BF16: return "arm_bf16";
    default: return NULL;
    }
}
