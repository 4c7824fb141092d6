import Cohort
import Foundation

/// Averages gradients over several nodes: through shared memory within each node, over MPI only
/// between the node leaders (Horovod's hierarchical allreduce, with the node part in shared memory).
///
/// Every rank of a node keeps its gradient arena in a slot of the node's segment
/// (`SharedGradientSlots`). After backward, between barriers:
///   1. each rank sums its 1/M share of the arena over the node's M slots into the leader's slot;
///   2. the leader allreduces the node sums with the other leaders, bucket by bucket in the same
///      order on every node (fp32, or 16 bits on the wire), and scales by 1 / (world size);
///   3. each rank copies its share of the result from the leader's slot into every other slot.
/// Only one rank per node sends anything over the network, each node sends one arena's worth, and
/// every rank of the job ends with the same bits.
public final class HierarchicalReducer: GradientSync {
    let slots: SharedGradientSlots
    let buckets: GradientBuckets
    /// The leaders' exchange (nil on the node's other ranks).
    public let wire: WireAllreduce?
    let worldSize: Int
    public var kind: GradientSyncKind { .hierarchical }
    public var bytesSent: Int { wire?.bytesSent ?? 0 }

    /// Collective over the job. `count` floats per rank; `buckets`: the exchanges between leaders;
    /// `wire` and `errorFeedback`: how the node sums travel.
    public init(count: Int, topology: NodeTopology, buckets: GradientBuckets, wire: WireFormat, errorFeedback: Bool) throws {
        slots = try SharedGradientSlots(count: count, node: topology.node)
        self.buckets = buckets
        worldSize = topology.world.size
        self.wire = topology.leaders.map {
            WireAllreduce(format: wire, communicator: $0, maxCount: buckets.largest, errorFeedbackCount: errorFeedback ? count : nil)
        }
    }

    public var gradientStorage: Storage { slots.storage }
    public func beginStep() {}
    public func beginBackward(last: Bool) {}

    public func finish() throws {
        slots.barrier(.nodeGradients)
        slots.reduceChunk(scale: 1, into: 0..<1)
        slots.barrier(.nodeGradients)
        if let wire {
            let sums = slots.slot(0), scale = 1 / Float(worldSize)
            for bucket in buckets.buckets {
                try wire.allreduce(sums + bucket.range.lowerBound, count: bucket.range.count, scale: scale,
                                   residualOffset: bucket.range.lowerBound)
            }
        }
        slots.barrier(.nodeGradients)
        slots.broadcastChunk(from: 0)
        slots.barrier(.nodeGradients)
    }
}
