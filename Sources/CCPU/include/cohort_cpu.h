#ifndef COHORT_CPU_H
#define COHORT_CPU_H
// The one CPU probe of Cohort's kernels: what the processor (and the OS, for vector state) can
// run, capped by the COHORT_CPU environment variable so a stronger CPU can run the paths of a
// weaker one. Every kernel family (int8, bf16 rounding, the 16-bit wire codec) chooses its path
// from cohort_cpu_features(), never from cpuid directly.

/// Which architecture's paths a kernel file compiles (1 or 0), for its `#if`s.
#if defined(__x86_64__) || defined(__i386__)
#define COHORT_X86 1
#else
#define COHORT_X86 0
#endif
#if defined(__aarch64__)
#define COHORT_ARM 1
#else
#define COHORT_ARM 0
#endif

/// Feature bits. A bit is set only when the OS also saves the registers it needs.
enum {
    COHORT_CPU_AVX2 = 1u << 0,         // AVX2, FMA and F16C together (Haswell, Zen 1 on)
    COHORT_CPU_AVX512 = 1u << 1,       // AVX-512 F, BW, VL and DQ with ZMM state (Skylake-SP, Zen 4)
    COHORT_CPU_AVX512_VNNI = 1u << 2,  // VPDPBUSD on ZMM (Cascade Lake, Zen 4)
    COHORT_CPU_AVX_VNNI = 1u << 3,     // VEX VPDPBUSD on YMM (Alder Lake, Sierra Forest)
    COHORT_CPU_AVX512_BF16 = 1u << 4,  // VCVTNE2PS2BF16, VDPBF16PS (Cooper Lake, Zen 4)
    COHORT_CPU_AMX = 1u << 5,          // AMX tiles, int8 and bf16, with the OS's permission (Sapphire Rapids)
    COHORT_CPU_NEON = 1u << 8,         // Advanced SIMD (every aarch64 CPU)
    COHORT_CPU_DOTPROD = 1u << 9,      // SDOT/UDOT (Armv8.2 dot product: Neoverse N1, Graviton 2 on)
    COHORT_CPU_I8MM = 1u << 10,        // USDOT/SMMLA (Armv8.6 int8 matrix multiply: Graviton 3 on)
    COHORT_CPU_ARM_BF16 = 1u << 11,    // BFCVT, BFDOT (Armv8.6 bf16)
};

/// The levels COHORT_CPU accepts, weakest first. A level keeps only the features it names and
/// those of the levels before it in its family; `native` (the default) keeps everything detected.
typedef enum {
    COHORT_CPU_LEVEL_PORTABLE = 0,  // no vector path: every kernel runs its portable C loop
    COHORT_CPU_LEVEL_AVX2,          // AVX2 / FMA / F16C
    COHORT_CPU_LEVEL_AVX2_VNNI,     // + AVX-VNNI
    COHORT_CPU_LEVEL_AVX512,        // + AVX-512 F/BW/VL/DQ
    COHORT_CPU_LEVEL_AVX512_VNNI,   // + AVX-512 VNNI
    COHORT_CPU_LEVEL_AVX512_BF16,   // + AVX-512 BF16
    COHORT_CPU_LEVEL_NEON,          // aarch64: Advanced SIMD
    COHORT_CPU_LEVEL_DOTPROD,       // + dot product
    COHORT_CPU_LEVEL_I8MM,          // + i8mm and bf16
    COHORT_CPU_LEVEL_NATIVE,        // everything detected
    COHORT_CPU_LEVEL_COUNT
} cohort_cpu_level;

/// What the CPU and OS support, uncapped (probed once).
unsigned cohort_cpu_detected(void);

/// The level COHORT_CPU asks for (read once; unset or empty is native). An unknown value prints
/// one line naming it and the accepted values to stderr and exits with status 2.
cohort_cpu_level cohort_cpu_cap(void);

/// The features kernels may use: detected, limited to the cap.
unsigned cohort_cpu_features(void);

/// The features a level allows (all bits for native).
unsigned cohort_cpu_level_features(cohort_cpu_level level);

/// The COHORT_CPU spelling of a level ("portable", "avx2", ..., "native"), or NULL out of range.
const char *cohort_cpu_level_name(cohort_cpu_level level);

/// The level whose name is `name`, or -1.
int cohort_cpu_level_named(const char *name);

/// A feature bit's name ("avx2", "avx512_vnni", ...), or NULL for a bit that is not a feature.
const char *cohort_cpu_feature_name(unsigned bit);
#endif
