import Foundation

/// `base * gamma^floor(t / stepSize)`: multiply by `gamma` every `stepSize` steps (PyTorch StepLR).
public struct StepDecaySchedule: LearningRateSchedule, Equatable {
    public let base: Float
    public let stepSize: Int
    public let gamma: Float

    public init(base: Float, stepSize: Int, gamma: Float = 0.1) {
        precondition(stepSize > 0, "StepDecaySchedule: stepSize must be positive, got \(stepSize)")
        self.base = base
        self.stepSize = stepSize
        self.gamma = gamma
    }

    public func learningRate(at step: Int) -> Float {
        Float(Double(base) * pow(Double(gamma), Double(step / stepSize)))
    }
}
