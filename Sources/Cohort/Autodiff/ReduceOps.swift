/// Sum or mean along one axis.
final class SumNode: TapeNode {
    var x: Var
    let split: AxisSplit
    let xShape: [Int], axis: Int, keepDims: Bool, mean: Bool
    let output: Var

    init(_ x: Var, axis: Int, keepDims: Bool, mean: Bool, requiresGrad: Bool) throws {
        split = try AxisSplit(x.shape, axis: axis, op: mean ? "mean" : "sum")
        self.x = x; xShape = x.shape; self.axis = axis; self.keepDims = keepDims; self.mean = mean
        output = Var(output: AxisSplit.reducedShape(x.shape, axis: axis, keepDims: keepDims), requiresGrad: requiresGrad)
    }

    func forward() {
        let y = output.value.pointer
        AxisReduce.sum(x.value.pointer, split, y)
        if mean, split.length > 0 {
            let inv = 1 / Float(split.length)
            for i in 0..<output.value.count { y[i] *= inv }
        }
    }

    func backward() {
        guard x.requiresGrad else { return }
        let gy = output.grad!.pointer, gx = x.grad!.pointer
        let scale: Float = mean && split.length > 0 ? 1 / Float(split.length) : 1
        for o in 0..<split.outer {
            for l in 0..<split.length {
                let dst = gx + (o * split.length + l) * split.inner, src = gy + o * split.inner
                for i in 0..<split.inner { dst[i] += scale * src[i] }
            }
        }
    }
}

/// Maximum along one axis; the gradient goes to the (first) maximal element.
final class MaxNode: TapeNode {
    var x: Var
    let split: AxisSplit
    let xShape: [Int], axis: Int, keepDims: Bool
    var index: [Int32]
    let output: Var

    init(_ x: Var, axis: Int, keepDims: Bool, requiresGrad: Bool) throws {
        split = try AxisSplit(x.shape, axis: axis, op: "max")
        self.x = x; xShape = x.shape; self.axis = axis; self.keepDims = keepDims
        index = [Int32](repeating: 0, count: split.outer * split.inner)
        output = Var(output: AxisSplit.reducedShape(x.shape, axis: axis, keepDims: keepDims), requiresGrad: requiresGrad)
    }

    func forward() {
        index.withUnsafeMutableBufferPointer { AxisReduce.max(x.value.pointer, split, output.value.pointer, $0.baseAddress!) }
    }

    func backward() {
        guard x.requiresGrad else { return }
        let gy = output.grad!.pointer, gx = x.grad!.pointer
        index.withUnsafeBufferPointer { idx in
            for o in 0..<split.outer {
                for i in 0..<split.inner {
                    let j = o * split.inner + i
                    gx[(o * split.length + Int(idx[j])) * split.inner + i] += gy[j]
                }
            }
        }
    }
}

extension Tape {
    /// Sum along `axis`.
    public func sum(_ x: Var, axis: Int, keepDims: Bool = false) throws -> Var {
        try reduceSum(x, axis: axis, keepDims: keepDims, mean: false)
    }

    /// Mean along `axis`.
    public func mean(_ x: Var, axis: Int, keepDims: Bool = false) throws -> Var {
        try reduceSum(x, axis: axis, keepDims: keepDims, mean: true)
    }

    /// Sum of every element, as a scalar (shape []).
    public func sum(_ x: Var) throws -> Var { try sum(reshape(x, [-1]), axis: 0) }

    /// Mean of every element, as a scalar (shape []).
    public func mean(_ x: Var) throws -> Var { try mean(reshape(x, [-1]), axis: 0) }

    private func reduceSum(_ x: Var, axis: Int, keepDims: Bool, mean: Bool) throws -> Var {
        let rg = needsGrad(x)
        let n = try node(SumNode.self, reusable: {
            $0.xShape == x.shape && $0.axis == axis && $0.keepDims == keepDims && $0.mean == mean && $0.output.requiresGrad == rg
        }) { try SumNode(x, axis: axis, keepDims: keepDims, mean: mean, requiresGrad: rg) }
        n.x = x
        n.forward()
        noteInput(x)
        return n.output
    }

    /// Maximum along `axis`.
    public func max(_ x: Var, axis: Int, keepDims: Bool = false) throws -> Var {
        let rg = needsGrad(x)
        let n = try node(MaxNode.self, reusable: {
            $0.xShape == x.shape && $0.axis == axis && $0.keepDims == keepDims && $0.output.requiresGrad == rg
        }) { try MaxNode(x, axis: axis, keepDims: keepDims, requiresGrad: rg) }
        n.x = x
        n.forward()
        noteInput(x)
        return n.output
    }
}
