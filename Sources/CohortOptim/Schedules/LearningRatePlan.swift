import Cohort

/// What the trainer asks for the learning rate: a step schedule, optionally scaled by a
/// reduce-on-plateau factor fed with a validation metric per epoch.
public struct LearningRatePlan: Sendable {
    /// The plan's mutable part, for checkpoints (step schedules need only the step).
    public struct State: Codable, Sendable, Equatable {
        public var plateau: ReduceLROnPlateau.State?

        public init(plateau: ReduceLROnPlateau.State? = nil) { self.plateau = plateau }
    }

    public let schedule: any LearningRateSchedule
    public private(set) var plateau: ReduceLROnPlateau?

    public init(schedule: any LearningRateSchedule, plateau: ReduceLROnPlateau? = nil) {
        self.schedule = schedule
        self.plateau = plateau
    }

    /// The rate for step `step` (0-based): schedule(step) * plateau factor.
    public func learningRate(at step: Int) -> Float {
        schedule.learningRate(at: step) * (plateau?.currentFactor ?? 1)
    }

    /// Feeds an epoch's validation metric to the plateau schedule, if any; true if it lowered the rate.
    @discardableResult
    public mutating func record(metric: Double) -> Bool {
        plateau?.record(metric: metric) ?? false
    }

    public var state: State { State(plateau: plateau?.state) }

    /// Restores `state`, which must come from a plan with the same plateau setting.
    public mutating func restore(_ saved: State) throws {
        switch (plateau, saved.plateau) {
        case (nil, nil): return
        case (nil, .some): throw CohortError.invalid("schedule state: has a plateau state but this schedule has no plateau")
        case (.some, nil): throw CohortError.invalid("schedule state: missing the plateau state this schedule needs")
        case (.some(var p), .some(let s)):
            try p.restore(s)
            plateau = p
        }
    }
}
