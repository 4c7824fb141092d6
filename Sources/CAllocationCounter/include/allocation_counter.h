#ifndef COHORT_ALLOCATION_COUNTER_H
#define COHORT_ALLOCATION_COUNTER_H
// Counts heap allocations of the whole process (malloc, calloc, realloc, posix_memalign,
// aligned_alloc, memalign) so benchmarks can show that a training step allocates nothing.
unsigned long cohort_allocation_count(void);
#endif
