import Cohort

/// Lowers the learning rate when a validation metric stops improving (PyTorch ReduceLROnPlateau),
/// as a factor on whatever the step schedule gives: `currentFactor` starts at 1 and is multiplied by
/// `factor` (floored at `minimumFactor`) after more than `patience` epochs without improvement.
///
/// `record(metric:)`, once per epoch, follows PyTorch step for step:
///
///     better = best is none ? metric is not NaN : improves(metric, best)
///         min/rel: metric < best * (1 - threshold)     min/abs: metric < best - threshold
///         max/rel: metric > best * (1 + threshold)     max/abs: metric > best + threshold
///     if better: best = metric, bad = 0 else bad += 1
///     if cooldown remaining > 0: remaining -= 1, bad = 0
///     if bad > patience: factor' = max(factor * reduction, minimum), applied if it drops by more
///         than eps; remaining = cooldown; bad = 0
/// A NaN metric never improves (so it counts as a bad epoch, as in PyTorch).
/// PyTorch's `min_lr` is absolute: with a constant base rate `lr`, `minimumFactor = min_lr / lr`.
public struct ReduceLROnPlateau: Sendable {
    public enum Mode: String, Sendable, Equatable, CaseIterable { case min, max }
    public enum ThresholdMode: String, Sendable, Equatable, CaseIterable { case rel, abs }

    /// Defaults are PyTorch's (min_lr 0).
    public struct Options: Sendable, Equatable {
        public var mode: Mode
        public var factor: Double
        public var patience: Int
        public var threshold: Double
        public var thresholdMode: ThresholdMode
        public var cooldown: Int
        public var minimumFactor: Double
        public var eps: Double

        public init(mode: Mode = .min, factor: Double = 0.1, patience: Int = 10, threshold: Double = 1e-4,
                    thresholdMode: ThresholdMode = .rel, cooldown: Int = 0, minimumFactor: Double = 0, eps: Double = 1e-8) {
            self.mode = mode
            self.factor = factor
            self.patience = patience
            self.threshold = threshold
            self.thresholdMode = thresholdMode
            self.cooldown = cooldown
            self.minimumFactor = minimumFactor
            self.eps = eps
        }

        func check() throws {
            guard factor > 0, factor < 1 else { throw OptionIssue(key: "factor", reason: "must be in (0, 1), got \(factor)") }
            guard patience >= 0 else { throw OptionIssue(key: "patience", reason: "must be non-negative, got \(patience)") }
            guard threshold >= 0, threshold.isFinite else { throw OptionIssue(key: "threshold", reason: "must be non-negative, got \(threshold)") }
            guard cooldown >= 0 else { throw OptionIssue(key: "cooldown", reason: "must be non-negative, got \(cooldown)") }
            guard minimumFactor >= 0, minimumFactor <= 1 else {
                throw OptionIssue(key: "min_lr", reason: "must be between 0 and the base learning rate, got factor \(minimumFactor)")
            }
            guard eps >= 0, eps.isFinite else { throw OptionIssue(key: "eps", reason: "must be non-negative, got \(eps)") }
        }
    }

    /// Everything that changes over a run; save it with a checkpoint and `restore` it to resume exactly.
    public struct State: Codable, Sendable, Equatable {
        /// The multiplier on the scheduled learning rate (1 until the first reduction).
        public var currentFactor: Double = 1
        /// Best metric so far (nil before the first finite record; nil encodes as absent, never as Inf).
        public var best: Double? = nil
        public var badEpochs: Int = 0
        public var cooldownRemaining: Int = 0
        /// Metrics recorded so far (PyTorch's last_epoch).
        public var epochs: Int = 0

        public init() {}
    }

    public let options: Options
    public private(set) var state = State()

    public init(options: Options = Options()) throws {
        try OptionCheck.validate("plateau") { try options.check() }
        self.options = options
    }

    /// The multiplier to apply to the scheduled learning rate.
    public var currentFactor: Float { Float(state.currentFactor) }

    /// Feeds one epoch's validation metric; returns true if this lowered the factor.
    @discardableResult
    public mutating func record(metric: Double) -> Bool {
        state.epochs += 1
        if improves(metric) {
            state.best = metric
            state.badEpochs = 0
        } else {
            state.badEpochs += 1
        }
        if state.cooldownRemaining > 0 {
            state.cooldownRemaining -= 1
            state.badEpochs = 0
        }
        guard state.badEpochs > options.patience else { return false }
        state.cooldownRemaining = options.cooldown
        state.badEpochs = 0
        let lowered = Swift.max(state.currentFactor * options.factor, options.minimumFactor)
        guard state.currentFactor - lowered > options.eps else { return false }
        state.currentFactor = lowered
        return true
    }

    private func improves(_ metric: Double) -> Bool {
        guard let best = state.best else { return !metric.isNaN }
        switch (options.mode, options.thresholdMode) {
        case (.min, .rel): return metric < best * (1 - options.threshold)
        case (.min, .abs): return metric < best - options.threshold
        case (.max, .rel): return metric > best * (1 + options.threshold)
        case (.max, .abs): return metric > best + options.threshold
        }
    }

    /// Restores a saved state after checking it is one this schedule could have reached.
    public mutating func restore(_ saved: State) throws {
        guard saved.currentFactor > 0, saved.currentFactor <= 1, saved.currentFactor >= options.minimumFactor else {
            throw CohortError.invalid("plateau state: factor \(saved.currentFactor) is outside [\(options.minimumFactor), 1]")
        }
        guard saved.badEpochs >= 0, saved.cooldownRemaining >= 0, saved.cooldownRemaining <= options.cooldown, saved.epochs >= 0 else {
            throw CohortError.invalid("plateau state: negative counters or cooldown \(saved.cooldownRemaining) above \(options.cooldown)")
        }
        if let best = saved.best, best.isNaN {
            throw CohortError.invalid("plateau state: best metric is NaN")
        }
        state = saved
    }
}
