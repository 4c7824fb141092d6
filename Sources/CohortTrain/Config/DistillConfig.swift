import Cohort

/// The `distill:` section of a config (`cohort distill`): who teaches, with what loss, on which
/// transfer set, and how the student is compressed afterwards.
public struct DistillConfig: Codable, Sendable, Equatable {
    /// Teacher checkpoints written by `cohort train`; several form an ensemble whose soft targets
    /// are averaged in probability space (logits for `logit_mse`).
    public var teachers: [String] = []
    /// When the teacher labels the transfer examples: once, or on every batch as the student sees it.
    public var teacherMode: TeacherMode = .cached
    /// What the student matches: the teacher's probabilities at T (KL) or its logits (MSE).
    public var loss: DistillationLossKind = .kl
    /// Softmax temperature T of the soft targets and of the student's soft term (kl only).
    public var temperature: Float = 4
    /// Weight of the soft term (times T^2 for kl); 1 - alpha goes to cross-entropy on the labels.
    public var alpha: Float = 0.9
    public var transfer = TransferConfig()
    public var prune: PruneConfig?
    /// Post-training int8 quantisation (per output channel) of the final student's Linear/Conv weights.
    public var quantize: Bool = true
    /// Several students distilled in one run from the same teacher targets (nil: the config's
    /// `model` is the one student).
    public var students: [StudentConfig]?
    /// The report's default choice: the fastest model on the accuracy/speed front whose validation
    /// accuracy is within this many points of the teacher's.
    public var chooseWithin: Float = 1.0

    enum CodingKeys: String, CodingKey, CaseIterable {
        case teachers, teacherMode = "teacher_mode", loss, temperature, alpha, transfer, prune, quantize, students
        case chooseWithin = "choose_within"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        try rejectUnknownKeys(decoder, known: Set(CodingKeys.allKeys))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        teachers = try c.decode([String].self, forKey: .teachers)
        teacherMode = try c.decodeIfPresent(TeacherMode.self, forKey: .teacherMode) ?? teacherMode
        loss = try c.decodeIfPresent(DistillationLossKind.self, forKey: .loss) ?? loss
        temperature = try c.decodeIfPresent(Float.self, forKey: .temperature) ?? temperature
        alpha = try c.decodeIfPresent(Float.self, forKey: .alpha) ?? alpha
        transfer = try c.decodeIfPresent(TransferConfig.self, forKey: .transfer) ?? transfer
        prune = try c.decodeIfPresent(PruneConfig.self, forKey: .prune)
        quantize = try c.decodeIfPresent(Bool.self, forKey: .quantize) ?? true
        students = try c.decodeIfPresent([StudentConfig].self, forKey: .students)
        chooseWithin = try c.decodeIfPresent(Float.self, forKey: .chooseWithin) ?? chooseWithin
        if let students {
            if students.isEmpty { throw DecodingError.dataCorruptedError(forKey: .students, in: c, debugDescription: "list at least one student, or leave students out (the config's model is then the student)") }
            var seen = Set<String>()
            for (i, s) in students.enumerated() where !seen.insert(s.name).inserted {
                throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath + [CodingKeys.students, AnyCodingKey(intValue: i)!, AnyCodingKey("name")],
                                                        debugDescription: "'\(s.name)' names two students"))
            }
        }
        if !(chooseWithin >= 0 && chooseWithin <= 100) {
            throw DecodingError.dataCorruptedError(forKey: .chooseWithin, in: c, debugDescription: "must be between 0 and 100 points, got \(chooseWithin)")
        }
        if teachers.isEmpty { throw DecodingError.dataCorruptedError(forKey: .teachers, in: c, debugDescription: "list at least one teacher checkpoint") }
        if !(temperature > 0 && temperature.isFinite) {
            throw DecodingError.dataCorruptedError(forKey: .temperature, in: c, debugDescription: "must be positive, got \(temperature)")
        }
        if !(alpha >= 0 && alpha <= 1) { throw DecodingError.dataCorruptedError(forKey: .alpha, in: c, debugDescription: "must be in [0, 1], got \(alpha)") }
        // A mixed image exists for one step only: nothing cached can label it.
        if teacherMode == .cached && transfer.mixes {
            let key = transfer.mixup > 0 ? "mixup" : "cutmix"
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath + [CodingKeys.transfer, AnyCodingKey(key)],
                                                    debugDescription: "mixing makes new images every step, which a cached teacher cannot label: set distill.teacher_mode: online"))
        }
    }
}

/// When the teacher labels the transfer examples (`distill.teacher_mode`).
public enum TeacherMode: String, ConfigChoice {
    /// Once per example of a fixed transfer set, before the student trains (sharded over ranks).
    case cached
    /// On every batch, after its augmentation and mixing, on each rank's own shard: function
    /// matching (Beyer et al. 2022), the teacher sees exactly what the student sees.
    case online
}

/// What the student's soft term matches (`distill.loss`).
public enum DistillationLossKind: String, ConfigChoice {
    /// alpha T^2 KL(teacher_T || student_T) + (1 - alpha) CE (Hinton, Vinyals & Dean 2015).
    case kl
    /// alpha mean squared error between the logits + (1 - alpha) CE (Ba & Caruana 2014).
    case logitMSE = "logit_mse"
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

    /// Settings made in code (`cohort compress`'s options), checked as a config's are; `source`
    /// names them in the error.
    public init(sparsity: Float, scope: PruneScope, rounds: Int, finetuneSteps: Int, lr: Float, source: String) throws {
        self.sparsity = sparsity
        self.scope = scope
        self.rounds = rounds
        self.finetuneSteps = finetuneSteps
        self.lr = lr
        if let (key, reason) = problem() { throw CohortError.invalid("\(source): \(key.rawValue): \(reason)") }
    }

    public init(from decoder: Decoder) throws {
        try rejectUnknownKeys(decoder, known: Set(CodingKeys.allKeys))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sparsity = try c.decodeIfPresent(Float.self, forKey: .sparsity) ?? sparsity
        scope = try c.decodeIfPresent(PruneScope.self, forKey: .scope) ?? scope
        rounds = try c.decodeIfPresent(Int.self, forKey: .rounds) ?? rounds
        finetuneSteps = try c.decodeIfPresent(Int.self, forKey: .finetuneSteps) ?? finetuneSteps
        lr = try c.decodeIfPresent(Float.self, forKey: .lr) ?? lr
        if let (key, reason) = problem() { throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: reason) }
    }

    /// The first setting out of its range, and why.
    private func problem() -> (CodingKeys, String)? {
        if !(sparsity >= 0 && sparsity < 1) { return (.sparsity, "must be in [0, 1), got \(sparsity)") }
        if rounds < 1 { return (.rounds, "must be at least 1, got \(rounds)") }
        if finetuneSteps < 0 { return (.finetuneSteps, "must be non-negative, got \(finetuneSteps)") }
        if !(lr > 0 && lr.isFinite) { return (.lr, "must be positive, got \(lr)") }
        return nil
    }
}
