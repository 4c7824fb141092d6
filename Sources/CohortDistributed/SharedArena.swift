import Cohort
import CAtomics
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One block of memory shared by the processes of a node (POSIX shm_open + mmap), for Hogwild:
/// a header (a global update counter and flags) followed by the parameter arena.
///
/// Rank 0 of the node creates the segment; once every local rank has mapped it, rank 0 unlinks
/// its name. The memory lives on while mapped, but nothing is left in /dev/shm after the job ends,
/// however it ends (normal exit, error, or a rank killed with SIGKILL).
public final class SharedArena {
    public let floats: Int
    public let storage: Storage
    private let base: UnsafeMutableRawPointer
    private let bytes: Int
    public let name: String
    static let headerBytes = 64

    /// Collective over the node's ranks: every local rank must call it with the same `floats`
    /// and `jobKey`. `isCreator` is true on exactly one rank per node.
    public init(floats: Int, jobKey: String, isCreator: Bool, barrier: () throws -> Void) throws {
        self.floats = floats
        bytes = SharedArena.headerBytes + ParameterPadding.padded(floats) * 4
        name = "/cohort-\(jobKey)"
        var fd: Int32 = -1
        if isCreator {
            shm_unlink(name)  // a stale segment of a crashed job with the same key
            fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0o600)
            guard fd >= 0 else { throw CohortError.invalid("shared memory \(name): shm_open failed: \(String(cString: strerror(errno)))") }
            guard ftruncate(fd, off_t(bytes)) == 0 else {
                let why = String(cString: strerror(errno))
                close(fd); shm_unlink(name)
                throw CohortError.invalid("shared memory \(name): cannot size it to \(bytes) bytes: \(why) (is /dev/shm large enough?)")
            }
        }
        try barrier()  // the segment exists
        if !isCreator {
            fd = shm_open(name, O_RDWR, 0o600)
            guard fd >= 0 else { throw CohortError.invalid("shared memory \(name): shm_open failed: \(String(cString: strerror(errno)))") }
        }
        let mapped = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
        close(fd)
        try barrier()  // everyone has mapped it: the name is no longer needed
        if isCreator { shm_unlink(name) }
        guard let mapped, mapped != MAP_FAILED else {
            throw CohortError.invalid("shared memory \(name): mmap of \(bytes) bytes failed: \(String(cString: strerror(errno)))")
        }
        base = mapped
        let params = (base + SharedArena.headerBytes).bindMemory(to: Float.self, capacity: floats)
        storage = Storage(borrowing: params, capacity: floats, owner: nil)
    }

    deinit { munmap(base, bytes) }

    private var counter: UnsafeMutablePointer<UInt64> { base.bindMemory(to: UInt64.self, capacity: 8) }

    /// Adds to the node-wide update counter and returns the value before.
    @discardableResult
    public func addUpdates(_ n: UInt64) -> UInt64 { cohort_atomic_fetch_add_u64(counter, n) }
    public var updates: UInt64 { cohort_atomic_load_u64(counter) }
    public func resetUpdates(to value: UInt64) { cohort_atomic_store_u64(counter, value) }

    /// A flag word any rank can raise (e.g. "stop": a rank failed or the target was reached), with
    /// a code saying why (1: no reason given; a signal's number when a rank was asked to stop).
    public var stopRequested: Bool { cohort_atomic_load_u64(counter + 1) != 0 }
    public var stopCode: UInt64 { cohort_atomic_load_u64(counter + 1) }
    public func requestStop(code: UInt64 = 1) { cohort_atomic_store_u64(counter + 1, code) }
}
