#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A block of Float32 memory, 64-byte aligned (one cache line, a full AVX-512 vector).
/// It either owns its memory or borrows it (a view into a parameter arena or shared memory),
/// in which case `owner` keeps whatever holds the memory alive.
public final class Storage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let capacity: Int
    private let owned: Bool
    private let owner: AnyObject?

    public static let alignment = 64

    /// Owned, zero-filled memory for `capacity` floats.
    public init(capacity: Int) {
        precondition(capacity >= 0, "Storage capacity must be non-negative")
        var raw: UnsafeMutableRawPointer?
        let bytes = max(capacity, 1) * MemoryLayout<Float>.stride
        // Round up so vector loops may read a whole last line without touching foreign memory.
        let rounded = (bytes + Storage.alignment - 1) / Storage.alignment * Storage.alignment
        guard posix_memalign(&raw, Storage.alignment, rounded) == 0, let raw else {
            fatalError("out of memory allocating \(rounded) bytes")
        }
        memset(raw, 0, rounded)
        pointer = raw.bindMemory(to: Float.self, capacity: rounded / MemoryLayout<Float>.stride)
        self.capacity = capacity
        owned = true
        owner = nil
    }

    /// Borrowed memory: `owner` must keep `pointer` valid for as long as this storage lives.
    public init(borrowing pointer: UnsafeMutablePointer<Float>, capacity: Int, owner: AnyObject?) {
        self.pointer = pointer
        self.capacity = capacity
        owned = false
        self.owner = owner
    }

    deinit { if owned { free(pointer) } }
}

/// Flat buffers (parameter arenas, gradient buckets) start every tensor on a 64-byte boundary.
public enum ParameterPadding {
    /// `n` floats rounded up to a multiple of 16 (64 bytes).
    @inline(__always) public static func padded(_ n: Int) -> Int { (n + 15) / 16 * 16 }
}
