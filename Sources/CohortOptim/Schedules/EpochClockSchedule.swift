/// Runs `inner` on an epoch clock: rate(t) = inner(t / stepsPerEpoch). A schedule written in epochs
/// (StepLR stepped once per epoch in PyTorch) keeps one rate for a whole epoch, while the trainer
/// still asks per step.
public struct EpochClockSchedule: LearningRateSchedule {
    public let stepsPerEpoch: Int
    public let inner: any LearningRateSchedule

    public init(stepsPerEpoch: Int, inner: any LearningRateSchedule) {
        precondition(stepsPerEpoch > 0, "EpochClockSchedule: stepsPerEpoch must be positive, got \(stepsPerEpoch)")
        self.stepsPerEpoch = stepsPerEpoch
        self.inner = inner
    }

    public func learningRate(at step: Int) -> Float { inner.learningRate(at: step / stepsPerEpoch) }
}
