import Cohort
import Foundation

/// Averages gradients across the ranks of ONE node through shared memory instead of MPI.
///
/// Every rank's gradient arena lives in a slot of one shared segment (the model's flat layout makes
/// this a single allocation). After backward each rank waits at a barrier, then owns 1/N of the
/// arena: it sums that chunk over all N slots once, scales by 1/N and writes the result into every
/// slot, so all ranks end with bitwise-identical averages; a second barrier ends the step. Per rank
/// that is reading and writing 2x the arena's size, all of it in the shared L3 cache for a model
/// of a few MB, with no copies into and out of MPI's buffers (`cohort bench train --ranks 2`).
public final class SharedMemoryReducer: GradientSync {
    let slots: SharedGradientSlots
    public var kind: GradientSyncKind { .sharedMemory }

    /// Collective over `node`, the ranks of one node (the whole job). `count` floats per rank.
    public init(count: Int, node: Communicator) throws {
        slots = try SharedGradientSlots(count: count, node: node)
    }

    /// This rank's gradient slot: the gradient arena lives here.
    public var gradientStorage: Storage { slots.storage }

    public func beginStep() {}
    public func beginBackward(last: Bool) {}
    public func finish() throws { allreduce() }

    /// Replaces every rank's gradients with their average.
    public func allreduce() {
        slots.barrier(.sharedGradients)
        slots.reduceChunk(scale: 1 / Float(slots.size), into: 0..<slots.size)
        slots.barrier(.sharedGradients)
    }
}
