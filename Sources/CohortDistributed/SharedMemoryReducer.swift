import Cohort
import CAtomics
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Averages gradients across the ranks of ONE node through shared memory instead of MPI.
///
/// Every rank's gradient arena lives in a slot of one shared segment (the model's flat layout makes
/// this a single allocation). After backward each rank waits at a barrier, then owns 1/N of the
/// arena: it sums that chunk over all N slots once, scales by 1/N and writes the result into every
/// slot, so all ranks end with bitwise-identical averages; a second barrier ends the step. Per rank
/// that is reading and writing 2x the arena's size, all of it in the shared L3 cache for a model
/// of a few MB, with no copies into and out of MPI's buffers (`cohort bench train --ranks 2`).
public final class SharedMemoryReducer: GradientSync {
    public let arena: SharedArena
    public let count: Int
    let stride: Int
    let rank: Int, size: Int
    private var barriers: UInt64 = 0
    private let chunk: Range<Int>
    public var kind: GradientSyncKind { .sharedMemory }
    /// Watches the barriers' waits (set by whoever made the reducer from a watched communicator).
    public var watchdog: Watchdog?

    /// Collective over the node's ranks (all ranks must be on this node). `count` floats per rank.
    public init(count: Int, communicator comm: Communicator) throws {
        guard comm.localSize == comm.size else {
            throw CohortError.invalid("shared-memory reducer: the ranks span several nodes")
        }
        self.count = count
        stride = ParameterPadding.padded(count)
        rank = comm.rank
        size = comm.size
        let key = "grad-" + String(try comm.allgather(UInt64(getpid()))[0], radix: 16)
        arena = try SharedArena(floats: stride * comm.size, jobKey: key, isCreator: comm.rank == 0, barrier: { try comm.barrier() })
        // This rank's share of the arena, in whole 16-float lines.
        let lines = stride / 16
        let lo = lines * rank / size * 16, hi = lines * (rank + 1) / size * 16
        chunk = lo..<hi
    }

    /// This rank's gradient slot: the gradient arena lives here.
    public var gradientStorage: Storage {
        Storage(borrowing: arena.storage.pointer + rank * stride, capacity: stride, owner: arena)
    }

    public func beginStep() {}
    public func beginBackward(last: Bool) {}
    public func finish() throws { allreduce() }

    /// Waits until every rank has arrived (a counting barrier on an atomic in the segment).
    private func barrier() {
        watchdog?.enter(.sharedGradients)
        defer { watchdog?.leave() }
        barriers += 1
        arena.addUpdates(1)
        let target = barriers * UInt64(size)
        var spins = 0
        while arena.updates < target {
            spins += 1
            if spins > 2000 { sched_yield() }  // oversubscribed ranks must let the others run
        }
    }

    /// Replaces every rank's gradients with their average.
    public func allreduce() {
        barrier()
        let base = arena.storage.pointer
        let inv = 1 / Float(size)
        let lo = chunk.lowerBound, n = chunk.count
        let first = base + lo
        if size == 2 {
            let second = base + stride + lo
            for i in 0..<n {
                let v = (first[i] + second[i]) * inv
                first[i] = v
                second[i] = v
            }
        } else {
            for i in 0..<n {
                var s: Float = 0
                for k in 0..<size { s += base[k * stride + lo + i] }
                s *= inv
                for k in 0..<size { base[k * stride + lo + i] = s }
            }
        }
        barrier()
    }
}
