import Cohort
import CohortData
import CohortNN
import CohortOptim
import Foundation

/// Everything a run needs, decoded strictly from YAML (configs/*.yaml). Unknown keys are errors.
public struct RunConfig: Codable, Sendable {
    public var name: String
    public var seed: UInt64
    /// Classification (cross-entropy, accuracy) or regression (mean squared error, RMSE, MAE).
    public var task: Task
    public var data: DataConfig
    /// The network (with `distill.students`, the first student's: the config then has no `model`).
    public var model: ModelSpec {
        get {
            guard let m = storedModel ?? distill?.students?.first?.model else { preconditionFailure("RunConfig: neither model nor distill.students (decoding refuses this)") }
            return m
        }
        set { storedModel = newValue }
    }
    /// `model` as the config writes it: nil where `distill.students` names the networks.
    private var storedModel: ModelSpec?
    public var optimizer: OptimizerConfig
    public var schedule: ScheduleConfig?
    public var training: TrainingConfig
    public var output: OutputConfig
    public var distributed: DistributedConfig
    /// Only for `cohort distill`: the teachers, the transfer set, pruning and quantisation.
    public var distill: DistillConfig?

    enum CodingKeys: String, CodingKey {
        case name, seed, task, data, storedModel = "model", optimizer, schedule, training, output, distributed, distill
    }

    public init(from decoder: Decoder) throws {
        try rejectUnknownKeys(decoder, known: Set(CodingKeys.allKeys))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? "run"
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? 0
        task = try c.decodeIfPresent(Task.self, forKey: .task) ?? .classification
        data = try c.decodeIfPresent(DataConfig.self, forKey: .data) ?? DataConfig()
        let model = try c.decodeIfPresent(ModelSpec.self, forKey: .storedModel)
        optimizer = try c.decode(OptimizerConfig.self, forKey: .optimizer)
        schedule = try c.decodeIfPresent(ScheduleConfig.self, forKey: .schedule)
        training = try c.decodeIfPresent(TrainingConfig.self, forKey: .training) ?? TrainingConfig()
        output = try c.decodeIfPresent(OutputConfig.self, forKey: .output) ?? OutputConfig()
        distributed = try c.decodeIfPresent(DistributedConfig.self, forKey: .distributed) ?? DistributedConfig()
        distill = try c.decodeIfPresent(DistillConfig.self, forKey: .distill)
        // One place says what the network is: `model`, or `distill.students` listing several.
        switch (model, distill?.students?.first) {
        case let (model?, nil): storedModel = model
        case (nil, .some): storedModel = nil
        case (.some, .some):
            throw DecodingError.dataCorruptedError(forKey: .storedModel, in: c, debugDescription: "distill.students lists the networks: remove model (or students)")
        case (nil, nil):
            throw DecodingError.keyNotFound(CodingKeys.storedModel, .init(codingPath: c.codingPath, debugDescription: "no model: list its layers under model.layers"))
        }
        // The student's views are distill.transfer's to make (cached copies or online batches), so
        // the teacher always labels exactly the image the student learns from.
        if distill != nil && data.augment != AugmentConfig() {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath + [CodingKeys.data, AnyCodingKey("augment")],
                                                    debugDescription: "cohort distill augments through distill.transfer (shift, flip, noise; per batch with teacher_mode: online), not data.augment"))
        }
        // The run folder is output.directory/name: a name must stay one plain folder inside it.
        if !name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) || name.isEmpty {
            throw DecodingError.dataCorruptedError(forKey: .name, in: c, debugDescription: "use letters, digits, '-', '_' and '.' only, got '\(name)'")
        }
        if name == "." || name == ".." {
            throw DecodingError.dataCorruptedError(forKey: .name, in: c, debugDescription: "'\(name)' is not a folder name of its own (the run folder would be output.directory or its parent)")
        }
    }
}

extension RunConfig.CodingKeys: CaseIterable {}

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
    /// With non_finite: skip, stop after this many skipped steps in a row (the weights are not
    /// coming back; skipping for ever would hide it).
    public var maxSkipped: Int = 10
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
        case clipNorm = "clip_norm", l1, l2, nonFinite = "non_finite", maxSkipped = "max_skipped", checkpointEvery = "checkpoint_every"
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
        maxSkipped = try int(.maxSkipped, 10, min: 1)
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
