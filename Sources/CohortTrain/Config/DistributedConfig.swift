import Cohort
import CohortDistributed

/// How several ranks train together (`distributed.mode`).
public enum DistributedMode: String, ConfigChoice {
    /// Gradients averaged every step, so every rank applies the same update.
    case sync
    /// Lock-free updates to one parameter arena in shared memory per node; across nodes the node
    /// leaders average the arenas every `average_every` steps.
    case hogwild
}

/// How synchronous training averages gradients (`distributed.reducer`).
public enum ReducerChoice: String, ConfigChoice {
    /// Shared memory when every rank is on this node, else hierarchical.
    case auto
    /// Bucketed MPI allreduce over every rank.
    case mpi
    /// Shared memory (one node only).
    case shm
    /// Shared memory within each node, MPI between the node leaders.
    case hierarchical

    /// Whether this reducer sends gradients over MPI, where `distributed.wire` applies.
    public var usesWire: Bool { self == .mpi || self == .hierarchical }
}

/// How several ranks train together.
public struct DistributedConfig: Codable, Sendable, Equatable {
    public var mode: DistributedMode = .sync
    /// Gradient bucket size in MB (measured on this machine: see README).
    public var bucketMB: Double = 4
    /// The first bucket (the last layers) is smaller so communication starts early.
    public var firstBucketMB: Double = 1
    /// Compare a checksum of the parameters across ranks every this many steps (0: only at the end).
    public var checkEvery: Int = 100
    /// Start each bucket's allreduce during backward (MPI_Iallreduce) instead of reducing after it.
    /// Off by default: on this 2-core machine every core is busy computing, and Open MPI's
    /// non-blocking allreduce costs more than its blocking one (README, `cohort bench train --ranks 2`).
    public var overlap: Bool = false
    public var reducer: ReducerChoice = .auto
    /// Multiply the learning rate by the number of ranks (the linear scaling rule; pair it with
    /// schedule.warmup_steps).
    public var scaleLR: Bool = false
    /// Seconds a rank waits for the others (a collective, the shared-memory average, a Hogwild
    /// peer's heartbeat) before it ends the job naming the rank(s) that made no progress.
    public var timeout: Double = 1800
    /// Each this many consecutive ranks form one node (nil: the nodes MPI reports), so that one
    /// machine can run every multi-node path.
    public var ranksPerNode: Int?
    /// How gradients travel over MPI (the mpi and hierarchical reducers).
    public var wire: WireFormat = .fp32
    /// Add what rounding to the 16-bit wire took from one step's gradients to the next step's.
    public var errorFeedback: Bool = false
    /// Hogwild across nodes: the node leaders average their arenas every this many steps (steps of
    /// the schedule: one step of every rank of a node). nil: `defaultAverageEvery`.
    public var averageEvery: Int?
    public static let defaultAverageEvery = 100

    public var bucketBytes: Int { Int(bucketMB * 1_048_576) }
    public var firstBucketBytes: Int { Int(firstBucketMB * 1_048_576) }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case mode, bucketMB = "bucket_mb", firstBucketMB = "first_bucket_mb", checkEvery = "check_every", scaleLR = "scale_lr", overlap, reducer
        case timeout, ranksPerNode = "ranks_per_node", wire, errorFeedback = "error_feedback", averageEvery = "average_every"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        try rejectUnknownKeys(decoder, known: Set(CodingKeys.allCases.map(\.stringValue)))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        mode = try c.decodeIfPresent(DistributedMode.self, forKey: .mode) ?? .sync
        bucketMB = try c.decodeIfPresent(Double.self, forKey: .bucketMB) ?? 4
        firstBucketMB = try c.decodeIfPresent(Double.self, forKey: .firstBucketMB) ?? 1
        checkEvery = try c.decodeIfPresent(Int.self, forKey: .checkEvery) ?? 100
        scaleLR = try c.decodeIfPresent(Bool.self, forKey: .scaleLR) ?? false
        overlap = try c.decodeIfPresent(Bool.self, forKey: .overlap) ?? false
        reducer = try c.decodeIfPresent(ReducerChoice.self, forKey: .reducer) ?? .auto
        timeout = try c.decodeIfPresent(Double.self, forKey: .timeout) ?? 1800
        if !(timeout > 0 && timeout.isFinite) { throw DecodingError.dataCorruptedError(forKey: .timeout, in: c, debugDescription: "must be a positive number of seconds, got \(timeout)") }
        if !(bucketMB > 0) { throw DecodingError.dataCorruptedError(forKey: .bucketMB, in: c, debugDescription: "must be positive, got \(bucketMB)") }
        if !(firstBucketMB > 0) { throw DecodingError.dataCorruptedError(forKey: .firstBucketMB, in: c, debugDescription: "must be positive, got \(firstBucketMB)") }
        if checkEvery < 0 { throw DecodingError.dataCorruptedError(forKey: .checkEvery, in: c, debugDescription: "must be non-negative, got \(checkEvery)") }
        ranksPerNode = try c.decodeIfPresent(Int.self, forKey: .ranksPerNode)
        wire = try c.decodeIfPresent(WireFormat.self, forKey: .wire) ?? .fp32
        errorFeedback = try c.decodeIfPresent(Bool.self, forKey: .errorFeedback) ?? false
        averageEvery = try c.decodeIfPresent(Int.self, forKey: .averageEvery)
        func fail(_ key: CodingKeys, _ reason: String) -> DecodingError { DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: reason) }
        if let n = ranksPerNode, n < 1 { throw fail(.ranksPerNode, "must be at least 1, got \(n)") }
        if wire != .fp32 {
            if mode == .hogwild { throw fail(.wire, "\(wire.rawValue) carries the gradients of sync training; Hogwild sends no gradients (its nodes average parameters in fp32)") }
            if !reducer.usesWire && reducer != .auto {
                throw fail(.wire, "\(wire.rawValue) applies to the mpi and hierarchical reducers; reducer \(reducer.rawValue) sends nothing over MPI")
            }
            if overlap { throw fail(.wire, "\(wire.rawValue) buckets are sent after backward; it cannot be combined with distributed.overlap: true") }
        }
        if errorFeedback && wire == .fp32 { throw fail(.errorFeedback, "needs a 16-bit distributed.wire (bf16 or fp16); fp32 loses nothing to feed back") }
        if let every = averageEvery {
            if mode != .hogwild { throw fail(.averageEvery, "averages Hogwild arenas across nodes; it does not apply to mode \(mode.rawValue)") }
            if every < 1 { throw fail(.averageEvery, "must be at least 1 step, got \(every)") }
        }
    }
}
