/// Global-norm gradient clipping over a flat gradient buffer, as `torch.nn.utils.clip_grad_norm_`.
public enum GradientClipping {
    /// sqrt(sum g^2) over `count` floats: Float lanes per block (`Lanes.block`), blocks summed in Double.
    public static func norm(_ gradients: UnsafeMutablePointer<Float>, count: Int) -> Double {
        sumOfSquares(gradients, 0..<count).squareRoot()
    }

    /// Scales the gradients by `maxNorm / (norm + 1e-6)` when that is below 1 and returns the norm
    /// before clipping. A non-finite norm is returned without scaling, so the caller can report it
    /// (PyTorch would scale by 0 or NaN and spread the damage).
    @discardableResult
    public static func clip(_ gradients: UnsafeMutablePointer<Float>, count: Int, maxNorm: Float) -> Float {
        precondition(maxNorm > 0, "clip: maxNorm must be positive, got \(maxNorm)")
        let total = norm(gradients, count: count)
        guard total.isFinite else { return Float(total) }
        let coefficient = Double(maxNorm) / (total + 1e-6)
        if coefficient < 1 {
            var kernel = Scale(x: gradients, factor: Float(coefficient))
            Lanes.forEachChunk(0..<count, &kernel)
        }
        return Float(total)
    }

    static func sumOfSquares(_ x: UnsafeMutablePointer<Float>, _ range: Range<Int>) -> Double {
        var total = 0.0
        Lanes.forEachBlock(range) { block in
            var kernel = SumOfSquares(x: x)
            Lanes.forEachChunk(block, &kernel)
            total += Double(kernel.sum.sum())
        }
        return total
    }

    private struct SumOfSquares: ChunkKernel {
        let x: UnsafeMutablePointer<Float>
        var sum = Lanes.Vector(repeating: 0)

        @inline(__always)
        mutating func apply(_ i: Int, _ n: Int) {
            let v = Lanes.load(x, i, n)
            sum = sum + v * v
        }
    }

    private struct Scale: ChunkKernel {
        let x: UnsafeMutablePointer<Float>
        let factor: Float

        @inline(__always)
        func apply(_ i: Int, _ n: Int) { Lanes.store(Lanes.load(x, i, n) * factor, x, i, n) }
    }
}
