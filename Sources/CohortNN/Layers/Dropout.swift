import Cohort

/// Inverted dropout: in training each unit is zeroed with probability p and the survivors are
/// scaled by 1 / (1 - p), so inference is the identity and needs no rescaling.
public final class Dropout: Layer {
    public let probability: Float

    public init(_ probability: Float) {
        precondition(probability >= 0 && probability < 1, "dropout probability must be in [0, 1)")
        self.probability = probability
    }

    public var summary: String { "Dropout(\(probability))" }
    public func outputShape(for input: [Int]) throws -> [Int] { input }

    public func forward(_ x: Var, _ ctx: ForwardContext) throws -> Var {
        guard ctx.training, probability > 0 else { return x }
        let tape = ctx.tape
        let rg = tape.needsGrad(x)
        let n = tape.node(DropoutNode.self, reusable: { $0.layer === self && $0.output.value.count == x.value.count && $0.output.requiresGrad == rg }) {
            DropoutNode(layer: self, shape: x.shape, requiresGrad: rg)
        }
        n.x = x
        n.output.prepare(x.shape)
        let keep = 1 - probability, scale = 1 / keep
        let m = n.mask.pointer, xs = x.value.pointer, ys = n.output.value.pointer
        for i in 0..<x.value.count {
            m[i] = ctx.rng.uniform() < keep ? scale : 0
            ys[i] = xs[i] * m[i]
        }
        tape.noteInput(x)
        return n.output
    }
}

final class DropoutNode: TapeNode {
    unowned let layer: Dropout
    var x: Var
    let output: Var
    let mask: Tensor  // 0 or 1 / (1 - p) per element

    init(layer: Dropout, shape: [Int], requiresGrad: Bool) {
        self.layer = layer
        x = Var(Tensor(zeros: [0]))
        output = Var(output: shape, requiresGrad: requiresGrad)
        mask = Tensor(zeros: [shape.reduce(1, *)])
    }

    func backward() {
        guard x.requiresGrad else { return }
        let gy = output.grad!.pointer, gx = x.grad!.pointer, m = mask.pointer
        for i in 0..<x.value.count { gx[i] += gy[i] * m[i] }
    }
}
