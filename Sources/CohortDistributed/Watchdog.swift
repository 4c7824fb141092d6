import CAtomics
import Cohort
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a rank can be waiting for when another rank stops making progress.
public enum WaitKind: UInt64, Sendable {
    case allreduce = 1, bucket, broadcast, allgather, barrier, sharedGradients, hogwildPeers

    var description: String {
        switch self {
        case .allreduce: return "an MPI allreduce"
        case .bucket: return "an MPI allreduce of a gradient bucket"
        case .broadcast: return "an MPI broadcast"
        case .allgather: return "an MPI allgather"
        case .barrier: return "an MPI barrier"
        case .sharedGradients: return "the shared-memory gradient average"
        case .hogwildPeers: return "updates to the shared Hogwild parameters"
        }
    }
}

/// Ends the job when other ranks stop making progress (a rank stopped by SIGSTOP, a stuck file
/// system, a swapping node), which would otherwise freeze every rank forever with no message. The
/// training thread marks each wait for other ranks (`enter`/`leave`: two atomic stores, no
/// allocation); a thread of the watchdog looks every quarter second, and when a wait has lasted
/// `timeout` seconds it prints `rank N: no progress from rank(s) M for T s at step S (waiting
/// for ...)` and exits at once, so mpirun ends the whole job. On one node the ranks publish their
/// progress in a `HeartbeatBoard`, which names the rank(s) behind.
public final class Watchdog: @unchecked Sendable {
    public let rank: Int
    /// [0] start of the current wait (ns, 0: none), [1] its kind, [2] the step, [3] waits entered,
    /// [4] the timeout (ns), [5] 1 when peers' heartbeats are watched (Hogwild).
    private let state: UnsafeMutablePointer<UInt64>
    /// Published progress of every rank of the node (nil across nodes, or before a run sets it).
    private var board: HeartbeatBoard?
    private let boardLock = NSLock()

    /// 30 minutes, PyTorch's default for its collectives (`distributed.timeout` sets it per run).
    public static let defaultTimeout = 1800.0

    public init(rank: Int, timeout: Double = Watchdog.defaultTimeout) {
        self.rank = rank
        state = UnsafeMutablePointer<UInt64>.allocate(capacity: 8)
        state.initialize(repeating: 0, count: 8)
        self.timeout = timeout
        let thread = Thread { [unowned self] in self.watch() }
        thread.name = "cohort watchdog"
        thread.start()
    }

    public var timeout: Double {
        get { Double(cohort_atomic_load_u64(state + 4)) * 1e-9 }
        set { cohort_atomic_store_u64(state + 4, UInt64(max(newValue, 0.001) * 1e9)) }
    }

    /// Sets the node's board (after it was made collectively); `watchPeers`: end the job when a peer's
    /// heartbeat stops for `timeout` even though this rank waits for nothing (Hogwild).
    public func use(_ board: HeartbeatBoard?, watchPeers: Bool = false) {
        boardLock.lock()
        self.board = board
        boardLock.unlock()
        cohort_atomic_store_u64(state + 5, watchPeers ? 1 : 0)
    }

    /// This rank is at `step` and alive (every step).
    @inline(__always)
    public func beat(step: Int) {
        cohort_atomic_store_u64(state + 2, UInt64(step))
        board?.publish(rank: rank, step: step, waits: cohort_atomic_load_u64(state + 3))
    }

    @inline(__always)
    public func enter(_ kind: WaitKind) {
        let waits = cohort_atomic_fetch_add_u64(state + 3, 1) + 1
        board?.publish(rank: rank, step: Int(cohort_atomic_load_u64(state + 2)), waits: waits)
        cohort_atomic_store_u64(state + 1, kind.rawValue)
        cohort_atomic_store_u64(state, DispatchTime.now().uptimeNanoseconds)
    }

    @inline(__always)
    public func leave() { cohort_atomic_store_u64(state, 0) }

    /// This rank has finished its part (a Hogwild rank that ran out of updates is not stalled).
    public func finished() { board?.markDone(rank: rank) }

    private func watch() {
        while true {
            usleep(250_000)
            let now = DispatchTime.now().uptimeNanoseconds, limit = cohort_atomic_load_u64(state + 4)
            let started = cohort_atomic_load_u64(state)
            boardLock.lock()
            let board = self.board
            boardLock.unlock()
            if started != 0 && now > started && now - started > limit {
                let kind = WaitKind(rawValue: cohort_atomic_load_u64(state + 1)) ?? .allreduce
                let behind = board?.ranksBehind(rank, waits: cohort_atomic_load_u64(state + 3)) ?? []
                fail(behind, seconds: Double(now - started) * 1e-9, kind: kind)
            }
            if cohort_atomic_load_u64(state + 5) == 1, let board {
                let stale = board.staleRanks(except: rank, now: now, limit: limit)
                if !stale.isEmpty { fail(stale.map(\.rank), seconds: stale.map(\.seconds).max()!, kind: .hogwildPeers) }
            }
        }
    }

    private func fail(_ ranks: [Int], seconds: Double, kind: WaitKind) -> Never {
        let who = ranks.isEmpty ? "the other ranks" : "rank\(ranks.count > 1 ? "s" : "") " + ranks.map(String.init).joined(separator: ", ")
        let line = String(format: "cohort: rank %d: no progress from %@ for %.0f s at step %d (waiting for %@); ending the job (distributed.timeout is %.0f s)\n",
                          rank, who, seconds, Int(cohort_atomic_load_u64(state + 2)), kind.description, timeout)
        FileHandle.standardError.write(Data(line.utf8))
        _exit(1)  // mpirun ends every other rank when one exits without MPI_Finalize
    }
}

/// Every rank of a node publishes its progress here (a small shared-memory segment): its step, how
/// many waits for other ranks it has entered, when it last did either, and whether it has finished.
/// The watchdog compares them to name the rank(s) behind.
public final class HeartbeatBoard: @unchecked Sendable {
    private let segment: SharedArena
    private let slots: UnsafeMutablePointer<UInt64>
    public let ranks: Int
    static let words = 8

    /// Collective over the node's ranks (all ranks of `comm` on this node).
    public init(communicator comm: Communicator) throws {
        ranks = comm.size
        let key = "beat-" + String(try comm.allgather(UInt64(getpid()))[0], radix: 16)
        segment = try SharedArena(floats: 2 * Self.words * comm.size, jobKey: key, isCreator: comm.rank == 0, barrier: { try comm.barrier() })
        slots = UnsafeMutableRawPointer(segment.storage.pointer).bindMemory(to: UInt64.self, capacity: Self.words * comm.size)
        publish(rank: comm.rank, step: 0, waits: 0)
    }

    @inline(__always)
    func publish(rank: Int, step: Int, waits: UInt64) {
        let s = slots + rank * Self.words
        cohort_atomic_store_u64(s, waits)
        cohort_atomic_store_u64(s + 1, UInt64(step))
        cohort_atomic_store_u64(s + 2, DispatchTime.now().uptimeNanoseconds)
    }

    func markDone(rank: Int) { cohort_atomic_store_u64(slots + rank * Self.words + 3, 1) }

    /// Ranks that have entered fewer waits than `waits` (they have not reached this one).
    func ranksBehind(_ me: Int, waits: UInt64) -> [Int] {
        (0..<ranks).filter { $0 != me && cohort_atomic_load_u64(slots + $0 * Self.words) < waits }
    }

    /// Unfinished ranks whose last sign of life is older than `limit` ns.
    func staleRanks(except me: Int, now: UInt64, limit: UInt64) -> [(rank: Int, seconds: Double)] {
        (0..<ranks).compactMap { r in
            let s = slots + r * Self.words
            guard r != me, cohort_atomic_load_u64(s + 3) == 0 else { return nil }
            let last = cohort_atomic_load_u64(s + 2)
            return now > last && now - last > limit ? (r, Double(now - last) * 1e-9) : nil
        }
    }

    /// A Hogwild rank's sampler place (epoch, position), which rank 0 reads for its checkpoints.
    public func publishPosition(rank: Int, epoch: Int, position: Int) {
        cohort_atomic_store_u64(slots + rank * Self.words + 4, UInt64(epoch))
        cohort_atomic_store_u64(slots + rank * Self.words + 5, UInt64(position))
    }

    public func position(rank: Int) -> [Int] {
        [Int(cohort_atomic_load_u64(slots + rank * Self.words + 4)), Int(cohort_atomic_load_u64(slots + rank * Self.words + 5))]
    }
}

/// A `Communicator` whose every collective is a watched wait.
public final class WatchedCommunicator: Communicator {
    public let base: Communicator
    public let watchdog: Watchdog

    public init(_ base: Communicator, watchdog: Watchdog) {
        self.base = base
        self.watchdog = watchdog
    }

    public var rank: Int { base.rank }
    public var size: Int { base.size }
    public var localRank: Int { base.localRank }
    public var localSize: Int { base.localSize }

    @inline(__always)
    private func watched<T>(_ kind: WaitKind, _ body: () throws -> T) rethrows -> T {
        watchdog.enter(kind)
        defer { watchdog.leave() }
        return try body()
    }

    final class Request: CollectiveRequest {
        let base: CollectiveRequest
        let watchdog: Watchdog
        init(_ base: CollectiveRequest, _ watchdog: Watchdog) { self.base = base; self.watchdog = watchdog }
        func wait() throws {
            watchdog.enter(.bucket)
            defer { watchdog.leave() }
            try base.wait()
        }
        func test() throws -> Bool { try base.test() }
    }

    public func allreduce(_ buffer: UnsafeMutablePointer<Float>, count: Int, average: Bool) throws {
        try watched(.allreduce) { try base.allreduce(buffer, count: count, average: average) }
    }
    public func startAllreduce(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws -> CollectiveRequest {
        Request(try base.startAllreduce(buffer, count: count), watchdog)
    }
    public func allreduce(_ values: inout [Double]) throws { try watched(.allreduce) { try base.allreduce(&values) } }
    public func broadcast(_ buffer: UnsafeMutablePointer<Float>, count: Int, root: Int) throws {
        try watched(.broadcast) { try base.broadcast(buffer, count: count, root: root) }
    }
    public func allgather(_ value: UInt64) throws -> [UInt64] { try watched(.allgather) { try base.allgather(value) } }
    public func allgather(bytes: [UInt8]) throws -> [[UInt8]] { try watched(.allgather) { try base.allgather(bytes: bytes) } }
    public func barrier() throws { try watched(.barrier) { try base.barrier() } }
    public func abort(code: Int32) -> Never { base.abort(code: code) }
}
