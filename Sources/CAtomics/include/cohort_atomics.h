#ifndef COHORT_ATOMICS_H
#define COHORT_ATOMICS_H
#include <stdint.h>
// Atomic counters in memory shared between processes (Hogwild's global update count). Swift's own
// atomics cannot address a raw pointer into an mmap'ed segment, C11 builtins can.
static inline uint64_t cohort_atomic_fetch_add_u64(uint64_t *p, uint64_t v) { return __atomic_fetch_add(p, v, __ATOMIC_ACQ_REL); }
static inline uint64_t cohort_atomic_load_u64(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void cohort_atomic_store_u64(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
#endif
