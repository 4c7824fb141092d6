import Foundation

/// Softmax and log-softmax along an axis, with the maximum subtracted first so exp never overflows.
public enum Softmax {
    /// y = softmax(x) (or log-softmax when `log`), along the middle axis of `s`.
    public static func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ s: AxisSplit, log: Bool) {
        if s.inner == 1 {  // the common case: the last axis, contiguous rows
            for o in 0..<s.outer { row(x + o * s.length, y + o * s.length, s.length, log: log) }
            return
        }
        for o in 0..<s.outer {
            for i in 0..<s.inner {
                let base = o * s.length * s.inner + i
                var m = -Float.infinity
                for l in 0..<s.length { m = Swift.max(m, x[base + l * s.inner]) }
                var total: Float = 0
                for l in 0..<s.length { total += Foundation.exp(x[base + l * s.inner] - m) }
                let logZ = m + Foundation.log(total)
                for l in 0..<s.length {
                    let v = x[base + l * s.inner] - logZ
                    y[base + l * s.inner] = log ? v : Foundation.exp(v)
                }
            }
        }
    }

    /// One contiguous row; `y` may be the same memory as `x`.
    @inline(__always)
    public static func row(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, log: Bool) {
        var m = -Float.infinity
        for j in 0..<n { m = Swift.max(m, x[j]) }
        var total: Float = 0
        if log {  // x is read again below, so y (which may alias x) is written only at the end
            for j in 0..<n { total += Foundation.exp(x[j] - m) }
            let logZ = m + Foundation.log(total)
            for j in 0..<n { y[j] = x[j] - logZ }
        } else {
            for j in 0..<n { let e = Foundation.exp(x[j] - m); y[j] = e; total += e }
            let inv = 1 / total
            for j in 0..<n { y[j] *= inv }
        }
    }

    /// gx += J^T gy for softmax (y = softmax): gx = y * (gy - sum(gy * y)).
    /// For log-softmax: gx = gy - softmax(x) * sum(gy) = gy - exp(y) * sum(gy).
    public static func backward(y: UnsafePointer<Float>, gy: UnsafePointer<Float>, gx: UnsafeMutablePointer<Float>,
                                _ s: AxisSplit, log: Bool) {
        for o in 0..<s.outer {
            for i in 0..<s.inner {
                let base = o * s.length * s.inner + i
                var dot: Float = 0
                for l in 0..<s.length {
                    let k = base + l * s.inner
                    dot += log ? gy[k] : gy[k] * y[k]
                }
                for l in 0..<s.length {
                    let k = base + l * s.inner
                    gx[k] += log ? gy[k] - Foundation.exp(y[k]) * dot : y[k] * (gy[k] - dot)
                }
            }
        }
    }
}

extension Tensor {
    public func softmax(axis: Int = -1) throws -> Tensor {
        let s = try AxisSplit(shape, axis: axis, op: "softmax")
        let out = Tensor(zeros: shape)
        Softmax.forward(pointer, out.pointer, s, log: false)
        return out
    }

    public func logSoftmax(axis: Int = -1) throws -> Tensor {
        let s = try AxisSplit(shape, axis: axis, op: "logSoftmax")
        let out = Tensor(zeros: shape)
        Softmax.forward(pointer, out.pointer, s, log: true)
        return out
    }
}
