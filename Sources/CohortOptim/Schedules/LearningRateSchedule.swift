/// A learning rate as a pure function of the step (0 for the first step), so resuming at step `t`
/// needs nothing but `t`. Schedules compose by wrapping (`LinearWarmupSchedule`, `EpochClockSchedule`).
/// Closed forms follow PyTorch's `lr_scheduler` (`_get_closed_form_lr`), computed in Double.
public protocol LearningRateSchedule: Sendable {
    /// The learning rate for step `step` (>= 0).
    func learningRate(at step: Int) -> Float
}

/// The same rate at every step.
public struct ConstantSchedule: LearningRateSchedule, Equatable {
    public let rate: Float

    public init(rate: Float) { self.rate = rate }

    public func learningRate(at step: Int) -> Float { rate }
}
