/// The same elements with another shape. The value is a view (no copy); the gradient is its own
/// buffer so that zeroing it never touches the input's accumulated gradient.
final class ReshapeNode: TapeNode {
    var x: Var
    let xShape: [Int], shape: [Int]
    let output: Var

    init(_ x: Var, shape: [Int], requiresGrad: Bool) {
        self.x = x; xShape = x.shape; self.shape = shape
        output = Var(output: shape, requiresGrad: requiresGrad)
    }

    func backward() {
        guard x.requiresGrad else { return }
        let gy = output.grad!.pointer, gx = x.grad!.pointer
        for i in 0..<x.value.count { gx[i] += gy[i] }
    }
}

extension Tape {
    /// `x` seen with `shape` (one dimension may be -1).
    public func reshape(_ x: Var, _ shape: [Int]) throws -> Var {
        let rg = needsGrad(x)
        let n = try node(ReshapeNode.self, reusable: { $0.xShape == x.shape && $0.shape == shape && $0.output.requiresGrad == rg }) {
            ReshapeNode(x, shape: try Tensor.resolve(shape, count: x.value.count, op: "reshape", from: x.shape), requiresGrad: rg)
        }
        n.x = x
        n.output.value = Tensor(storage: x.value.storage, offset: x.value.offset, shape: n.output.value.shape)
        noteInput(x)
        return n.output
    }
}
