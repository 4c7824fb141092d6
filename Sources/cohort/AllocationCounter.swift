import CAllocationCounter

/// Heap allocations made by this process so far (see Sources/CAllocationCounter).
public enum AllocationCounter {
    public static var count: Int { Int(cohort_allocation_count()) }
    /// False where the allocator cannot be interposed (not glibc): counts then stay 0.
    public static var isActive: Bool { count > 0 }
}
