import Cohort
import CohortNN

/// Magnitude pruning of the Linear/Conv weights of a parameter arena (biases and normalisation
/// parameters are kept): the smallest |w| are set to zero and held there by `apply()` after every
/// update while fine-tuning. Masks only grow: weights pruned in one round stay pruned.
public final class MagnitudePruner {
    public let arena: ParameterArena
    /// The prunable entries: weights of rank >= 2 (Linear [out, in], Conv [out, in, kh, kw]).
    public let weights: [ParameterArena.Entry]
    /// 1 keeps, 0 prunes; one array per entry of `weights`.
    public private(set) var masks: [[UInt8]]

    public init(arena: ParameterArena) {
        self.arena = arena
        weights = arena.entries.filter { $0.decays && $0.shape.count >= 2 }
        masks = weights.map { [UInt8](repeating: 1, count: $0.count) }
    }

    public var prunableCount: Int { weights.reduce(0) { $0 + $1.count } }

    /// Prunes the smallest-magnitude weights so that `sparsity` of the prunable weights are zero:
    /// one threshold over all of them (`global`), or `sparsity` of each layer (`layer`).
    public func prune(to sparsity: Float, global: Bool) {
        let v = arena.values.pointer
        func pruneGroup(_ members: [Int]) {
            // (magnitude, entry, index) of every weight; already-pruned ones sort first (|w| = 0).
            var all: [(Float, Int, Int)] = []
            for e in members {
                let entry = weights[e]
                for i in 0..<entry.count { all.append((masks[e][i] == 0 ? -1 : abs(v[entry.offset + i]), e, i)) }
            }
            let k = Int((Double(sparsity) * Double(all.count)).rounded(.down))
            all.sort { ($0.0, $0.1, $0.2) < ($1.0, $1.1, $1.2) }
            for (_, e, i) in all.prefix(k) { masks[e][i] = 0 }
        }
        if global { pruneGroup(Array(weights.indices)) } else { for e in weights.indices { pruneGroup([e]) } }
        apply()
    }

    /// Zeroes every pruned weight (after each optimizer step).
    public func apply() {
        let v = arena.values.pointer
        for (e, entry) in weights.enumerated() {
            masks[e].withUnsafeBufferPointer { m in
                let w = v + entry.offset
                for i in 0..<entry.count where m[i] == 0 { w[i] = 0 }
            }
        }
    }

    /// Fraction of prunable weights that are zero in the mask.
    public var sparsity: Double {
        let zeros = masks.reduce(0) { $0 + $1.reduce(0) { $0 + ($1 == 0 ? 1 : 0) } }
        return Double(zeros) / Double(max(prunableCount, 1))
    }

    /// The cubic schedule of Zhu & Gupta (2017): the target after round r of `rounds`.
    public static func sparsity(round r: Int, of rounds: Int, final: Float) -> Float {
        let f = 1 - Float(r) / Float(rounds)
        return final * (1 - f * f * f)
    }
}

extension MagnitudePruner {
    /// Masks of an earlier round (same arena layout), so pruned weights stay pruned.
    public func restore(_ saved: [[UInt8]]) {
        precondition(saved.count == masks.count && zip(saved, masks).allSatisfy { $0.count == $1.count }, "mask layout")
        masks = saved
        apply()
    }

    /// Masks that prune exactly the weights that are zero now: those of a checkpoint saved while
    /// fine-tuning (a trained weight that is exactly 0.0 unpruned does not occur in practice, and
    /// would only stay at zero).
    public func masksOfZeroWeights() -> [[UInt8]] {
        let v = arena.values.pointer
        return weights.map { entry in (0..<entry.count).map { v[entry.offset + $0] == 0 ? 0 : 1 } }
    }
}
