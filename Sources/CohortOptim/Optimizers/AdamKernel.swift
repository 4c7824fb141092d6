import Foundation

/// The fused update Adam and AdamW share. With `t` the step number (1 on the first step):
///
///     m = lerp(m, g, 1 - beta1)              (= beta1 * m + (1 - beta1) * g)
///     v = beta2 * v + (1 - beta2) * g * g
///     step_size = lr / (1 - beta1^t)
///     denom = sqrt(v) / sqrt(1 - beta2^t) + eps
///     p = p - step_size * (m / denom)
/// where `g` is the gradient plus `l2 * p` (Adam's coupled decay), and for AdamW `p` is first
/// multiplied by `1 - lr * wd` (decoupled decay).
struct AdamKernel {
    let beta1: Float
    let beta2: Float
    let eps: Float

    /// Updates `range`: `l2` is the coupled decay (0: none), `shrink` the decoupled factor (nil: none).
    func update(_ p: UnsafeMutablePointer<Float>, _ g: UnsafeMutablePointer<Float>,
                _ m: UnsafeMutablePointer<Float>, _ v: UnsafeMutablePointer<Float>,
                range: Range<Int>, step t: Int, lr: Float, l2: Float, shrink: Float?) {
        // Bias corrections in Double, as PyTorch computes them in Python floats.
        let correction1 = 1 - Self.power(Double(beta1), t)
        let correction2 = 1 - Self.power(Double(beta2), t)
        let stepSize = Float(Double(lr) / correction1)
        let correction2Root = Float(correction2.squareRoot())
        var chunk = Chunk(p: p, g: g, m: m, v: v, average: Lerp(weight: 1 - beta1), beta2: beta2, keep2: 1 - beta2, eps: eps,
                          stepSize: stepSize, correction2Root: correction2Root, l2: l2, shrinks: shrink != nil, factor: shrink ?? 1)
        Lanes.forEachChunk(range, &chunk)
    }

    private struct Chunk: ChunkKernel {
        let p, g, m, v: UnsafeMutablePointer<Float>
        let average: Lerp
        let beta2, keep2, eps, stepSize, correction2Root, l2: Float
        let shrinks: Bool
        let factor: Float

        @inline(__always)
        func apply(_ i: Int, _ n: Int) {
            var pv = Lanes.load(p, i, n)
            if shrinks { pv = pv * factor }
            var gv = Lanes.load(g, i, n)
            if l2 != 0 { gv = gv + l2 * pv }
            let mv = average(Lanes.load(m, i, n), gv)
            let vv = Lanes.load(v, i, n) * beta2 + keep2 * gv * gv
            Lanes.store(mv, m, i, n)
            Lanes.store(vv, v, i, n)
            let denom = Lanes.squareRoot(vv) / correction2Root + eps
            Lanes.store(pv - stepSize * (mv / denom), p, i, n)
        }
    }

    /// beta^t in Double, like Python's `beta ** t` in PyTorch.
    static func power(_ base: Double, _ exponent: Int) -> Double { pow(base, Double(exponent)) }
}
