/// L1 and L2 penalties on parameters, applied to the gradient directly (no tape) over index ranges,
/// e.g. the arena's weights but not its biases. Each returns the penalty to add to the loss.
/// Ranges must not overlap (an index in two ranges is penalised twice).
public enum WeightPenalty {
    /// g += lambda * sign(p) (sign(0) = 0) inside `ranges` (nil: all `count`); returns lambda * sum |p|.
    @discardableResult
    public static func addL1(lambda: Float, parameters p: UnsafeMutablePointer<Float>, gradients g: UnsafeMutablePointer<Float>,
                             count: Int, ranges: [Range<Int>]? = nil) -> Double {
        var total = 0.0
        for range in checked(ranges, count) {
            Lanes.forEachBlock(range) { block in
                var kernel = L1(p: p, g: g, lambda: lambda)
                Lanes.forEachChunk(block, &kernel)
                total += Double(kernel.sum.sum())
            }
        }
        return Double(lambda) * total
    }

    /// g += lambda * p inside `ranges` (nil: all `count`); returns (lambda / 2) * sum p^2, whose
    /// gradient that is.
    @discardableResult
    public static func addL2(lambda: Float, parameters p: UnsafeMutablePointer<Float>, gradients g: UnsafeMutablePointer<Float>,
                             count: Int, ranges: [Range<Int>]? = nil) -> Double {
        var total = 0.0
        for range in checked(ranges, count) {
            Lanes.forEachBlock(range) { block in
                var kernel = L2(p: p, g: g, lambda: lambda)
                Lanes.forEachChunk(block, &kernel)
                total += Double(kernel.sum.sum())
            }
        }
        return Double(lambda) / 2 * total
    }

    private static func checked(_ ranges: [Range<Int>]?, _ count: Int) -> [Range<Int>] {
        guard let ranges else { return [0..<count] }
        for r in ranges {
            precondition(r.lowerBound >= 0 && r.upperBound <= count, "penalty range \(r) outside 0..<\(count)")
        }
        return ranges
    }

    /// Adds lambda * sign(p); sums |p|.
    private struct L1: ChunkKernel {
        let p, g: UnsafeMutablePointer<Float>
        let lambda: Float
        var sum = Lanes.Vector(repeating: 0)

        @inline(__always)
        mutating func apply(_ i: Int, _ n: Int) {
            let pv = Lanes.load(p, i, n)
            var sign = Lanes.Vector(repeating: 0)
            sign.replace(with: 1, where: pv .> 0)
            sign.replace(with: -1, where: pv .< 0)
            Lanes.store(Lanes.load(g, i, n) + lambda * sign, g, i, n)
            sum = sum + sign * pv
        }
    }

    /// Adds lambda * p; sums p^2.
    private struct L2: ChunkKernel {
        let p, g: UnsafeMutablePointer<Float>
        let lambda: Float
        var sum = Lanes.Vector(repeating: 0)

        @inline(__always)
        mutating func apply(_ i: Int, _ n: Int) {
            let pv = Lanes.load(p, i, n)
            Lanes.store(Lanes.load(g, i, n) + lambda * pv, g, i, n)
            sum = sum + pv * pv
        }
    }
}
