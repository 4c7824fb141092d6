import Cohort

/// How several ranks train together (`distributed.mode`).
public enum DistributedMode: String, ConfigChoice {
    /// Gradients averaged every step, so every rank applies the same update.
    case sync
    /// Lock-free updates to one parameter arena in shared memory (one node).
    case hogwild
}

/// How synchronous training averages gradients (`distributed.reducer`).
public enum ReducerChoice: String, ConfigChoice {
    /// Shared memory when every rank is on this node, else MPI.
    case auto
    /// Bucketed MPI allreduce.
    case mpi
    /// Shared memory (one node only).
    case shm
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

    public var bucketBytes: Int { Int(bucketMB * 1_048_576) }
    public var firstBucketBytes: Int { Int(firstBucketMB * 1_048_576) }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case mode, bucketMB = "bucket_mb", firstBucketMB = "first_bucket_mb", checkEvery = "check_every", scaleLR = "scale_lr", overlap, reducer
        case timeout
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
    }
}
