import Cohort

/// A learning-rate schedule as written in a run config, e.g.
/// `{name: cosine, t_max: 20, unit: epochs, min_lr: 0.001, warmup_steps: 500}`.
///
/// Keys (snake_case) by name:
/// - constant: (none besides warm-up)
/// - step: step_size (required), gamma (0.1), unit
/// - multistep: milestones (required), gamma (0.1), unit
/// - exponential: gamma (required), unit
/// - cosine: t_max (required), min_lr (0), unit
/// - plateau: mode (min|max), factor (0.1), patience (10), threshold (1e-4), threshold_mode (rel|abs),
///   cooldown (0), min_lr (0); fed a validation metric once per epoch
/// - every name: warmup_steps (0), warmup_start_factor (1/3, PyTorch LinearLR's), warmup_clock
///   (restart|continue, see `LinearWarmupSchedule.Clock`)
///
/// `unit` (steps|epochs, default steps) is the clock of step_size, milestones, t_max and the
/// exponential's exponent; with epochs the rate changes only at epoch boundaries, as when PyTorch's
/// scheduler is stepped once per epoch. Warm-up always counts steps; with warmup_clock restart the
/// inner schedule's clock (steps or epochs) starts when the warm-up ends.
public struct ScheduleConfig: Codable, Sendable, Equatable {
    public static let names = ["constant", "step", "multistep", "exponential", "cosine", "plateau"]
    static let warmupKeys = ["warmup_steps", "warmup_start_factor", "warmup_clock"]
    static let plateauKeys = ["mode", "factor", "patience", "threshold", "threshold_mode", "cooldown", "min_lr"]
    static let keys = ["name", "unit", "step_size", "gamma", "milestones", "t_max", "min_lr"] + warmupKeys
        + ["mode", "factor", "patience", "threshold", "threshold_mode", "cooldown"]

    /// The clock of a schedule's step counts.
    public enum Unit: String, Sendable, Equatable, CaseIterable { case steps, epochs }

    public var name: String
    public var unit: Unit?
    public var stepSize: Int?
    public var gamma: Float?
    public var milestones: [Int]?
    public var tMax: Int?
    public var minLR: Float?
    public var warmupSteps: Int?
    public var warmupStartFactor: Float?
    public var warmupClock: LinearWarmupSchedule.Clock?
    public var mode: ReduceLROnPlateau.Mode?
    public var factor: Double?
    public var patience: Int?
    public var threshold: Double?
    public var thresholdMode: ReduceLROnPlateau.ThresholdMode?
    public var cooldown: Int?

    public init(name: String, unit: Unit? = nil, stepSize: Int? = nil, gamma: Float? = nil, milestones: [Int]? = nil, tMax: Int? = nil,
                minLR: Float? = nil, warmupSteps: Int? = nil, warmupStartFactor: Float? = nil, warmupClock: LinearWarmupSchedule.Clock? = nil,
                mode: ReduceLROnPlateau.Mode? = nil, factor: Double? = nil, patience: Int? = nil, threshold: Double? = nil,
                thresholdMode: ReduceLROnPlateau.ThresholdMode? = nil, cooldown: Int? = nil) {
        self.name = name
        self.unit = unit
        self.stepSize = stepSize
        self.gamma = gamma
        self.milestones = milestones
        self.tMax = tMax
        self.minLR = minLR
        self.warmupSteps = warmupSteps
        self.warmupStartFactor = warmupStartFactor
        self.warmupClock = warmupClock
        self.mode = mode
        self.factor = factor
        self.patience = patience
        self.threshold = threshold
        self.thresholdMode = thresholdMode
        self.cooldown = cooldown
    }

    /// Whether the rate follows a validation metric (plateau), which only evaluating ranks see.
    public var followsValidation: Bool { name == "plateau" }

    /// A constant rate, what a run without a schedule section gets.
    public static let constant = ScheduleConfig(name: "constant")

    static func applicableKeys(_ name: String) -> [String]? {
        let base = ["name"] + warmupKeys
        switch name {
        case "constant": return base
        case "step": return base + ["unit", "step_size", "gamma"]
        case "multistep": return base + ["unit", "milestones", "gamma"]
        case "exponential": return base + ["unit", "gamma"]
        case "cosine": return base + ["unit", "t_max", "min_lr"]
        case "plateau": return base + plateauKeys
        default: return nil
        }
    }

    /// Config keys that hold a value.
    private var setKeys: [String] {
        let values: [(String, Any?)] = [("unit", unit), ("step_size", stepSize), ("gamma", gamma), ("milestones", milestones),
                                        ("t_max", tMax), ("min_lr", minLR), ("warmup_steps", warmupSteps),
                                        ("warmup_start_factor", warmupStartFactor), ("warmup_clock", warmupClock), ("mode", mode),
                                        ("factor", factor), ("patience", patience), ("threshold", threshold),
                                        ("threshold_mode", thresholdMode), ("cooldown", cooldown)]
        return values.filter { $0.1 != nil }.map(\.0)
    }

    private func required<T>(_ value: T?, _ key: String) throws -> T {
        guard let value else { throw OptionIssue(key: key, reason: "required by the \(name) schedule") }
        return value
    }

    /// Checks names and values; throws an `OptionIssue` naming the config key.
    func check() throws {
        guard let applicable = Self.applicableKeys(name) else {
            throw OptionIssue(key: "name", reason: "unknown schedule '\(name)' (known: \(Self.names.joined(separator: ", ")))")
        }
        if let extra = setKeys.first(where: { !applicable.contains($0) }) {
            throw OptionIssue(key: extra, reason: "not used by the \(name) schedule (it takes: \(applicable.joined(separator: ", ")))")
        }
        if let w = warmupSteps, w < 0 { throw OptionIssue(key: "warmup_steps", reason: "must be non-negative, got \(w)") }
        if let f = warmupStartFactor { try OptionCheck.closed(f, 0, 1, "warmup_start_factor") }
        if let g = gamma { try OptionCheck.positive(g, "gamma") }
        if let m = minLR { try OptionCheck.atLeast(m, 0, "min_lr") }
        switch name {
        case "step":
            let size = try required(stepSize, "step_size")
            if size <= 0 { throw OptionIssue(key: "step_size", reason: "must be positive, got \(size)") }
        case "multistep":
            let list = try required(milestones, "milestones")
            if list.isEmpty { throw OptionIssue(key: "milestones", reason: "must list at least one step") }
            if let bad = list.first(where: { $0 < 0 }) { throw OptionIssue(key: "milestones", reason: "must be non-negative, got \(bad)") }
        case "exponential":
            _ = try required(gamma, "gamma")
        case "cosine":
            let t = try required(tMax, "t_max")
            if t <= 0 { throw OptionIssue(key: "t_max", reason: "must be positive, got \(t)") }
        case "plateau":
            try plateauOptions(baseLR: nil).check()
        default:
            break
        }
    }

    /// The plateau options; `min_lr` becomes a factor of `baseLR` (unchecked when baseLR is nil).
    private func plateauOptions(baseLR: Float?) -> ReduceLROnPlateau.Options {
        let d = ReduceLROnPlateau.Options()
        let minimum = baseLR.map { Double(minLR ?? 0) / Double($0) } ?? 0
        return ReduceLROnPlateau.Options(mode: mode ?? d.mode, factor: factor ?? d.factor, patience: patience ?? d.patience,
                                         threshold: threshold ?? d.threshold, thresholdMode: thresholdMode ?? d.thresholdMode,
                                         cooldown: cooldown ?? d.cooldown, minimumFactor: minimum)
    }

    /// Throws "schedule.<key>: <reason>" if the config is invalid (for configs built in code).
    public func validate() throws {
        do { try check() } catch let issue as OptionIssue { throw issue.error(in: "schedule") }
    }

    /// The plan for a run whose optimizer starts at `baseLR`, with `stepsPerEpoch` steps per epoch
    /// (used by `unit: epochs`). `min_lr` must not exceed `baseLR`.
    public func makePlan(baseLR: Float, stepsPerEpoch: Int) throws -> LearningRatePlan {
        precondition(stepsPerEpoch > 0, "makePlan: stepsPerEpoch must be positive, got \(stepsPerEpoch)")
        try validate()
        if let m = minLR, m > baseLR {
            throw CohortError.invalid("schedule.min_lr: must be at most the base learning rate \(baseLR), got \(m)")
        }
        var inner: any LearningRateSchedule
        var plateau: ReduceLROnPlateau?
        switch name {
        case "step": inner = StepDecaySchedule(base: baseLR, stepSize: stepSize!, gamma: gamma ?? 0.1)
        case "multistep": inner = MultiStepSchedule(base: baseLR, milestones: milestones!, gamma: gamma ?? 0.1)
        case "exponential": inner = ExponentialSchedule(base: baseLR, gamma: gamma!)
        case "cosine": inner = CosineAnnealingSchedule(base: baseLR, minimum: minLR ?? 0, period: tMax!)
        case "plateau":
            inner = ConstantSchedule(rate: baseLR)
            plateau = try ReduceLROnPlateau(options: plateauOptions(baseLR: baseLR))
        default: inner = ConstantSchedule(rate: baseLR)
        }
        if unit == .epochs { inner = EpochClockSchedule(stepsPerEpoch: stepsPerEpoch, inner: inner) }
        if let steps = warmupSteps, steps > 0 {
            inner = LinearWarmupSchedule(startFactor: warmupStartFactor ?? 1.0 / 3.0, steps: steps, clock: warmupClock ?? .restart, then: inner)
        }
        return LearningRatePlan(schedule: inner, plateau: plateau)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        try c.rejectUnknownKeys(known: Self.keys)
        guard let name = try c.optional("name", as: String.self) else {
            throw DecodingError.keyNotFound(AnyCodingKey("name"), .init(codingPath: c.codingPath, debugDescription: "choose one of: \(Self.names.joined(separator: ", "))"))
        }
        func choice<T: RawRepresentable & CaseIterable>(_ key: String, _ type: T.Type) throws -> T? where T.RawValue == String {
            guard let raw = try c.optional(key, as: String.self) else { return nil }
            guard let value = T(rawValue: raw) else {
                throw c.failure(key, "unknown value '\(raw)' (known: \(T.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return value
        }
        self.init(name: name, unit: try choice("unit", Unit.self), stepSize: try c.optional("step_size"), gamma: try c.optional("gamma"),
                  milestones: try c.optional("milestones"), tMax: try c.optional("t_max"), minLR: try c.optional("min_lr"),
                  warmupSteps: try c.optional("warmup_steps"), warmupStartFactor: try c.optional("warmup_start_factor"),
                  warmupClock: try choice("warmup_clock", LinearWarmupSchedule.Clock.self), mode: try choice("mode", ReduceLROnPlateau.Mode.self),
                  factor: try c.optional("factor"), patience: try c.optional("patience"), threshold: try c.optional("threshold"),
                  thresholdMode: try choice("threshold_mode", ReduceLROnPlateau.ThresholdMode.self), cooldown: try c.optional("cooldown"))
        do { try check() } catch let issue as OptionIssue { throw c.failure(issue.key, issue.reason) }
    }

    /// Writes the keys that are set, under their config names.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: AnyCodingKey.self)
        func put<T: Encodable>(_ value: T?, _ key: String) throws { try c.encodeIfPresent(value, forKey: AnyCodingKey(key)) }
        try put(name, "name"); try put(unit?.rawValue, "unit"); try put(stepSize, "step_size"); try put(gamma, "gamma")
        try put(milestones, "milestones"); try put(tMax, "t_max"); try put(minLR, "min_lr"); try put(warmupSteps, "warmup_steps")
        try put(warmupStartFactor, "warmup_start_factor"); try put(warmupClock?.rawValue, "warmup_clock"); try put(mode?.rawValue, "mode")
        try put(factor, "factor"); try put(patience, "patience"); try put(threshold, "threshold")
        try put(thresholdMode?.rawValue, "threshold_mode"); try put(cooldown, "cooldown")
    }
}
