import Foundation

/// `base * gamma^k` with `k` the number of milestones <= t: multiply by `gamma` at each milestone
/// (PyTorch MultiStepLR; a repeated milestone multiplies twice, as there).
public struct MultiStepSchedule: LearningRateSchedule, Equatable {
    public let base: Float
    /// Sorted ascending.
    public let milestones: [Int]
    public let gamma: Float

    public init(base: Float, milestones: [Int], gamma: Float = 0.1) {
        self.base = base
        self.milestones = milestones.sorted()
        self.gamma = gamma
    }

    public func learningRate(at step: Int) -> Float {
        // Upper bound of `step` in the sorted milestones: how many have been reached.
        var low = 0, high = milestones.count
        while low < high {
            let mid = (low + high) / 2
            if milestones[mid] <= step { low = mid + 1 } else { high = mid }
        }
        return Float(Double(base) * pow(Double(gamma), Double(low)))
    }
}
