import Cohort

/// Where weight decay applies in an arena: a list of index ranges (e.g. weights, not biases), stored
/// as a partition of 0..<count into runs that decay or not, so a fused update loops over a few runs
/// with the decay decision hoisted out of the inner loop.
public struct WeightDecayMask: Sendable, Equatable {
    /// A run of consecutive indices and whether they take weight decay.
    public struct Run: Sendable, Equatable {
        public let range: Range<Int>
        public let decays: Bool
    }

    public let count: Int
    /// Non-empty runs in order, covering 0..<count exactly.
    public let runs: [Run]

    /// Decay everywhere (the default).
    public static func all(_ count: Int) -> WeightDecayMask {
        WeightDecayMask(count: count, runs: count > 0 ? [Run(range: 0..<count, decays: true)] : [])
    }

    /// Decay only inside `ranges` (any order, may overlap or be empty), all within 0..<count.
    public init(ranges: [Range<Int>], count: Int) throws {
        for r in ranges where r.lowerBound < 0 || r.upperBound > count {
            throw CohortError.invalid("weight decay range \(r.lowerBound)..<\(r.upperBound) is outside the arena of \(count) floats")
        }
        var merged: [Range<Int>] = []
        for r in ranges.filter({ !$0.isEmpty }).sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, r.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<Swift.max(last.upperBound, r.upperBound)
            } else {
                merged.append(r)
            }
        }
        var runs: [Run] = []
        var position = 0
        for r in merged {
            if r.lowerBound > position { runs.append(Run(range: position..<r.lowerBound, decays: false)) }
            runs.append(Run(range: r, decays: true))
            position = r.upperBound
        }
        if position < count { runs.append(Run(range: position..<count, decays: false)) }
        self.init(count: count, runs: runs)
    }

    private init(count: Int, runs: [Run]) {
        self.count = count
        self.runs = runs
    }

    /// The mask for an optimizer: all of the arena when `ranges` is nil.
    static func make(_ ranges: [Range<Int>]?, count: Int) throws -> WeightDecayMask {
        guard let ranges else { return .all(count) }
        return try WeightDecayMask(ranges: ranges, count: count)
    }
}
