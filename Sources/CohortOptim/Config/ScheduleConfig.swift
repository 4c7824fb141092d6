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

    /// The schedule and its own options (nil: the default named in the list above, and no key in
    /// the resolved config).
    public enum Kind: Sendable, Equatable {
        case constant
        case step(stepSize: Int, gamma: Float? = nil, unit: Unit? = nil)
        case multistep(milestones: [Int], gamma: Float? = nil, unit: Unit? = nil)
        case exponential(gamma: Float, unit: Unit? = nil)
        case cosine(tMax: Int, minLR: Float? = nil, unit: Unit? = nil)
        /// Fed a validation metric once per epoch.
        case plateau(Plateau = Plateau())

        public var name: String {
            switch self {
            case .constant: return "constant"
            case .step: return "step"
            case .multistep: return "multistep"
            case .exponential: return "exponential"
            case .cosine: return "cosine"
            case .plateau: return "plateau"
            }
        }
    }

    /// ReduceLROnPlateau's options; `minLR` is absolute (a rate, not a factor).
    public struct Plateau: Sendable, Equatable {
        public var mode: ReduceLROnPlateau.Mode?
        public var factor: Double?
        public var patience: Int?
        public var threshold: Double?
        public var thresholdMode: ReduceLROnPlateau.ThresholdMode?
        public var cooldown: Int?
        public var minLR: Float?

        public init(mode: ReduceLROnPlateau.Mode? = nil, factor: Double? = nil, patience: Int? = nil, threshold: Double? = nil,
                    thresholdMode: ReduceLROnPlateau.ThresholdMode? = nil, cooldown: Int? = nil, minLR: Float? = nil) {
            self.mode = mode
            self.factor = factor
            self.patience = patience
            self.threshold = threshold
            self.thresholdMode = thresholdMode
            self.cooldown = cooldown
            self.minLR = minLR
        }
    }

    /// A linear warm-up in front of any schedule (steps 0 or nil: none).
    public struct Warmup: Sendable, Equatable {
        public var steps: Int?
        public var startFactor: Float?
        public var clock: LinearWarmupSchedule.Clock?

        public init(steps: Int? = nil, startFactor: Float? = nil, clock: LinearWarmupSchedule.Clock? = nil) {
            self.steps = steps
            self.startFactor = startFactor
            self.clock = clock
        }
    }

    public var kind: Kind
    public var warmup: Warmup

    public init(_ kind: Kind, warmup: Warmup = Warmup()) {
        self.kind = kind
        self.warmup = warmup
    }

    public var name: String { kind.name }

    /// Whether the rate follows a validation metric (plateau), which only evaluating ranks see.
    public var followsValidation: Bool {
        if case .plateau = kind { return true }
        return false
    }

    /// A constant rate, what a run without a schedule section gets.
    public static let constant = ScheduleConfig(.constant)

    /// Throws "schedule.<key>: <reason>" if the config is invalid (for configs built in code).
    public func validate() throws {
        do { try Keys(self).check() } catch let issue as OptionIssue { throw issue.error(in: "schedule") }
    }

    /// The plan for a run whose optimizer starts at `baseLR`, with `stepsPerEpoch` steps per epoch
    /// (used by `unit: epochs`). `min_lr` must not exceed `baseLR`.
    public func makePlan(baseLR: Float, stepsPerEpoch: Int) throws -> LearningRatePlan {
        precondition(stepsPerEpoch > 0, "makePlan: stepsPerEpoch must be positive, got \(stepsPerEpoch)")
        try validate()
        let keys = Keys(self)
        if let m = keys.minLR, m > baseLR {
            throw CohortError.invalid("schedule.min_lr: must be at most the base learning rate \(baseLR), got \(m)")
        }
        var inner: any LearningRateSchedule
        var plateau: ReduceLROnPlateau?
        switch kind {
        case let .step(size, gamma, _): inner = StepDecaySchedule(base: baseLR, stepSize: size, gamma: gamma ?? 0.1)
        case let .multistep(milestones, gamma, _): inner = MultiStepSchedule(base: baseLR, milestones: milestones, gamma: gamma ?? 0.1)
        case let .exponential(gamma, _): inner = ExponentialSchedule(base: baseLR, gamma: gamma)
        case let .cosine(tMax, minLR, _): inner = CosineAnnealingSchedule(base: baseLR, minimum: minLR ?? 0, period: tMax)
        case .plateau:
            inner = ConstantSchedule(rate: baseLR)
            plateau = try ReduceLROnPlateau(options: keys.plateauOptions(baseLR: baseLR))
        case .constant: inner = ConstantSchedule(rate: baseLR)
        }
        if keys.unit == .epochs { inner = EpochClockSchedule(stepsPerEpoch: stepsPerEpoch, inner: inner) }
        if let steps = warmup.steps, steps > 0 {
            inner = LinearWarmupSchedule(startFactor: warmup.startFactor ?? 1.0 / 3.0, steps: steps, clock: warmup.clock ?? .restart, then: inner)
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
        let plateau = Plateau(mode: try choice("mode", ReduceLROnPlateau.Mode.self), factor: try c.optional("factor"),
                              patience: try c.optional("patience"), threshold: try c.optional("threshold"),
                              thresholdMode: try choice("threshold_mode", ReduceLROnPlateau.ThresholdMode.self), cooldown: try c.optional("cooldown"))
        let warmup = Warmup(steps: try c.optional("warmup_steps"), startFactor: try c.optional("warmup_start_factor"),
                            clock: try choice("warmup_clock", LinearWarmupSchedule.Clock.self))
        let keys = Keys(name: name, unit: try choice("unit", Unit.self), stepSize: try c.optional("step_size"), gamma: try c.optional("gamma"),
                        milestones: try c.optional("milestones"), tMax: try c.optional("t_max"), minLR: try c.optional("min_lr"),
                        warmup: warmup, plateau: plateau)
        do { try keys.check() } catch let issue as OptionIssue { throw c.failure(issue.key, issue.reason) }
        self = keys.config
    }

    /// Writes the keys that are set, under their config names.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: AnyCodingKey.self)
        func put<T: Encodable>(_ value: T?, _ key: String) throws { try c.encodeIfPresent(value, forKey: AnyCodingKey(key)) }
        let k = Keys(self)
        try put(k.name, "name"); try put(k.unit?.rawValue, "unit"); try put(k.stepSize, "step_size"); try put(k.gamma, "gamma")
        try put(k.milestones, "milestones"); try put(k.tMax, "t_max"); try put(k.minLR, "min_lr"); try put(warmup.steps, "warmup_steps")
        try put(warmup.startFactor, "warmup_start_factor"); try put(warmup.clock?.rawValue, "warmup_clock"); try put(k.plateau.mode?.rawValue, "mode")
        try put(k.plateau.factor, "factor"); try put(k.plateau.patience, "patience"); try put(k.plateau.threshold, "threshold")
        try put(k.plateau.thresholdMode?.rawValue, "threshold_mode"); try put(k.plateau.cooldown, "cooldown")
    }

    /// The schedule as its config keys: what a file holds, checked key by key (a name, and every
    /// key it does not take or lacks), before it becomes a `Kind`.
    struct Keys {
        var name: String
        var unit: Unit?
        var stepSize: Int?
        var gamma: Float?
        var milestones: [Int]?
        var tMax: Int?
        var minLR: Float?
        var warmup: Warmup
        /// The plateau keys but min_lr (`minLR`, which cosine takes too).
        var plateau: Plateau

        init(name: String, unit: Unit?, stepSize: Int?, gamma: Float?, milestones: [Int]?, tMax: Int?, minLR: Float?, warmup: Warmup,
             plateau: Plateau) {
            self.name = name
            self.unit = unit
            self.stepSize = stepSize
            self.gamma = gamma
            self.milestones = milestones
            self.tMax = tMax
            self.minLR = minLR
            self.warmup = warmup
            self.plateau = plateau
        }

        init(_ config: ScheduleConfig) {
            self.init(name: config.name, unit: nil, stepSize: nil, gamma: nil, milestones: nil, tMax: nil, minLR: nil,
                      warmup: config.warmup, plateau: Plateau())
            switch config.kind {
            case .constant: break
            case let .step(size, g, u): (stepSize, gamma, unit) = (size, g, u)
            case let .multistep(list, g, u): (milestones, gamma, unit) = (list, g, u)
            case let .exponential(g, u): (gamma, unit) = (g, u)
            case let .cosine(t, m, u): (tMax, minLR, unit) = (t, m, u)
            case let .plateau(p):
                plateau = p
                plateau.minLR = nil
                minLR = p.minLR
            }
        }

        /// The typed schedule (after `check`, which guarantees the required keys).
        var config: ScheduleConfig {
            let kind: Kind
            switch name {
            case "step": kind = .step(stepSize: stepSize!, gamma: gamma, unit: unit)
            case "multistep": kind = .multistep(milestones: milestones!, gamma: gamma, unit: unit)
            case "exponential": kind = .exponential(gamma: gamma!, unit: unit)
            case "cosine": kind = .cosine(tMax: tMax!, minLR: minLR, unit: unit)
            case "plateau":
                var p = plateau
                p.minLR = minLR
                kind = .plateau(p)
            default: kind = .constant
            }
            return ScheduleConfig(kind, warmup: warmup)
        }

        static func applicableKeys(_ name: String) -> [String]? {
            let base = ["name"] + ScheduleConfig.warmupKeys
            switch name {
            case "constant": return base
            case "step": return base + ["unit", "step_size", "gamma"]
            case "multistep": return base + ["unit", "milestones", "gamma"]
            case "exponential": return base + ["unit", "gamma"]
            case "cosine": return base + ["unit", "t_max", "min_lr"]
            case "plateau": return base + ScheduleConfig.plateauKeys
            default: return nil
            }
        }

        /// Config keys that hold a value.
        private var setKeys: [String] {
            let values: [(String, Any?)] = [("unit", unit), ("step_size", stepSize), ("gamma", gamma), ("milestones", milestones),
                                            ("t_max", tMax), ("min_lr", minLR), ("warmup_steps", warmup.steps),
                                            ("warmup_start_factor", warmup.startFactor), ("warmup_clock", warmup.clock), ("mode", plateau.mode),
                                            ("factor", plateau.factor), ("patience", plateau.patience), ("threshold", plateau.threshold),
                                            ("threshold_mode", plateau.thresholdMode), ("cooldown", plateau.cooldown)]
            return values.filter { $0.1 != nil }.map(\.0)
        }

        private func required<T>(_ value: T?, _ key: String) throws -> T {
            guard let value else { throw OptionIssue(key: key, reason: "required by the \(name) schedule") }
            return value
        }

        /// Checks names and values; throws an `OptionIssue` naming the config key.
        func check() throws {
            guard let applicable = Self.applicableKeys(name) else {
                throw OptionIssue(key: "name", reason: "unknown schedule '\(name)' (known: \(ScheduleConfig.names.joined(separator: ", ")))")
            }
            if let extra = setKeys.first(where: { !applicable.contains($0) }) {
                throw OptionIssue(key: extra, reason: "not used by the \(name) schedule (it takes: \(applicable.joined(separator: ", ")))")
            }
            if let w = warmup.steps, w < 0 { throw OptionIssue(key: "warmup_steps", reason: "must be non-negative, got \(w)") }
            if let f = warmup.startFactor { try OptionCheck.closed(f, 0, 1, "warmup_start_factor") }
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
        func plateauOptions(baseLR: Float?) -> ReduceLROnPlateau.Options {
            let d = ReduceLROnPlateau.Options()
            let minimum = baseLR.map { Double(minLR ?? 0) / Double($0) } ?? 0
            let p = plateau
            return ReduceLROnPlateau.Options(mode: p.mode ?? d.mode, factor: p.factor ?? d.factor, patience: p.patience ?? d.patience,
                                             threshold: p.threshold ?? d.threshold, thresholdMode: p.thresholdMode ?? d.thresholdMode,
                                             cooldown: p.cooldown ?? d.cooldown, minimumFactor: minimum)
        }
    }
}
