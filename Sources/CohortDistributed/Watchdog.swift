import CAtomics
import Cohort
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a rank can be waiting for when another rank stops making progress.
public enum WaitKind: UInt64, Sendable {
    case allreduce = 1, bucket, broadcast, allgather, barrier, sharedGradients, hogwildPeers, nodeGradients, exchange

    var description: String {
        switch self {
        case .allreduce: return "an MPI allreduce"
        case .bucket: return "an MPI allreduce of a gradient bucket"
        case .broadcast: return "an MPI broadcast"
        case .allgather: return "an MPI allgather"
        case .barrier: return "an MPI barrier"
        case .sharedGradients: return "the shared-memory gradient average"
        case .hogwildPeers: return "updates to the shared Hogwild parameters"
        case .nodeGradients: return "the node's gradient average (its leader exchanging with the other nodes)"
        case .exchange: return "an MPI exchange of 16-bit gradients"
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
    /// Published progress of every rank of this node (nil before a run sets it).
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
        board?.publish(step: step, waits: cohort_atomic_load_u64(state + 3))
    }

    /// A wait for other ranks begins. `counted`: every rank of the node makes this wait too, so a
    /// peer that has entered fewer counted waits is behind (the node leaders' exchanges with other
    /// nodes are not counted: the node's other ranks never make them).
    @inline(__always)
    public func enter(_ kind: WaitKind, counted: Bool = true) {
        let waits = counted ? cohort_atomic_fetch_add_u64(state + 3, 1) + 1 : cohort_atomic_load_u64(state + 3)
        board?.publish(step: Int(cohort_atomic_load_u64(state + 2)), waits: waits)
        cohort_atomic_store_u64(state + 1, kind.rawValue)
        cohort_atomic_store_u64(state, DispatchTime.now().uptimeNanoseconds)
    }

    @inline(__always)
    public func leave() { cohort_atomic_store_u64(state, 0) }

    /// This rank has finished its part (a Hogwild rank that ran out of updates is not stalled).
    public func finished() { board?.markDone() }

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
                let behind = board?.ranksBehind(waits: cohort_atomic_load_u64(state + 3)) ?? []
                fail(behind, seconds: Double(now - started) * 1e-9, kind: kind)
            }
            if cohort_atomic_load_u64(state + 5) == 1, let board {
                let stale = board.staleRanks(now: now, limit: limit)
                if !stale.isEmpty { fail(stale.map(\.rank), seconds: stale.map(\.seconds).max()!, kind: .hogwildPeers) }
            }
        }
    }

    private func fail(_ ranks: [Int], seconds: Double, kind: WaitKind) -> Never {
        let who = ranks.isEmpty ? "the other ranks" : "rank\(ranks.count > 1 ? "s" : "") " + ranks.map(String.init).joined(separator: ", ")
        let line = String(format: "cohort: rank %d: no progress from %@ for %.0f s at step %d (waiting for %@); ending the job (distributed.timeout is %.0f s)\n",
                          rank, who, seconds, Int(cohort_atomic_load_u64(state + 2)), kind.description, timeout)
        FileHandle.standardError.write(Data(line.utf8))
        FailureReport.record(line)
        _exit(1)  // mpirun ends every other rank when one exits without MPI_Finalize
    }
}
