/// Finds NaN or Inf in a flat buffer (gradients before a step, the loss, parameters after a restore).
public enum NonFiniteCheck {
    /// True if any of the `count` floats is NaN or ±Inf. Branch-free inside a block (x * 0 is 0 for
    /// every finite x and NaN otherwise), stopping at the first block that has one.
    public static func containsNonFinite(_ x: UnsafeMutablePointer<Float>, count: Int) -> Bool {
        var start = 0
        while start < count {
            let end = Swift.min(start + Lanes.block, count)
            var kernel = ZeroTimes(x: x)
            Lanes.forEachChunk(start..<end, &kernel)
            if any(kernel.sum .!= 0) { return true }
            start = end
        }
        return false
    }

    /// The index of the first NaN or ±Inf, for an error message that names the parameter.
    public static func firstNonFiniteIndex(_ x: UnsafeMutablePointer<Float>, count: Int) -> Int? {
        guard containsNonFinite(x, count: count) else { return nil }
        return (0..<count).first { !x[$0].isFinite }
    }

    private struct ZeroTimes: ChunkKernel {
        let x: UnsafeMutablePointer<Float>
        var sum = Lanes.Vector(repeating: 0)

        @inline(__always)
        mutating func apply(_ i: Int, _ n: Int) { sum = sum + Lanes.load(x, i, n) * 0 }
    }
}
