import Cohort
import Foundation

/// The hard labels of a batch whose examples may be blends of two (mixup, CutMix): row r's target
/// is weight[r] onehot(first[r]) + (1 - weight[r]) onehot(second[r]). An unmixed row has weight 1
/// and second = first; first = -1 marks a row without a label (distillation's unlabelled examples).
public struct MixedLabels: Sendable, Equatable {
    public var first: [Int32]
    public var second: [Int32]
    public var weight: [Float]

    /// Plain labels: every row unmixed.
    public init(_ labels: [Int32]) {
        first = labels
        second = labels
        weight = [Float](repeating: 1, count: labels.count)
    }

    public init(first: [Int32], second: [Int32], weight: [Float]) {
        self.first = first
        self.second = second
        self.weight = weight
    }

    public var count: Int { first.count }

    /// The label of row r with the larger weight (for accuracy on mixed batches); -1 for none.
    @inline(__always)
    public func dominant(_ r: Int) -> Int32 { weight[r] >= 0.5 ? first[r] : second[r] }

    /// Copies `other` element by element, so this value's arrays stay its own (no copy-on-write
    /// allocation when either is written next step). Both must have the same count.
    mutating func assign(_ other: MixedLabels) {
        for r in 0..<count {
            first[r] = other.first[r]
            second[r] = other.second[r]
            weight[r] = other.weight[r]
        }
    }

    /// Rows whose label is outside 0..<classes (or -1 for none, where `unlabelled` allows it), or
    /// whose weight is outside [0, 1], or whose arrays disagree in length.
    func check(classes k: Int, op: String, allowUnlabelled: Bool) throws {
        guard second.count == count, weight.count == count else {
            throw CohortError.invalid("\(op): \(count) first labels, \(second.count) second labels, \(weight.count) weights")
        }
        let low: Int32 = allowUnlabelled ? -1 : 0
        for r in 0..<count {
            let (a, b) = (first[r], second[r])
            guard a >= low, Int(a) < k, (a < 0 || (b >= 0 && Int(b) < k)), weight[r] >= 0, weight[r] <= 1 else {
                throw CohortError.invalid("\(op): label \(a < low || Int(a) >= k ? a : b) outside 0..<\(k)\(allowUnlabelled ? " (or -1 for none)" : "") or weight \(weight[r]) outside [0, 1] at row \(r)")
            }
        }
    }
}

/// The hard term of a row against its (possibly mixed) label, on the row's log-probabilities.
enum MixedTarget {
    /// -(w log q[a] + (1 - w) log q[b]).
    @inline(__always)
    static func loss(_ logQ: UnsafePointer<Float>, _ labels: MixedLabels, row r: Int) -> Double {
        let w = Double(labels.weight[r])
        var l = -w * Double(logQ[Int(labels.first[r])])
        if w < 1 { l -= (1 - w) * Double(logQ[Int(labels.second[r])]) }
        return l
    }

    /// Adds scale (q - target) to the row's gradient: the derivative of `loss` by the logits.
    @inline(__always)
    static func addGradient(_ dst: UnsafeMutablePointer<Float>, _ logQ: UnsafePointer<Float>, _ k: Int, _ labels: MixedLabels,
                            row r: Int, scale: Float) {
        for j in 0..<k { dst[j] += scale * Foundation.exp(logQ[j]) }
        let w = labels.weight[r]
        dst[Int(labels.first[r])] -= scale * w
        if w < 1 { dst[Int(labels.second[r])] -= scale * (1 - w) }
    }
}
