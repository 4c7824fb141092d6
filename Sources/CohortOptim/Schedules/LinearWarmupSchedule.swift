/// A linear warm-up in front of another schedule.
///
/// During the first `steps` steps the rate is `inner's rate * f(t)` with
/// `f(t) = startFactor + (1 - startFactor) * t / steps` (PyTorch LinearLR with end factor 1). Which
/// inner rate is scaled, and how the inner schedule's clock runs afterwards, depends on `clock`.
public struct LinearWarmupSchedule: LearningRateSchedule {
    /// How the inner schedule's clock relates to the warm-up.
    public enum Clock: String, Sendable, Equatable, CaseIterable {
        /// The inner schedule starts at its step 0 when the warm-up ends, and the warm-up ramps
        /// towards inner(0): rate(t) = inner(0) * f(t) for t < steps, inner(t - steps) after.
        /// This is PyTorch's SequentialLR([LinearLR, inner], milestones=[steps]).
        case restart
        /// The inner schedule runs from step 0 underneath the warm-up: rate(t) = inner(t) * f(t) for
        /// t < steps, inner(t) after (PyTorch's ChainedScheduler of LinearLR and inner).
        case `continue`
    }

    public let startFactor: Float
    public let steps: Int
    public let clock: Clock
    public let inner: any LearningRateSchedule

    public init(startFactor: Float, steps: Int, clock: Clock = .restart, then inner: any LearningRateSchedule) {
        precondition(steps >= 0, "LinearWarmupSchedule: steps must be non-negative, got \(steps)")
        self.startFactor = startFactor
        self.steps = steps
        self.clock = clock
        self.inner = inner
    }

    public func learningRate(at step: Int) -> Float {
        guard step < steps else {
            return inner.learningRate(at: clock == .restart ? step - steps : step)
        }
        let start = Double(startFactor)
        let factor = start + (1 - start) * Double(step) / Double(steps)
        let target = inner.learningRate(at: clock == .restart ? 0 : step)
        return Float(Double(target) * factor)
    }
}
