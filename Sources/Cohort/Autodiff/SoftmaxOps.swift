/// Softmax or log-softmax along an axis.
final class SoftmaxNode: TapeNode {
    var kind: OpKind { .elementwise }
    var x: Var
    let split: AxisSplit
    let xShape: [Int], axis: Int, log: Bool
    let output: Var

    init(_ x: Var, axis: Int, log: Bool, requiresGrad: Bool) throws {
        split = try AxisSplit(x.shape, axis: axis, op: log ? "logSoftmax" : "softmax")
        self.x = x; xShape = x.shape; self.axis = axis; self.log = log
        output = Var(output: x.shape, requiresGrad: requiresGrad)
    }

    func backward() {
        guard x.requiresGrad else { return }
        Softmax.backward(y: output.value.pointer, gy: output.grad!.pointer, gx: x.grad!.pointer, split, log: log)
    }
}

extension Tape {
    public func softmax(_ x: Var, axis: Int = -1) throws -> Var { try softmaxOp(x, axis: axis, log: false) }
    public func logSoftmax(_ x: Var, axis: Int = -1) throws -> Var { try softmaxOp(x, axis: axis, log: true) }

    private func softmaxOp(_ x: Var, axis: Int, log: Bool) throws -> Var {
        let rg = needsGrad(x)
        let n = try node(SoftmaxNode.self, reusable: {
            $0.xShape == x.shape && $0.axis == axis && $0.log == log && $0.output.requiresGrad == rg
        }) { try SoftmaxNode(x, axis: axis, log: log, requiresGrad: rg) }
        n.x = x
        Softmax.forward(x.value.pointer, n.output.value.pointer, n.split, log: log)
        noteInput(x)
        return n.output
    }
}
