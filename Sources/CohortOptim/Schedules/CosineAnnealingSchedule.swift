import Foundation

/// `min + (base - min) * (1 + cos(pi * t / period)) / 2` for t <= period, then `min`
/// (PyTorch CosineAnnealingLR's closed form, except that PyTorch's cosine climbs back up after
/// `T_max`; holding the minimum is what a run that overshoots its planned length wants).
public struct CosineAnnealingSchedule: LearningRateSchedule, Equatable {
    public let base: Float
    public let minimum: Float
    public let period: Int

    public init(base: Float, minimum: Float = 0, period: Int) {
        precondition(period > 0, "CosineAnnealingSchedule: period must be positive, got \(period)")
        self.base = base
        self.minimum = minimum
        self.period = period
    }

    public func learningRate(at step: Int) -> Float {
        let t = Double(Swift.min(step, period))
        let low = Double(minimum)
        return Float(low + (Double(base) - low) * (1 + cos(Double.pi * t / Double(period))) / 2)
    }
}
