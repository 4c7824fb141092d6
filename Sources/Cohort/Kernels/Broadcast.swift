/// NumPy broadcasting between two shapes: dimensions are matched from the right, and a dimension
/// of 1 (or a missing one) stretches to the other's size.
public struct Broadcast: Equatable {
    public let outShape: [Int]
    /// Element strides of each operand over `outShape` (0 where it is broadcast).
    public let aStrides: [Int], bStrides: [Int]
    public let count: Int
    /// Both operands have the output's shape: nothing is broadcast (a residual block's addition).
    public let isElementwise: Bool

    public init(_ a: [Int], _ b: [Int], op: String) throws {
        let rank = max(a.count, b.count)
        let pa = Array(repeating: 1, count: rank - a.count) + a
        let pb = Array(repeating: 1, count: rank - b.count) + b
        var out = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            if pa[i] == pb[i] || pb[i] == 1 { out[i] = pa[i] }
            else if pa[i] == 1 { out[i] = pb[i] }
            else {
                throw CohortError.shape(op: op, detail: "shapes \(shapeString(a)) and \(shapeString(b)) do not broadcast (axis \(i): \(pa[i]) vs \(pb[i]))")
            }
        }
        outShape = out
        aStrides = Broadcast.strides(pa, over: out)
        bStrides = Broadcast.strides(pb, over: out)
        count = out.reduce(1, *)
        isElementwise = pa == out && pb == out
    }

    static func strides(_ padded: [Int], over out: [Int]) -> [Int] {
        var strides = [Int](repeating: 0, count: out.count)
        var s = 1
        for i in stride(from: out.count - 1, through: 0, by: -1) {
            strides[i] = padded[i] == 1 && out[i] != 1 ? 0 : s
            s *= padded[i]
        }
        return strides
    }

    /// Calls `row(outOffset, aOffset, bOffset, aStep, bStep, length)` for every run of the last axis.
    @inline(__always)
    public func forEachRow(_ row: (Int, Int, Int, Int, Int, Int) -> Void) {
        let rank = outShape.count
        guard count > 0 else { return }
        if rank == 0 { row(0, 0, 0, 0, 0, 1); return }
        let len = outShape[rank - 1]
        let sa = aStrides[rank - 1], sb = bStrides[rank - 1]
        let rows = count / len
        var index = [Int](repeating: 0, count: rank)
        var ao = 0, bo = 0
        for r in 0..<rows {
            row(r * len, ao, bo, sa, sb, len)
            // Odometer over the outer axes.
            var axis = rank - 2
            while axis >= 0 {
                index[axis] += 1
                ao += aStrides[axis]
                bo += bStrides[axis]
                if index[axis] < outShape[axis] { break }
                ao -= aStrides[axis] * outShape[axis]
                bo -= bStrides[axis] * outShape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
    }
}

public enum Reduce {
    /// Adds `g` (of `fullShape`) into `out` (of `shape`, broadcastable to `fullShape`), summing over the
    /// broadcast axes. This is the gradient of broadcasting.
    public static func sumTo(_ g: UnsafePointer<Float>, fullShape: [Int], out: UnsafeMutablePointer<Float>, shape: [Int]) {
        let full = fullShape.reduce(1, *), small = shape.reduce(1, *)
        if full == small {
            for i in 0..<full { out[i] += g[i] }
            return
        }
        let padded = Array(repeating: 1, count: fullShape.count - shape.count) + shape
        // Fast path: `shape` is a trailing block (a bias): sum the rows.
        if small > 0, full % small == 0, padded.drop(while: { $0 == 1 }).elementsEqual(fullShape.suffix(padded.drop(while: { $0 == 1 }).count)) {
            let rows = full / small
            for r in 0..<rows {
                let src = g + r * small
                for i in 0..<small { out[i] += src[i] }
            }
            return
        }
        let plan = try! Broadcast(fullShape, padded, op: "sumTo")  // padded broadcasts to fullShape
        plan.forEachRow { o, _, bo, _, sb, len in
            if sb == 0 {
                var s: Float = 0
                for i in 0..<len { s += g[o + i] }
                out[bo] += s
            } else {
                for i in 0..<len { out[bo + i] += g[o + i] }
            }
        }
    }
}
