/// a (op) b with broadcasting.
final class BinaryNode: TapeNode {
    var kind: OpKind { .elementwise }
    let op: BinaryOp
    var a: Var, b: Var
    let plan: Broadcast
    /// Each operand broadcast over the output, for the products in the gradients.
    let aOverOut: Broadcast, bOverOut: Broadcast
    let aShape: [Int], bShape: [Int]
    let output: Var
    private var scratch: Tensor?  // d(out)/d(operand) * gy, before it is summed to a broadcast operand's shape

    init(_ op: BinaryOp, _ a: Var, _ b: Var, requiresGrad: Bool) throws {
        self.op = op; self.a = a; self.b = b
        plan = try Broadcast(a.shape, b.shape, op: op.rawValue)
        aOverOut = try Broadcast(plan.outShape, a.shape, op: op.rawValue)
        bOverOut = try Broadcast(plan.outShape, b.shape, op: op.rawValue)
        aShape = a.shape; bShape = b.shape
        output = Var(output: plan.outShape, requiresGrad: requiresGrad)
    }

    func forward() {
        op.run(plan, a: a.value.pointer, b: b.value.pointer, out: output.value.pointer)
    }

    func backward() {
        if a.requiresGrad { sendBack(to: a, shape: aShape, isA: true) }
        if b.requiresGrad { sendBack(to: b, shape: bShape, isA: false) }
    }

    private func sendBack(to v: Var, shape: [Int], isA: Bool) {
        let gy = output.grad!.pointer, n = plan.count
        let g = v.grad!.pointer
        switch (op, isA) {
        case (.add, _), (.sub, true):
            Reduce.sumTo(gy, fullShape: plan.outShape, out: g, shape: shape)
            return
        case (.sub, false):
            let t = scratchBuffer()
            for i in 0..<n { t[i] = -gy[i] }
        case (.mul, true): BinaryOp.mul.run(bOverOut, a: gy, b: b.value.pointer, out: scratchBuffer())
        case (.mul, false): BinaryOp.mul.run(aOverOut, a: gy, b: a.value.pointer, out: scratchBuffer())
        case (.div, true): BinaryOp.div.run(bOverOut, a: gy, b: b.value.pointer, out: scratchBuffer())
        case (.div, false):  // d(a/b)/db = -a/b^2 = -y/b
            let t = scratchBuffer()
            BinaryOp.div.run(bOverOut, a: output.value.pointer, b: b.value.pointer, out: t)
            for i in 0..<n { t[i] = -t[i] * gy[i] }
        }
        Reduce.sumTo(scratch!.pointer, fullShape: plan.outShape, out: g, shape: shape)
    }

    private func scratchBuffer() -> UnsafeMutablePointer<Float> {
        if scratch == nil { scratch = Tensor(zeros: plan.outShape) }
        return scratch!.pointer
    }
}

/// y = f(x) elementwise.
final class UnaryNode: TapeNode {
    var kind: OpKind { .elementwise }
    let op: UnaryOp
    var x: Var
    let output: Var

    init(_ op: UnaryOp, _ x: Var, requiresGrad: Bool) {
        self.op = op; self.x = x
        output = Var(output: x.shape, requiresGrad: requiresGrad)
    }

    func backward() {
        guard x.requiresGrad else { return }
        op.backward(x: x.value.pointer, y: output.value.pointer, gy: output.grad!.pointer, gx: x.grad!.pointer, x.value.count)
    }
}

/// y = x * scale + shift (scalars).
final class AffineNode: TapeNode {
    var kind: OpKind { .elementwise }
    var x: Var
    var scale: Float, shift: Float
    let output: Var

    init(_ x: Var, scale: Float, shift: Float, requiresGrad: Bool) {
        self.x = x; self.scale = scale; self.shift = shift
        output = Var(output: x.shape, requiresGrad: requiresGrad)
    }

    func backward() {
        guard x.requiresGrad else { return }
        let gy = output.grad!.pointer, gx = x.grad!.pointer, s = scale
        for i in 0..<x.value.count { gx[i] += s * gy[i] }
    }
}

extension Tape {
    func binary(_ op: BinaryOp, _ a: Var, _ b: Var) throws -> Var {
        let rg = needsGrad(a, b)
        let n = try node(BinaryNode.self, reusable: { $0.op == op && $0.aShape == a.shape && $0.bShape == b.shape && $0.output.requiresGrad == rg }) {
            try BinaryNode(op, a, b, requiresGrad: rg)
        }
        n.a = a; n.b = b
        n.forward()
        noteInput(a); noteInput(b)
        return n.output
    }

    /// a + b, broadcasting.
    public func add(_ a: Var, _ b: Var) throws -> Var { try binary(.add, a, b) }
    /// a - b, broadcasting.
    public func sub(_ a: Var, _ b: Var) throws -> Var { try binary(.sub, a, b) }
    /// a * b elementwise, broadcasting.
    public func mul(_ a: Var, _ b: Var) throws -> Var { try binary(.mul, a, b) }
    /// a / b elementwise, broadcasting.
    public func div(_ a: Var, _ b: Var) throws -> Var { try binary(.div, a, b) }

    public func unary(_ op: UnaryOp, _ x: Var) -> Var {
        let rg = needsGrad(x)
        let n = node(UnaryNode.self, reusable: { $0.op == op && $0.output.requiresGrad == rg }) { UnaryNode(op, x, requiresGrad: rg) }
        n.x = x
        n.output.prepare(x.shape)
        op.forward(x.value.pointer, n.output.value.pointer, x.value.count)
        noteInput(x)
        return n.output
    }

    public func relu(_ x: Var) -> Var { unary(.relu, x) }
    public func leakyRelu(_ x: Var, slope: Float = 0.01) -> Var { unary(.leakyRelu(slope), x) }
    public func sigmoid(_ x: Var) -> Var { unary(.sigmoid, x) }
    public func tanh(_ x: Var) -> Var { unary(.tanh, x) }
    public func exp(_ x: Var) -> Var { unary(.exp, x) }
    public func log(_ x: Var) -> Var { unary(.log, x) }
    public func softplus(_ x: Var) -> Var { unary(.softplus, x) }
    public func neg(_ x: Var) -> Var { unary(.neg, x) }
    public func square(_ x: Var) -> Var { unary(.square, x) }
    public func sqrt(_ x: Var) -> Var { unary(.sqrt, x) }

    /// x * scale + shift, for scalar constants.
    public func affine(_ x: Var, scale: Float, shift: Float = 0) -> Var {
        let rg = needsGrad(x)
        let n = node(AffineNode.self, reusable: { $0.output.requiresGrad == rg }) { AffineNode(x, scale: scale, shift: shift, requiresGrad: rg) }
        n.x = x; n.scale = scale; n.shift = shift
        n.output.prepare(x.shape)
        let src = x.value.pointer, dst = n.output.value.pointer
        for i in 0..<x.value.count { dst[i] = src[i] * scale + shift }
        noteInput(x)
        return n.output
    }
}
