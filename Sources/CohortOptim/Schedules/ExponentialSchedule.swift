import Foundation

/// `base * gamma^t` (PyTorch ExponentialLR).
public struct ExponentialSchedule: LearningRateSchedule, Equatable {
    public let base: Float
    public let gamma: Float

    public init(base: Float, gamma: Float) {
        self.base = base
        self.gamma = gamma
    }

    public func learningRate(at step: Int) -> Float {
        Float(Double(base) * pow(Double(gamma), Double(step)))
    }
}
