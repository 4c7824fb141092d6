/// Reductions along one axis, seen as [outer, length, inner] blocks of a row-major tensor.
public struct AxisSplit: Equatable {
    public let outer: Int, length: Int, inner: Int

    public init(_ shape: [Int], axis: Int, op: String) throws {
        let a = axis < 0 ? axis + shape.count : axis
        guard a >= 0 && a < shape.count else {
            throw CohortError.shape(op: op, detail: "axis \(axis) out of range for shape \(shapeString(shape))")
        }
        outer = shape[..<a].reduce(1, *)
        length = shape[a]
        inner = shape[(a + 1)...].reduce(1, *)
    }

    /// The input shape with `axis` removed or kept as 1.
    public static func reducedShape(_ shape: [Int], axis: Int, keepDims: Bool) -> [Int] {
        let a = axis < 0 ? axis + shape.count : axis
        var s = shape
        if keepDims { s[a] = 1 } else { s.remove(at: a) }
        return s
    }
}

public enum AxisReduce {
    /// The sum of n floats in 8 lanes (a running scalar sum cannot be vectorised: it fixes the order).
    static func laneSum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var lanes = SIMD8<Float>(repeating: 0)
        var i = 0
        while i + 8 <= n { lanes += UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self); i += 8 }
        var total = lanes.sum()
        while i < n { total += p[i]; i += 1 }
        return total
    }

    public static func sum(_ x: UnsafePointer<Float>, _ s: AxisSplit, _ out: UnsafeMutablePointer<Float>) {
        for o in 0..<s.outer {
            let dst = out + o * s.inner
            for i in 0..<s.inner { dst[i] = 0 }
            for l in 0..<s.length {
                let src = x + (o * s.length + l) * s.inner
                for i in 0..<s.inner { dst[i] += src[i] }
            }
        }
    }

    /// Maximum and its first index along the axis.
    public static func max(_ x: UnsafePointer<Float>, _ s: AxisSplit, _ out: UnsafeMutablePointer<Float>,
                           _ index: UnsafeMutablePointer<Int32>?) {
        for o in 0..<s.outer {
            for i in 0..<s.inner {
                let base = x + o * s.length * s.inner + i
                var best = s.length > 0 ? base[0] : -Float.infinity, at: Int32 = 0
                var l = 1
                while l < s.length {
                    if base[l * s.inner] > best { best = base[l * s.inner]; at = Int32(l) }
                    l += 1
                }
                out[o * s.inner + i] = best
                index?[o * s.inner + i] = at
            }
        }
    }
}

extension Tensor {
    public func sum(axis: Int, keepDims: Bool = false) throws -> Tensor {
        let s = try AxisSplit(shape, axis: axis, op: "sum")
        let out = Tensor(zeros: AxisSplit.reducedShape(shape, axis: axis, keepDims: keepDims))
        AxisReduce.sum(pointer, s, out.pointer)
        return out
    }

    public func max(axis: Int, keepDims: Bool = false) throws -> Tensor {
        let s = try AxisSplit(shape, axis: axis, op: "max")
        let out = Tensor(zeros: AxisSplit.reducedShape(shape, axis: axis, keepDims: keepDims))
        AxisReduce.max(pointer, s, out.pointer, nil)
        return out
    }

    /// Index of the maximum along `axis` (first one on ties).
    public func argmax(axis: Int) throws -> [Int] {
        let s = try AxisSplit(shape, axis: axis, op: "argmax")
        var values = [Float](repeating: 0, count: s.outer * s.inner)
        var index = [Int32](repeating: 0, count: s.outer * s.inner)
        values.withUnsafeMutableBufferPointer { v in
            index.withUnsafeMutableBufferPointer { AxisReduce.max(pointer, s, v.baseAddress!, $0.baseAddress!) }
        }
        return index.map(Int.init)
    }

    /// Sum of all elements, accumulated in Float64.
    public func sumAll() -> Double {
        var s = 0.0
        let p = pointer
        for i in 0..<count { s += Double(p[i]) }
        return s
    }
}
