import Foundation

/// Binary elementwise operations with broadcasting.
public enum BinaryOp: String, CaseIterable, Sendable {
    case add, sub, mul, div

    @inline(__always)
    func apply(_ x: Float, _ y: Float) -> Float {
        switch self {
        case .add: return x + y
        case .sub: return x - y
        case .mul: return x * y
        case .div: return x / y
        }
    }

    /// out = a (op) b over a broadcast plan. The contiguous cases get loops the compiler vectorises.
    public func run(_ plan: Broadcast, a: UnsafePointer<Float>, b: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>) {
        if plan.isElementwise {  // one flat loop, not one per row of the last axis (7 floats in a late ResNet stage)
            for i in 0..<plan.count { out[i] = apply(a[i], b[i]) }
            return
        }
        plan.forEachRow { o, ao, bo, sa, sb, len in
            let x = a + ao, y = b + bo, z = out + o
            switch (sa, sb) {
            case (1, 1): for i in 0..<len { z[i] = apply(x[i], y[i]) }
            case (1, 0): let c = y[0]; for i in 0..<len { z[i] = apply(x[i], c) }
            case (0, 1): let c = x[0]; for i in 0..<len { z[i] = apply(c, y[i]) }
            default: for i in 0..<len { z[i] = apply(x[i * sa], y[i * sb]) }
            }
        }
    }
}

/// Unary elementwise functions, with their derivatives written in terms of the input x and
/// output y (whichever is cheaper: sigmoid and tanh reuse y).
public enum UnaryOp: Equatable, Sendable {
    case relu, leakyRelu(Float), sigmoid, tanh, exp, log, softplus, neg, square, sqrt

    public var name: String {
        switch self {
        case .relu: return "relu"
        case .leakyRelu: return "leakyRelu"
        case .sigmoid: return "sigmoid"
        case .tanh: return "tanh"
        case .exp: return "exp"
        case .log: return "log"
        case .softplus: return "softplus"
        case .neg: return "neg"
        case .square: return "square"
        case .sqrt: return "sqrt"
        }
    }

    public func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        switch self {
        case .relu: for i in 0..<n { y[i] = max(x[i], 0) }
        case let .leakyRelu(alpha): for i in 0..<n { let v = x[i]; y[i] = v > 0 ? v : alpha * v }
        case .sigmoid:
            for i in 0..<n {  // split by sign so exp never overflows
                let v = x[i]
                if v >= 0 { y[i] = 1 / (1 + Foundation.exp(-v)) } else { let e = Foundation.exp(v); y[i] = e / (1 + e) }
            }
        case .tanh: for i in 0..<n { y[i] = Foundation.tanh(x[i]) }
        case .exp: for i in 0..<n { y[i] = Foundation.exp(x[i]) }
        case .log: for i in 0..<n { y[i] = Foundation.log(x[i]) }
        case .softplus:  // log(1 + e^x) = max(x, 0) + log1p(e^-|x|), stable for large |x|
            for i in 0..<n { let v = x[i]; y[i] = max(v, 0) + Foundation.log1p(Foundation.exp(-abs(v))) }
        case .neg: for i in 0..<n { y[i] = -x[i] }
        case .square: for i in 0..<n { y[i] = x[i] * x[i] }
        case .sqrt: for i in 0..<n { y[i] = x[i].squareRoot() }
        }
    }

    /// gx += gy * f'(x).
    public func backward(x: UnsafePointer<Float>, y: UnsafePointer<Float>, gy: UnsafePointer<Float>,
                         gx: UnsafeMutablePointer<Float>, _ n: Int) {
        switch self {
        // Loads first, then a select: a conditional load would compile to a branch that
        // mispredicts on half the elements (7 ms instead of 0.2 ms on 1.4M elements).
        case .relu: for i in 0..<n { let g = gy[i], v = x[i]; gx[i] += v > 0 ? g : 0 }
        case let .leakyRelu(alpha): for i in 0..<n { let g = gy[i], v = x[i]; gx[i] += v > 0 ? g : alpha * g }
        case .sigmoid: for i in 0..<n { gx[i] += gy[i] * y[i] * (1 - y[i]) }
        case .tanh: for i in 0..<n { gx[i] += gy[i] * (1 - y[i] * y[i]) }
        case .exp: for i in 0..<n { gx[i] += gy[i] * y[i] }
        case .log: for i in 0..<n { gx[i] += gy[i] / x[i] }
        case .softplus:  // d/dx softplus = sigmoid(x)
            for i in 0..<n {
                let v = x[i]
                let s: Float = v >= 0 ? 1 / (1 + Foundation.exp(-v)) : { let e = Foundation.exp(v); return e / (1 + e) }()
                gx[i] += gy[i] * s
            }
        case .neg: for i in 0..<n { gx[i] -= gy[i] }
        case .square: for i in 0..<n { gx[i] += 2 * x[i] * gy[i] }
        case .sqrt: for i in 0..<n { gx[i] += gy[i] * 0.5 / y[i] }
        }
    }
}
