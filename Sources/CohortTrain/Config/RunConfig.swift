import Cohort
import CohortNN
import CohortOptim
import Foundation

/// Everything a run needs, decoded strictly from YAML (configs/*.yaml). Unknown keys are errors.
public struct RunConfig: Codable, Sendable {
    public var name: String
    public var seed: UInt64
    public var data: DataConfig
    public var model: ModelSpec
    public var optimizer: OptimizerConfig
    public var schedule: ScheduleConfig?
    public var training: TrainingConfig
    public var output: OutputConfig
    public var distributed: DistributedConfig
    /// Only for `cohort distill`: the teachers, the transfer set, pruning and quantisation.
    public var distill: DistillConfig?

    enum CodingKeys: String, CodingKey { case name, seed, data, model, optimizer, schedule, training, output, distributed, distill }

    public init(from decoder: Decoder) throws {
        try rejectUnknownKeys(decoder, known: Set(CodingKeys.allKeys))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? "run"
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? 0
        data = try c.decodeIfPresent(DataConfig.self, forKey: .data) ?? DataConfig()
        model = try c.decode(ModelSpec.self, forKey: .model)
        optimizer = try c.decode(OptimizerConfig.self, forKey: .optimizer)
        schedule = try c.decodeIfPresent(ScheduleConfig.self, forKey: .schedule)
        training = try c.decodeIfPresent(TrainingConfig.self, forKey: .training) ?? TrainingConfig()
        output = try c.decodeIfPresent(OutputConfig.self, forKey: .output) ?? OutputConfig()
        distributed = try c.decodeIfPresent(DistributedConfig.self, forKey: .distributed) ?? DistributedConfig()
        distill = try c.decodeIfPresent(DistillConfig.self, forKey: .distill)
        if !name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) || name.isEmpty {
            throw DecodingError.dataCorruptedError(forKey: .name, in: c, debugDescription: "use letters, digits, '-', '_' and '.' only, got '\(name)'")
        }
    }
}

extension RunConfig.CodingKeys: CaseIterable {}

/// Where the examples come from and how they are prepared.
public struct DataConfig: Codable, Sendable, Equatable {
    /// "fashion-mnist" (IDX files in `directory`), "idx" (explicit file names), "npy" or "csv".
    public var dataset: String = "fashion-mnist"
    public var directory: String = "/usr/share/datasets/fashion-mnist"
    /// Examples of the training set held out for validation (early stopping, plateau schedules).
    public var validation: Int = 5000
    /// Train on only the first this many examples (after the validation split; 0: all). For quick runs and tests.
    public var trainLimit: Int = 0
    /// Per-channel normalisation of [0, 1] pixels: (x - mean) / std.
    public var mean: Float = 0.2860
    public var std: Float = 0.3530
    public var augment: AugmentConfig = AugmentConfig()

    enum CodingKeys: String, CodingKey, CaseIterable { case dataset, directory, validation, trainLimit = "train_limit", mean, std, augment }

    public init() {}

    public init(from decoder: Decoder) throws {
        try rejectUnknownKeys(decoder, known: Set(CodingKeys.allKeys))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        dataset = try c.decodeIfPresent(String.self, forKey: .dataset) ?? dataset
        directory = try c.decodeIfPresent(String.self, forKey: .directory) ?? directory
        validation = try c.decodeIfPresent(Int.self, forKey: .validation) ?? validation
        trainLimit = try c.decodeIfPresent(Int.self, forKey: .trainLimit) ?? 0
        if trainLimit < 0 { throw DecodingError.dataCorruptedError(forKey: .trainLimit, in: c, debugDescription: "must be non-negative, got \(trainLimit)") }
        mean = try c.decodeIfPresent(Float.self, forKey: .mean) ?? mean
        std = try c.decodeIfPresent(Float.self, forKey: .std) ?? std
        augment = try c.decodeIfPresent(AugmentConfig.self, forKey: .augment) ?? augment
        guard ["fashion-mnist", "mnist"].contains(dataset) else {
            throw DecodingError.dataCorruptedError(forKey: .dataset, in: c, debugDescription: "unknown dataset '\(dataset)' (known: fashion-mnist, mnist)")
        }
        if validation < 0 { throw DecodingError.dataCorruptedError(forKey: .validation, in: c, debugDescription: "must be non-negative, got \(validation)") }
        if !(std > 0) { throw DecodingError.dataCorruptedError(forKey: .std, in: c, debugDescription: "must be positive, got \(std)") }
    }
}

/// Augmentation applied per batch: shifts of up to `shift` pixels, flips with probability `flip`,
/// Gaussian noise of standard deviation `noise` (in normalised units).
public struct AugmentConfig: Codable, Sendable, Equatable {
    public var shift: Int = 0
    public var flip: Float = 0
    public var noise: Float = 0

    enum CodingKeys: String, CodingKey, CaseIterable { case shift, flip, noise }

    public init() {}

    public init(from decoder: Decoder) throws {
        try rejectUnknownKeys(decoder, known: Set(CodingKeys.allKeys))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        shift = try c.decodeIfPresent(Int.self, forKey: .shift) ?? 0
        flip = try c.decodeIfPresent(Float.self, forKey: .flip) ?? 0
        noise = try c.decodeIfPresent(Float.self, forKey: .noise) ?? 0
        if shift < 0 { throw DecodingError.dataCorruptedError(forKey: .shift, in: c, debugDescription: "must be non-negative, got \(shift)") }
        if !(flip >= 0 && flip <= 1) { throw DecodingError.dataCorruptedError(forKey: .flip, in: c, debugDescription: "must be in [0, 1], got \(flip)") }
        if !(noise >= 0) { throw DecodingError.dataCorruptedError(forKey: .noise, in: c, debugDescription: "must be non-negative, got \(noise)") }
    }
}

/// The loop: how long, how big a batch, what to do with bad steps, when to evaluate and save.
public struct TrainingConfig: Codable, Sendable, Equatable {
    public var epochs: Int = 10
    public var batchSize: Int = 128
    /// Stop after this many steps (0: no limit besides epochs).
    public var maxSteps: Int = 0
    public var labelSmoothing: Float = 0
    /// Clip the global gradient norm to this (0: off).
    public var clipNorm: Float = 0
    /// L1 / L2 penalties on weights (not biases), added to the loss.
    public var l1: Float = 0
    public var l2: Float = 0
    /// What a NaN or Inf loss or gradient does.
    public var nonFinite: NonFinitePolicy = .stop
    /// Save a checkpoint every this many epochs (and at the end); 0: only at the end.
    public var checkpointEvery: Int = 1
    /// Also save every this many steps (0: off); lets a killed run resume mid-epoch.
    public var checkpointSteps: Int = 0
    /// Early stopping on validation accuracy: stop after this many epochs without improvement (0: off).
    public var patience: Int = 0
    /// Print and log training metrics every this many steps.
    public var logEvery: Int = 50
    /// OpenBLAS threads (0: OpenBLAS's default).
    public var threads: Int = 0
    /// Also evaluate the test set after every epoch (for time-to-accuracy comparisons).
    public var evalTest: Bool = false
    /// Gradient accumulation: micro-batches of batch_size per optimizer step (synchronised once).
    public var accumulate: Int = 1
    /// The matrix products of Linear and Conv2d: fp32, or bf16 with fp32 accumulation (needs avx512_bf16).
    public var precision: Precision = .fp32
    /// Lets bf16 run on a CPU without avx512_bf16, emulated (slower than fp32); otherwise such a run is refused.
    public var allowEmulatedBF16: Bool = false

    enum CodingKeys: String, CodingKey, CaseIterable {
        case epochs, batchSize = "batch_size", maxSteps = "max_steps", labelSmoothing = "label_smoothing"
        case clipNorm = "clip_norm", l1, l2, nonFinite = "non_finite", checkpointEvery = "checkpoint_every"
        case checkpointSteps = "checkpoint_steps", patience, logEvery = "log_every", threads, evalTest = "eval_test", accumulate
        case precision, allowEmulatedBF16 = "allow_emulated_bf16"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        try rejectUnknownKeys(decoder, known: Set(CodingKeys.allKeys))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func int(_ k: CodingKeys, _ d: Int, min: Int) throws -> Int {
            let v = try c.decodeIfPresent(Int.self, forKey: k) ?? d
            if v < min { throw DecodingError.dataCorruptedError(forKey: k, in: c, debugDescription: "must be at least \(min), got \(v)") }
            return v
        }
        func float(_ k: CodingKeys, _ d: Float, range: ClosedRange<Float>) throws -> Float {
            let v = try c.decodeIfPresent(Float.self, forKey: k) ?? d
            if !range.contains(v) { throw DecodingError.dataCorruptedError(forKey: k, in: c, debugDescription: "must be in [\(range.lowerBound), \(range.upperBound)], got \(v)") }
            return v
        }
        epochs = try int(.epochs, 10, min: 1)
        batchSize = try int(.batchSize, 128, min: 1)
        maxSteps = try int(.maxSteps, 0, min: 0)
        labelSmoothing = try float(.labelSmoothing, 0, range: 0...0.999)
        clipNorm = try float(.clipNorm, 0, range: 0...Float.greatestFiniteMagnitude)
        l1 = try float(.l1, 0, range: 0...Float.greatestFiniteMagnitude)
        l2 = try float(.l2, 0, range: 0...Float.greatestFiniteMagnitude)
        nonFinite = try c.decodeIfPresent(NonFinitePolicy.self, forKey: .nonFinite) ?? .stop
        checkpointEvery = try int(.checkpointEvery, 1, min: 0)
        checkpointSteps = try int(.checkpointSteps, 0, min: 0)
        patience = try int(.patience, 0, min: 0)
        logEvery = try int(.logEvery, 50, min: 1)
        threads = try int(.threads, 0, min: 0)
        evalTest = try c.decodeIfPresent(Bool.self, forKey: .evalTest) ?? false
        accumulate = try int(.accumulate, 1, min: 1)
        precision = try c.decodeIfPresent(Precision.self, forKey: .precision) ?? .fp32
        allowEmulatedBF16 = try c.decodeIfPresent(Bool.self, forKey: .allowEmulatedBF16) ?? false
    }

    /// `precision` on this CPU (bf16 without avx512_bf16: refused unless emulation is allowed).
    public func matmulPrecision() throws -> MatmulPrecision {
        try MatmulPrecision.resolve(precision, allowEmulation: allowEmulatedBF16)
    }
}

/// What a step whose loss or gradient is NaN or Inf does (`training.non_finite`).
public enum NonFinitePolicy: String, ConfigChoice {
    /// End the run with the step number (before this rank waits on any other).
    case stop
    /// Apply no update and go on.
    case skip
}

/// Where the run folder goes: `<directory>/<name>`.
public struct OutputConfig: Codable, Sendable, Equatable {
    public var directory: String = "runs"

    enum CodingKeys: String, CodingKey, CaseIterable { case directory }

    public init() {}

    public init(from decoder: Decoder) throws {
        try rejectUnknownKeys(decoder, known: Set(CodingKeys.allKeys))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        directory = try c.decodeIfPresent(String.self, forKey: .directory) ?? "runs"
    }
}
