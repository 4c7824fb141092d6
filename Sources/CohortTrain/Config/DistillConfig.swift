import Cohort

/// The `distill:` section of a config (`cohort distill`): who teaches, with what loss, on which
/// transfer set, and how the student is compressed afterwards.
public struct DistillConfig: Codable, Sendable, Equatable {
    /// Teacher checkpoints written by `cohort train`; several form an ensemble whose soft targets
    /// are averaged in probability space.
    public var teachers: [String] = []
    /// Softmax temperature T of the soft targets and of the student's soft term.
    public var temperature: Float = 4
    /// Weight of the soft term (times T^2); 1 - alpha goes to cross-entropy on the labels.
    public var alpha: Float = 0.9
    public var transfer = TransferConfig()
    public var prune: PruneConfig?
    /// Post-training int8 quantisation (per output channel) of the final student's Linear/Conv weights.
    public var quantize: Bool = true

    enum CodingKeys: String, CodingKey, CaseIterable { case teachers, temperature, alpha, transfer, prune, quantize }

    public init() {}

    public init(from decoder: Decoder) throws {
        try rejectUnknownKeys(decoder, known: Set(CodingKeys.allKeys))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        teachers = try c.decode([String].self, forKey: .teachers)
        temperature = try c.decodeIfPresent(Float.self, forKey: .temperature) ?? temperature
        alpha = try c.decodeIfPresent(Float.self, forKey: .alpha) ?? alpha
        transfer = try c.decodeIfPresent(TransferConfig.self, forKey: .transfer) ?? transfer
        prune = try c.decodeIfPresent(PruneConfig.self, forKey: .prune)
        quantize = try c.decodeIfPresent(Bool.self, forKey: .quantize) ?? true
        if teachers.isEmpty { throw DecodingError.dataCorruptedError(forKey: .teachers, in: c, debugDescription: "list at least one teacher checkpoint") }
        if !(temperature > 0 && temperature.isFinite) {
            throw DecodingError.dataCorruptedError(forKey: .temperature, in: c, debugDescription: "must be positive, got \(temperature)")
        }
        if !(alpha >= 0 && alpha <= 1) { throw DecodingError.dataCorruptedError(forKey: .alpha, in: c, debugDescription: "must be in [0, 1], got \(alpha)") }
    }
}

/// Which examples the student learns the teacher's outputs on (`distill.transfer.set`).
public enum TransferSetKind: String, ConfigChoice {
    /// The training set.
    case train
    /// The training set plus (multiplier - 1) copies with random shifts, flips and pixel noise.
    case augmented
    /// The training set plus (multiplier - 1) MUNGE copies (Bucilua et al. 2006), unlabelled.
    case munge
    /// Like augmented, but no example keeps its label (alpha = 1 everywhere).
    case unlabeled
}

/// The examples the student learns the teacher's outputs on: a `TransferSetKind`;
/// `images` adds unlabelled images from an IDX file (N x H x W bytes) to any of them.
/// Every transfer set is drawn once, from the run's seed, so the teacher's outputs can be cached.
public struct TransferConfig: Codable, Sendable, Equatable {
    public var set: TransferSetKind = .train
    /// Size of the transfer set in training sets (an integer >= 1).
    public var multiplier: Int = 1
    /// Augmented copies: shifts of up to `shift` pixels, mirror with probability `flip`, Gaussian
    /// noise of `noise` (in [0, 1] pixel units).
    public var shift: Int = 2
    public var flip: Float = 0
    public var noise: Float = 0
    /// MUNGE: each pixel is swapped with the nearest neighbour's with probability p, resampled
    /// from a normal of standard deviation |a - b| / s around the neighbour's value.
    public var mungeP: Float = 0.5
    public var mungeS: Float = 2
    /// Extra unlabelled images (IDX, plain or gzip), taught with alpha = 1.
    public var images: String?

    enum CodingKeys: String, CodingKey, CaseIterable { case set, multiplier, shift, flip, noise, mungeP = "munge_p", mungeS = "munge_s", images }

    public init() {}

    public init(from decoder: Decoder) throws {
        try rejectUnknownKeys(decoder, known: Set(CodingKeys.allKeys))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        set = try c.decodeIfPresent(TransferSetKind.self, forKey: .set) ?? set
        multiplier = try c.decodeIfPresent(Int.self, forKey: .multiplier) ?? multiplier
        shift = try c.decodeIfPresent(Int.self, forKey: .shift) ?? shift
        flip = try c.decodeIfPresent(Float.self, forKey: .flip) ?? flip
        noise = try c.decodeIfPresent(Float.self, forKey: .noise) ?? noise
        mungeP = try c.decodeIfPresent(Float.self, forKey: .mungeP) ?? mungeP
        mungeS = try c.decodeIfPresent(Float.self, forKey: .mungeS) ?? mungeS
        images = try c.decodeIfPresent(String.self, forKey: .images)
        if multiplier < 1 { throw DecodingError.dataCorruptedError(forKey: .multiplier, in: c, debugDescription: "must be at least 1, got \(multiplier)") }
        if set == .train && multiplier != 1 {
            throw DecodingError.dataCorruptedError(forKey: .multiplier, in: c, debugDescription: "the 'train' transfer set is the training set once; use 'augmented' or 'munge' for more")
        }
        if shift < 0 { throw DecodingError.dataCorruptedError(forKey: .shift, in: c, debugDescription: "must be non-negative, got \(shift)") }
        if !(flip >= 0 && flip <= 1) { throw DecodingError.dataCorruptedError(forKey: .flip, in: c, debugDescription: "must be in [0, 1], got \(flip)") }
        if !(noise >= 0 && noise.isFinite) { throw DecodingError.dataCorruptedError(forKey: .noise, in: c, debugDescription: "must be non-negative, got \(noise)") }
        if !(mungeP >= 0 && mungeP <= 1) { throw DecodingError.dataCorruptedError(forKey: .mungeP, in: c, debugDescription: "must be in [0, 1], got \(mungeP)") }
        if !(mungeS > 0 && mungeS.isFinite) { throw DecodingError.dataCorruptedError(forKey: .mungeS, in: c, debugDescription: "must be positive, got \(mungeS)") }
    }
}

/// Where pruning's magnitude threshold applies (`distill.prune.scope`).
public enum PruneScope: String, ConfigChoice {
    /// One threshold over all prunable weights.
    case global
    /// Every layer pruned to the sparsity.
    case layer
}

/// Magnitude pruning of Linear/Conv weights (not biases) to `sparsity`, in `rounds` equal steps of
/// the cubic schedule of Zhu & Gupta (2017), each followed by `finetune_steps` of distillation with
/// the pruned weights held at zero. Each round's rate restarts at `lr` and falls to 0 on a cosine:
/// rewinding to the training rate recovers more than fine-tuning at a small one (Renda, Frankle &
/// Carbin 2020; README, "Distillation").
public struct PruneConfig: Codable, Sendable, Equatable {
    public var sparsity: Float = 0.8
    public var scope: PruneScope = .global
    public var rounds: Int = 4
    public var finetuneSteps: Int = 3000
    /// Peak learning rate of each round's fine-tuning (cosine to 0).
    public var lr: Float = 0.05

    enum CodingKeys: String, CodingKey, CaseIterable { case sparsity, scope, rounds, finetuneSteps = "finetune_steps", lr }

    public init() {}

    public init(from decoder: Decoder) throws {
        try rejectUnknownKeys(decoder, known: Set(CodingKeys.allKeys))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sparsity = try c.decodeIfPresent(Float.self, forKey: .sparsity) ?? sparsity
        scope = try c.decodeIfPresent(PruneScope.self, forKey: .scope) ?? scope
        rounds = try c.decodeIfPresent(Int.self, forKey: .rounds) ?? rounds
        finetuneSteps = try c.decodeIfPresent(Int.self, forKey: .finetuneSteps) ?? finetuneSteps
        lr = try c.decodeIfPresent(Float.self, forKey: .lr) ?? lr
        if !(sparsity >= 0 && sparsity < 1) { throw DecodingError.dataCorruptedError(forKey: .sparsity, in: c, debugDescription: "must be in [0, 1), got \(sparsity)") }
        if rounds < 1 { throw DecodingError.dataCorruptedError(forKey: .rounds, in: c, debugDescription: "must be at least 1, got \(rounds)") }
        if finetuneSteps < 0 { throw DecodingError.dataCorruptedError(forKey: .finetuneSteps, in: c, debugDescription: "must be non-negative, got \(finetuneSteps)") }
        if !(lr > 0 && lr.isFinite) { throw DecodingError.dataCorruptedError(forKey: .lr, in: c, debugDescription: "must be positive, got \(lr)") }
    }
}
