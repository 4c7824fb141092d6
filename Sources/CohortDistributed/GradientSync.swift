import Cohort

/// What makes one rank's gradients the average over all ranks, between backward and the update.
/// Every training step (Sources/CohortTrain/TrainingStep.swift) goes through one: nothing for one
/// process or Hogwild, bucketed MPI allreduces, or shared memory on one node. It also decides where
/// the gradient arena lives, because the shared-memory reducer needs it in its segment.
public protocol GradientSync: AnyObject {
    var kind: GradientSyncKind { get }
    /// Memory for this rank's gradient arena (at least the arena's float count).
    var gradientStorage: Storage { get }
    /// Before the step's first backward.
    func beginStep()
    /// Before each backward of the step: only the last one (with gradient accumulation, the last
    /// micro-batch) may start sending.
    func beginBackward(last: Bool)
    /// After the last backward: every rank's gradient arena holds the average over ranks.
    func finish() throws
    /// Bytes this rank has sent to other ranks over MPI so far (see `WireAllreduce`).
    var bytesSent: Int { get }
}

extension GradientSync {
    public var bytesSent: Int { 0 }
}

public enum GradientSyncKind: String, Sendable, Codable {
    /// One process, or Hogwild: each rank applies its own gradients.
    case none
    /// Bucketed MPI allreduces (`GradientReducer`).
    case mpi
    /// Through one shared-memory segment on one node (`SharedMemoryReducer`).
    case sharedMemory = "shm"
    /// Shared memory within each node, MPI between the node leaders (`HierarchicalReducer`).
    case hierarchical
}

/// Gradients that stay with their rank: one process, or Hogwild's lock-free updates.
public final class LocalGradients: GradientSync {
    public let gradientStorage: Storage
    public var kind: GradientSyncKind { .none }

    public init(count: Int) { gradientStorage = Storage(capacity: max(count, 1)) }

    public func beginStep() {}
    public func beginBackward(last: Bool) {}
    public func finish() throws {}
}
