import Cohort
import CohortDistributed

/// The allreduce time curves `cohort bench scaling` measures under mpirun, for fp32 gradient
/// messages of each size: the flat MPI allreduce over every rank and the hierarchical reducer over
/// the job's nodes, per wire type, and one node's shared-memory average (node 0 alone, while the
/// other ranks wait, so that it runs as on a node of its own).
public struct CollectiveCurves: Codable, Sendable {
    public var ranks: Int
    public var nodes: Int
    public var ranksPerNode: Int
    /// fp32 bytes of each message.
    public var bytes: [Int]
    /// Seconds per allreduce, by wire type, at each size.
    public var flat: [String: [Double]]
    public var hierarchical: [String: [Double]]
    public var sharedMemory: [Double]

    /// Collective over the job.
    public static func measure(topology: NodeTopology, sizes: [Int], seconds: Double) throws -> CollectiveCurves {
        let world = topology.world
        let largest = sizes.max()! / 4
        let buffer = Storage(capacity: largest)
        buffer.pointer.initialize(repeating: 0, count: largest)
        var curves = CollectiveCurves(ranks: world.size, nodes: topology.nodeCount, ranksPerNode: topology.node.size, bytes: sizes,
                                      flat: [:], hierarchical: [:], sharedMemory: [])
        for wire in WireFormat.allCases {
            let reducer = WireAllreduce(format: wire, communicator: world, maxCount: largest)
            curves.flat[wire.rawValue] = try sizes.map { bytes in
                try CollectiveTiming.seconds(per: { try reducer.allreduce(buffer.pointer, count: bytes / 4, scale: 1) }, seconds: seconds, comm: world)
            }
        }
        for bytes in sizes {
            let n = bytes / 4
            let buckets = GradientBuckets(slots: [(0, n)], bucketBytes: bytes)
            for wire in WireFormat.allCases {
                let reducer = try HierarchicalReducer(count: n, topology: topology, buckets: buckets, wire: wire, errorFeedback: false)
                let t = try CollectiveTiming.seconds(per: { try reducer.finish() }, seconds: seconds, comm: world)
                curves.hierarchical[wire.rawValue, default: []].append(t)
            }
            // One node's shared-memory average, timed on node 0 while the others wait at a barrier.
            let onNode0 = topology.nodeIndex == 0
            let shm = onNode0 ? try SharedMemoryReducer(count: n, node: topology.node) : nil
            var t = [0.0]
            if let shm { t[0] = try CollectiveTiming.seconds(per: { shm.allreduce() }, seconds: seconds, comm: topology.node) }
            if world.rank != 0 { t[0] = 0 }
            try world.allreduce(&t)  // rank 0's figure to every rank
            curves.sharedMemory.append(t[0])
        }
        return curves
    }
}
