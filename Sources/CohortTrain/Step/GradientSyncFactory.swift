import Cohort
import CohortDistributed
import CohortNN

/// The one place that decides how gradients are synchronised, from the config and the job's shape.
public enum GradientSyncFactory {
    /// Collective when it builds a shared-memory reducer: every rank must call it at the same point.
    ///   one process, or Hogwild          -> `LocalGradients` (nothing to average)
    ///   reducer shm, or auto on one node -> `SharedMemoryReducer`
    ///   reducer mpi, or auto across nodes -> `GradientReducer` (MPI buckets)
    public static func make(_ config: DistributedConfig, parameters: ParameterArena,
                            communicator comm: Communicator) throws -> GradientSync {
        if comm.size == 1 || config.mode == .hogwild { return LocalGradients(count: parameters.count) }
        let oneNode = comm.localSize == comm.size
        switch config.reducer {
        case .shm:
            guard oneNode else {
                throw CohortError.invalid("distributed.reducer: shm averages through shared memory on one node, but the \(comm.size) ranks span several nodes; use auto or mpi")
            }
            return try sharedMemory(parameters, comm)
        case .auto where oneNode:
            return try sharedMemory(parameters, comm)
        case .auto, .mpi:
            let slots = zip(parameters.entries, parameters.parameters).map {
                GradientReducer.Slot(variable: $0.1.variable, offset: $0.0.offset, count: $0.0.count)
            }
            return GradientReducer(slots: slots, count: parameters.count, communicator: comm, bucketBytes: config.bucketBytes,
                                   firstBucketBytes: config.firstBucketBytes, overlap: config.overlap)
        }
    }

    private static func sharedMemory(_ parameters: ParameterArena, _ comm: Communicator) throws -> SharedMemoryReducer {
        let reducer = try SharedMemoryReducer(count: parameters.count, communicator: comm)
        reducer.watchdog = (comm as? WatchedCommunicator)?.watchdog
        return reducer
    }
}
