import Cohort
import CohortDistributed
import CohortNN

/// The one place that decides how gradients are synchronised, from the config and the job's shape.
public enum GradientSyncFactory {
    /// The reducer the config asks for on this job's nodes:
    ///   one process, or Hogwild              -> none (`LocalGradients`: nothing to average)
    ///   shm, or auto on one node             -> shm (`SharedMemoryReducer`)
    ///   hierarchical, or auto across nodes   -> hierarchical (`HierarchicalReducer`)
    ///   mpi                                  -> mpi (`GradientReducer`, MPI buckets over every rank)
    /// Needs no collective; throws for a combination the job cannot run, so that every rank says so
    /// before it waits on any other.
    public static func kind(_ config: DistributedConfig, worldSize: Int, spansNodes: Bool) throws -> GradientSyncKind {
        try NodeTopology.check(ranksPerNode: config.ranksPerNode, worldSize: worldSize)
        if worldSize == 1 || config.mode == .hogwild { return .none }
        let kind: GradientSyncKind
        switch config.reducer {
        case .shm:
            guard !spansNodes else {
                throw CohortError.invalid("distributed.reducer: shm averages through shared memory on one node, but the \(worldSize) ranks span several nodes; use auto, hierarchical or mpi")
            }
            kind = .sharedMemory
        case .auto: kind = spansNodes ? .hierarchical : .sharedMemory
        case .hierarchical: kind = .hierarchical
        case .mpi: kind = .mpi
        }
        if config.wire != .fp32 && kind == .sharedMemory {
            throw CohortError.invalid("distributed.wire: \(config.wire.rawValue) needs a reducer that sends gradients over MPI, but reducer auto on one node averages through shared memory; set distributed.reducer to mpi or hierarchical")
        }
        return kind
    }

    /// Collective when it builds a shared-memory or hierarchical reducer: every rank must call it at
    /// the same point.
    public static func make(_ config: DistributedConfig, parameters: ParameterArena, topology: NodeTopology) throws -> GradientSync {
        let kind = try kind(config, worldSize: topology.world.size, spansNodes: topology.spansNodes)
        let slots = zip(parameters.entries, parameters.parameters).map {
            GradientReducer.Slot(variable: $0.1.variable, offset: $0.0.offset, count: $0.0.count)
        }
        let buckets = GradientBuckets(slots: slots.map { ($0.offset, $0.count) }, bucketBytes: config.bucketBytes,
                                      firstBucketBytes: config.firstBucketBytes)
        switch kind {
        case .none:
            return LocalGradients(count: parameters.count)
        case .sharedMemory:
            return try SharedMemoryReducer(count: parameters.count, node: topology.node)
        case .hierarchical:
            return try HierarchicalReducer(count: parameters.count, topology: topology, buckets: buckets, wire: config.wire,
                                           errorFeedback: config.errorFeedback)
        case .mpi:
            let comm = topology.world
            let wire = config.overlap ? nil : WireAllreduce(format: config.wire, communicator: comm, maxCount: buckets.largest,
                                                            errorFeedbackCount: config.errorFeedback ? parameters.count : nil)
            return GradientReducer(slots: slots, count: parameters.count, communicator: comm, layout: buckets, overlap: config.overlap, wire: wire)
        }
    }
}
