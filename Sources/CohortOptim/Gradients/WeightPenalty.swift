/// L1 and L2 penalties on parameters, applied to the gradient directly (no tape) over index ranges,
/// e.g. the arena's weights but not its biases. Each returns the penalty to add to the loss.
/// Ranges must not overlap (an index in two ranges is penalised twice).
public enum WeightPenalty {
    /// g += lambda * sign(p) (sign(0) = 0) inside `ranges` (nil: all `count`); returns lambda * sum |p|.
    @discardableResult
    public static func addL1(lambda: Float, parameters p: UnsafeMutablePointer<Float>, gradients g: UnsafeMutablePointer<Float>,
                             count: Int, ranges: [Range<Int>]? = nil) -> Double {
        Double(lambda) * sum(Penalty(p: p, g: g, lambda: lambda, l1: true), ranges: checked(ranges, count))
    }

    /// g += lambda * p inside `ranges` (nil: all `count`); returns (lambda / 2) * sum p^2, whose
    /// gradient that is.
    @discardableResult
    public static func addL2(lambda: Float, parameters p: UnsafeMutablePointer<Float>, gradients g: UnsafeMutablePointer<Float>,
                             count: Int, ranges: [Range<Int>]? = nil) -> Double {
        Double(lambda) / 2 * sum(Penalty(p: p, g: g, lambda: lambda, l1: false), ranges: checked(ranges, count))
    }

    /// Runs a fresh copy of `kernel` over each block of `ranges` and adds up the blocks' sums in
    /// Double (block by block, so a long arena's sum keeps its precision).
    private static func sum(_ kernel: Penalty, ranges: [Range<Int>]) -> Double {
        var total = 0.0
        for range in ranges {
            Lanes.forEachBlock(range) { block in
                var k = kernel
                Lanes.forEachChunk(block, &k)
                total += Double(k.sum.sum())
            }
        }
        return total
    }

    private static func checked(_ ranges: [Range<Int>]?, _ count: Int) -> [Range<Int>] {
        guard let ranges else { return [0..<count] }
        for r in ranges {
            precondition(r.lowerBound >= 0 && r.upperBound <= count, "penalty range \(r) outside 0..<\(count)")
        }
        return ranges
    }

    /// Adds lambda * sign(p) and sums |p| (L1), or adds lambda * p and sums p^2 (L2).
    private struct Penalty: ChunkKernel {
        let p, g: UnsafeMutablePointer<Float>
        let lambda: Float
        let l1: Bool
        var sum = Lanes.Vector(repeating: 0)

        @inline(__always)
        mutating func apply(_ i: Int, _ n: Int) {
            let pv = Lanes.load(p, i, n)
            var term = pv
            if l1 {
                term = Lanes.Vector(repeating: 0)
                term.replace(with: 1, where: pv .> 0)
                term.replace(with: -1, where: pv .< 0)
            }
            Lanes.store(Lanes.load(g, i, n) + lambda * term, g, i, n)
            sum = sum + term * pv
        }
    }
}
