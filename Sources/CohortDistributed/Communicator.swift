import Cohort

/// A pending non-blocking collective.
public protocol CollectiveRequest: AnyObject {
    /// Blocks until the operation has completed.
    func wait() throws
    /// Lets MPI make progress without blocking; true once complete. (Open MPI advances non-blocking
    /// collectives only inside MPI calls, so the reducer pokes it while backward runs.)
    func test() throws -> Bool
}

/// The collectives training needs, over a group of ranks. `MPICommunicator` runs them over Open
/// MPI; `SingleProcessCommunicator` is the world of one, so a run without mpirun takes the same
/// code path. Every rank must call collectives in the same order (see docs/ARCHITECTURE.md).
public protocol Communicator: AnyObject {
    var rank: Int { get }
    var size: Int { get }
    /// Rank and size among the processes on this node.
    var localRank: Int { get }
    var localSize: Int { get }

    /// Sums (then optionally divides by `size`) `count` floats in place across ranks.
    func allreduce(_ buffer: UnsafeMutablePointer<Float>, count: Int, average: Bool) throws
    /// Starts an in-place sum across ranks; the buffer must not be touched until `wait()`.
    func startAllreduce(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws -> CollectiveRequest
    /// Sums doubles in place (metrics, checksums).
    func allreduce(_ values: inout [Double]) throws
    /// Copies `count` floats from `root` to every rank.
    func broadcast(_ buffer: UnsafeMutablePointer<Float>, count: Int, root: Int) throws
    /// Every rank's `value`, in rank order.
    func allgather(_ value: UInt64) throws -> [UInt64]
    /// Every rank's bytes (of any length), in rank order.
    func allgather(bytes: [UInt8]) throws -> [[UInt8]]
    func barrier() throws
    /// Sends `counts[j]` 16-bit words from `send + offsets[j]` to rank j, and receives rank i's
    /// `receiveCounts[i]` words at `receive + receiveOffsets[i]` (MPI_Alltoallv: a reduce-scatter's
    /// exchange for 16-bit wire formats).
    func alltoall(_ send: UnsafePointer<UInt16>, counts: UnsafePointer<Int32>, offsets: UnsafePointer<Int32>,
                  into receive: UnsafeMutablePointer<UInt16>, receiveCounts: UnsafePointer<Int32>, receiveOffsets: UnsafePointer<Int32>) throws
    /// Rank r's block `buffer[offsets[r] ..< offsets[r] + counts[r]]` reaches every rank, in place (MPI_Allgatherv).
    func allgather(inPlace buffer: UnsafeMutablePointer<UInt16>, counts: UnsafePointer<Int32>, offsets: UnsafePointer<Int32>) throws
    /// A communicator of the ranks that pass the same `color`, ordered by `key`; nil `color`: this
    /// rank joins none and gets nil (MPI_Comm_split). Collective over this communicator.
    func split(color: Int?, key: Int) throws -> Communicator?
    /// The ranks of this communicator that share memory with this rank (MPI_Comm_split_type
    /// SHARED). Collective.
    func splitByNode() throws -> Communicator
    /// Ends the whole job (every rank) with `code`. Never returns.
    func abort(code: Int32) -> Never
}

/// The world of one process: collectives are identities.
public final class SingleProcessCommunicator: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public var localRank: Int { 0 }
    public var localSize: Int { 1 }

    final class Done: CollectiveRequest {
        func wait() throws {}
        func test() throws -> Bool { true }
    }

    public func allreduce(_ buffer: UnsafeMutablePointer<Float>, count: Int, average: Bool) throws {}
    public func startAllreduce(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws -> CollectiveRequest { Done() }
    public func allreduce(_ values: inout [Double]) throws {}
    public func broadcast(_ buffer: UnsafeMutablePointer<Float>, count: Int, root: Int) throws {}
    public func allgather(_ value: UInt64) throws -> [UInt64] { [value] }
    public func allgather(bytes: [UInt8]) throws -> [[UInt8]] { [bytes] }
    public func barrier() throws {}
    public func alltoall(_ send: UnsafePointer<UInt16>, counts: UnsafePointer<Int32>, offsets: UnsafePointer<Int32>,
                         into receive: UnsafeMutablePointer<UInt16>, receiveCounts: UnsafePointer<Int32>, receiveOffsets: UnsafePointer<Int32>) throws {
        (receive + Int(receiveOffsets[0])).update(from: send + Int(offsets[0]), count: Int(counts[0]))
    }
    public func allgather(inPlace buffer: UnsafeMutablePointer<UInt16>, counts: UnsafePointer<Int32>, offsets: UnsafePointer<Int32>) throws {}
    public func split(color: Int?, key: Int) throws -> Communicator? { color == nil ? nil : SingleProcessCommunicator() }
    public func splitByNode() throws -> Communicator { self }
    public func abort(code: Int32) -> Never { exit(code) }
}

#if canImport(Glibc)
import Glibc
#endif
