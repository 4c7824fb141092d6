// The CPU probe's contract (Sources/CCPU/include/cohort_cpu.h): level names and their features,
// the cap read from COHORT_CPU, features = detected & the cap's, no feature of the other CPU
// family, one name per feature bit. Exits 1 on the first violation. Run by launch/check-c with
// COHORT_CPU unset and set to several levels.
#include "cohort_cpu.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned checks;

#define CHECK(cond, ...)                                  \
    do {                                                  \
        checks++;                                         \
        if (!(cond)) {                                    \
            printf("cpu probe: VIOLATION: " __VA_ARGS__); \
            printf("\n");                                 \
            exit(1);                                      \
        }                                                 \
    } while (0)

int main(void) {
    enum { X86 = COHORT_CPU_AVX2 | COHORT_CPU_AVX512 | COHORT_CPU_AVX512_VNNI | COHORT_CPU_AVX_VNNI |
                 COHORT_CPU_AVX512_BF16 | COHORT_CPU_AMX,
           ARM = COHORT_CPU_NEON | COHORT_CPU_DOTPROD | COHORT_CPU_I8MM | COHORT_CPU_ARM_BF16 };
    static const char *const names[] = {"portable", "avx2", "avx2_vnni", "avx512", "avx512_vnni",
                                        "avx512_bf16", "neon", "dotprod", "i8mm", "native"};
    const unsigned vnni512 = COHORT_CPU_AVX2 | COHORT_CPU_AVX512 | COHORT_CPU_AVX512_VNNI | COHORT_CPU_AVX_VNNI;
    const unsigned want[] = {0, COHORT_CPU_AVX2, COHORT_CPU_AVX2 | COHORT_CPU_AVX_VNNI,
                             COHORT_CPU_AVX2 | COHORT_CPU_AVX512, vnni512, vnni512 | COHORT_CPU_AVX512_BF16,
                             COHORT_CPU_NEON, COHORT_CPU_NEON | COHORT_CPU_DOTPROD, ARM, ~0u};
    CHECK(COHORT_CPU_LEVEL_COUNT == sizeof names / sizeof names[0], "level count %d", COHORT_CPU_LEVEL_COUNT);
    for (int l = 0; l < COHORT_CPU_LEVEL_COUNT; l++) {
        const char *name = cohort_cpu_level_name((cohort_cpu_level)l);
        CHECK(name && strcmp(name, names[l]) == 0, "level %d is named %s, not %s", l, name ? name : "NULL", names[l]);
        CHECK(cohort_cpu_level_named(names[l]) == l, "'%s' names level %d", names[l], cohort_cpu_level_named(names[l]));
        CHECK(cohort_cpu_level_features((cohort_cpu_level)l) == want[l], "level %s allows %#x, not %#x", names[l],
              cohort_cpu_level_features((cohort_cpu_level)l), want[l]);
    }
    CHECK(cohort_cpu_level_name(COHORT_CPU_LEVEL_COUNT) == NULL, "a name past the last level");
    CHECK(cohort_cpu_level_named("AVX2") == -1 && cohort_cpu_level_named("") == -1 &&
              cohort_cpu_level_named("bogus") == -1 && cohort_cpu_level_named(NULL) == -1,
          "a level for an unknown name");
    // Each feature bit its own name; no name for other bits.
    for (unsigned b = 1; b; b <<= 1) {
        const char *name = cohort_cpu_feature_name(b);
        CHECK(((X86 | ARM) & b) ? name != NULL : name == NULL, "feature bit %#x named %s", b, name ? name : "NULL");
        for (unsigned c = 1; name && c < b; c <<= 1)
            CHECK(!cohort_cpu_feature_name(c) || strcmp(cohort_cpu_feature_name(c), name) != 0, "two bits named %s", name);
    }
    // The cap is COHORT_CPU's (unset or empty: native), the features are detected & the cap's.
    const char *env = getenv("COHORT_CPU");
    int expected = env && env[0] ? cohort_cpu_level_named(env) : COHORT_CPU_LEVEL_NATIVE;
    cohort_cpu_level cap = cohort_cpu_cap();
    CHECK((int)cap == expected, "cap %s for COHORT_CPU=%s", cohort_cpu_level_name(cap), env ? env : "(unset)");
    unsigned detected = cohort_cpu_detected(), features = cohort_cpu_features();
    CHECK(features == (detected & cohort_cpu_level_features(cap)), "features %#x, detected %#x", features, detected);
    CHECK(cohort_cpu_detected() == detected && cohort_cpu_features() == features, "a second probe differs");
#if defined(__x86_64__)
    CHECK((detected & ARM) == 0, "Arm features %#x on x86-64", detected & ARM);
#elif defined(__aarch64__)
    CHECK((detected & X86) == 0, "x86 features %#x on aarch64", detected & X86);
    CHECK(detected & COHORT_CPU_NEON, "aarch64 without Advanced SIMD");
#else
    CHECK(detected == 0, "features %#x on an architecture without a probe", detected);
#endif
    // Feature implications the kernels rely on.
    if (detected & (COHORT_CPU_AVX512 | COHORT_CPU_AVX_VNNI)) CHECK(detected & COHORT_CPU_AVX2, "AVX-512 or AVX-VNNI without AVX2");
    if (detected & (COHORT_CPU_AVX512_VNNI | COHORT_CPU_AVX512_BF16)) CHECK(detected & COHORT_CPU_AVX512, "an AVX-512 extension without AVX-512");
    if (detected & (COHORT_CPU_DOTPROD | COHORT_CPU_I8MM | COHORT_CPU_ARM_BF16)) CHECK(detected & COHORT_CPU_NEON, "an Arm extension without NEON");

    char list[160] = "";
    for (unsigned b = 1; b; b <<= 1)
        if (features & b) {
            if (list[0]) strcat(list, " ");
            strcat(list, cohort_cpu_feature_name(b));
        }
    printf("cpu probe: %u checks agree (cap %s; features: %s)\n", checks, cohort_cpu_level_name(cap), list[0] ? list : "none");
    return 0;
}
