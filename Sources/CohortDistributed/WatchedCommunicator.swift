import Cohort

/// A `Communicator` whose every collective is a watched wait. Communicators split from it are
/// watched by the same watchdog.
public final class WatchedCommunicator: Communicator {
    public let base: Communicator
    public let watchdog: Watchdog
    /// Whether this communicator's waits count in the node's heartbeat board: false for the node
    /// leaders' communicator, whose collectives the node's other ranks never join.
    public let countsWaits: Bool

    public init(_ base: Communicator, watchdog: Watchdog, countsWaits: Bool = true) {
        self.base = base
        self.watchdog = watchdog
        self.countsWaits = countsWaits
    }

    public var rank: Int { base.rank }
    public var size: Int { base.size }
    public var localRank: Int { base.localRank }
    public var localSize: Int { base.localSize }

    @inline(__always)
    private func watched<T>(_ kind: WaitKind, _ body: () throws -> T) rethrows -> T {
        watchdog.enter(kind, counted: countsWaits)
        defer { watchdog.leave() }
        return try body()
    }

    final class Request: CollectiveRequest {
        let base: CollectiveRequest
        let watchdog: Watchdog
        let counted: Bool
        init(_ base: CollectiveRequest, _ watchdog: Watchdog, counted: Bool) { self.base = base; self.watchdog = watchdog; self.counted = counted }
        func wait() throws {
            watchdog.enter(.bucket, counted: counted)
            defer { watchdog.leave() }
            try base.wait()
        }
        func test() throws -> Bool { try base.test() }
    }

    public func allreduce(_ buffer: UnsafeMutablePointer<Float>, count: Int, average: Bool) throws {
        try watched(.allreduce) { try base.allreduce(buffer, count: count, average: average) }
    }
    public func startAllreduce(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws -> CollectiveRequest {
        Request(try base.startAllreduce(buffer, count: count), watchdog, counted: countsWaits)
    }
    public func allreduce(_ values: inout [Double]) throws { try watched(.allreduce) { try base.allreduce(&values) } }
    public func broadcast(_ buffer: UnsafeMutablePointer<Float>, count: Int, root: Int) throws {
        try watched(.broadcast) { try base.broadcast(buffer, count: count, root: root) }
    }
    public func allgather(_ value: UInt64) throws -> [UInt64] { try watched(.allgather) { try base.allgather(value) } }
    public func allgather(bytes: [UInt8]) throws -> [[UInt8]] { try watched(.allgather) { try base.allgather(bytes: bytes) } }
    public func barrier() throws { try watched(.barrier) { try base.barrier() } }
    public func alltoall(_ send: UnsafePointer<UInt16>, counts: UnsafePointer<Int32>, offsets: UnsafePointer<Int32>,
                         into receive: UnsafeMutablePointer<UInt16>, receiveCounts: UnsafePointer<Int32>, receiveOffsets: UnsafePointer<Int32>) throws {
        try watched(.exchange) {
            try base.alltoall(send, counts: counts, offsets: offsets, into: receive, receiveCounts: receiveCounts, receiveOffsets: receiveOffsets)
        }
    }
    public func allgather(inPlace buffer: UnsafeMutablePointer<UInt16>, counts: UnsafePointer<Int32>, offsets: UnsafePointer<Int32>) throws {
        try watched(.exchange) { try base.allgather(inPlace: buffer, counts: counts, offsets: offsets) }
    }
    public func split(color: Int?, key: Int) throws -> Communicator? {
        try watched(.barrier) { try base.split(color: color, key: key) }.map { WatchedCommunicator($0, watchdog: watchdog, countsWaits: countsWaits) }
    }
    /// The same ranks, with waits that do not count in the node's board (see `countsWaits`).
    public func uncounted() -> WatchedCommunicator { WatchedCommunicator(base, watchdog: watchdog, countsWaits: false) }
    public func splitByNode() throws -> Communicator {
        WatchedCommunicator(try watched(.barrier) { try base.splitByNode() }, watchdog: watchdog, countsWaits: countsWaits)
    }
    public func abort(code: Int32) -> Never { base.abort(code: code) }
}
