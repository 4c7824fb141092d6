import CAtomics
import Cohort
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Every rank of a node publishes its progress here (a small shared-memory segment): its step, how
/// many waits for other ranks it has entered, when it last did either, and whether it has finished.
/// The watchdog compares them to name the rank(s) behind. Slots are in the node's rank order;
/// messages name world ranks.
public final class HeartbeatBoard: @unchecked Sendable {
    private let segment: SharedArena
    private let slots: UnsafeMutablePointer<UInt64>
    /// The world rank of each slot.
    public let worldRanks: [Int]
    /// This rank's slot.
    let slot: Int
    static let words = 8

    /// Collective over the node's ranks (`node`: the ranks of one node; `worldRank`: this rank's
    /// rank in the whole job).
    public init(node: Communicator, worldRank: Int) throws {
        worldRanks = try node.allgather(UInt64(worldRank)).map { Int($0) }
        slot = node.rank
        let key = "beat-" + String(try node.allgather(UInt64(getpid()))[0], radix: 16)
        segment = try SharedArena(floats: 2 * Self.words * node.size, jobKey: key, isCreator: node.rank == 0, barrier: { try node.barrier() })
        slots = UnsafeMutableRawPointer(segment.storage.pointer).bindMemory(to: UInt64.self, capacity: Self.words * node.size)
        publish(step: 0, waits: 0)
    }

    @inline(__always)
    func publish(step: Int, waits: UInt64) {
        let s = slots + slot * Self.words
        cohort_atomic_store_u64(s, waits)
        cohort_atomic_store_u64(s + 1, UInt64(step))
        cohort_atomic_store_u64(s + 2, DispatchTime.now().uptimeNanoseconds)
    }

    func markDone() { cohort_atomic_store_u64(slots + slot * Self.words + 3, 1) }

    /// World ranks of the node that have entered fewer waits than `waits` (they have not reached this one).
    func ranksBehind(waits: UInt64) -> [Int] {
        worldRanks.indices.filter { $0 != slot && cohort_atomic_load_u64(slots + $0 * Self.words) < waits }.map { worldRanks[$0] }
    }

    /// Unfinished ranks of the node (world ranks) whose last sign of life is older than `limit` ns.
    func staleRanks(now: UInt64, limit: UInt64) -> [(rank: Int, seconds: Double)] {
        worldRanks.indices.compactMap { r in
            let s = slots + r * Self.words
            guard r != slot, cohort_atomic_load_u64(s + 3) == 0 else { return nil }
            let last = cohort_atomic_load_u64(s + 2)
            return now > last && now - last > limit ? (worldRanks[r], Double(now - last) * 1e-9) : nil
        }
    }

    /// This rank's Hogwild sampler place (epoch, position), which the node's rank 0 reads for its checkpoints.
    public func publishPosition(epoch: Int, position: Int) {
        cohort_atomic_store_u64(slots + slot * Self.words + 4, UInt64(epoch))
        cohort_atomic_store_u64(slots + slot * Self.words + 5, UInt64(position))
    }

    /// Every rank's [epoch, position] in the node's rank order.
    public func positions() -> [[Int]] {
        worldRanks.indices.map {
            [Int(cohort_atomic_load_u64(slots + $0 * Self.words + 4)), Int(cohort_atomic_load_u64(slots + $0 * Self.words + 5))]
        }
    }
}
