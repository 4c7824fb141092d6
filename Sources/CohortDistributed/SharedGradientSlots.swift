import Cohort
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The gradient arenas of a node's ranks side by side in one shared-memory segment, a counting
/// barrier on an atomic in its header, and the share of the arena this rank reduces (1/N of it, in
/// whole 16-float lines). The shared-memory and hierarchical reducers are built on it.
final class SharedGradientSlots {
    let arena: SharedArena
    /// Floats per slot (the arena's count, padded).
    let stride: Int
    let rank: Int, size: Int
    /// This rank's share of every slot.
    let chunk: Range<Int>
    private var barriers: UInt64 = 0
    /// Watches the barriers' waits (set by whoever made the reducer from a watched communicator).
    var watchdog: Watchdog?

    /// Collective over `node` (the ranks of one node). `count` floats per rank.
    init(count: Int, node: Communicator) throws {
        stride = ParameterPadding.padded(count)
        rank = node.rank
        size = node.size
        let key = "grad-" + String(try node.allgather(UInt64(getpid()))[0], radix: 16)
        arena = try SharedArena(floats: stride * node.size, jobKey: key, isCreator: node.rank == 0, barrier: { try node.barrier() })
        let lines = stride / 16
        chunk = (lines * rank / size * 16)..<(lines * (rank + 1) / size * 16)
        watchdog = (node as? WatchedCommunicator)?.watchdog
    }

    /// Rank `r`'s gradient arena.
    func slot(_ r: Int) -> UnsafeMutablePointer<Float> { arena.storage.pointer + r * stride }

    /// This rank's slot: its gradient arena lives here.
    var storage: Storage { Storage(borrowing: slot(rank), capacity: stride, owner: arena) }

    /// Waits until every rank of the node has arrived here.
    func barrier(_ kind: WaitKind) {
        watchdog?.enter(kind)
        defer { watchdog?.leave() }
        barriers += 1
        arena.addUpdates(1)
        let target = barriers * UInt64(size)
        var spins = 0
        while arena.updates < target {
            spins += 1
            // Oversubscribed ranks must let the others run; a long wait (a leader exchanging with
            // other nodes) sleeps instead of taking a core from the ranks still computing.
            if spins > 50_000 { usleep(20) } else if spins > 2000 { sched_yield() }
        }
    }

    /// Sums this rank's chunk over every slot in slot order, times `scale`, into each slot in
    /// `targets` (all slots, or the leader's).
    func reduceChunk(scale: Float, into targets: Range<Int>) {
        let base = arena.storage.pointer
        let lo = chunk.lowerBound, n = chunk.count
        if size == 2 && targets == 0..<2 {  // the common case, as one vectorised loop
            let first = base + lo, second = base + stride + lo
            for i in 0..<n {
                let v = (first[i] + second[i]) * scale
                first[i] = v
                second[i] = v
            }
            return
        }
        for i in 0..<n {
            var s: Float = 0
            for k in 0..<size { s += base[k * stride + lo + i] }
            s *= scale
            for k in targets { base[k * stride + lo + i] = s }
        }
    }

    /// Copies this rank's chunk of `source`'s slot into every other slot.
    func broadcastChunk(from source: Int) {
        let from = slot(source) + chunk.lowerBound
        for k in 0..<size where k != source { (slot(k) + chunk.lowerBound).update(from: from, count: chunk.count) }
    }
}
