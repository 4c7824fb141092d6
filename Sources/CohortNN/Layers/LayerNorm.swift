import Cohort

/// Layer normalisation (Ba, Kiros & Hinton 2016) over every non-batch feature of an example, as
/// PyTorch's nn.LayerNorm(normalized_shape = the example's shape): each example is normalised with
/// its own mean and (biased) variance, then scaled and shifted elementwise by learned tensors of the
/// example's shape. Training and evaluation compute the same thing (no running statistics).
public final class LayerNorm: Layer {
    /// One example's shape, e.g. [C, H, W] or [features].
    public let normalizedShape: [Int]
    public let epsilon: Float
    public let scale: Parameter, shift: Parameter

    public init(normalizedShape: [Int], epsilon: Float = 1e-5) {
        self.normalizedShape = normalizedShape
        self.epsilon = epsilon
        // Normalisation parameters take no weight decay (and so are never pruned or quantised).
        scale = Parameter(shape: normalizedShape, initializer: .ones, decays: false)
        shift = Parameter(shape: normalizedShape, initializer: .zeros, decays: false)
        scale.value.fill(1)  // the identity before any arena initialises it, as PyTorch's module is
    }

    public var features: Int { normalizedShape.reduce(1, *) }
    public var ownParameters: [(String, Parameter)] { [("weight", scale), ("bias", shift)] }
    public var summary: String { "LayerNorm(\(shapeString(normalizedShape)))" }

    public func outputShape(for input: [Int]) throws -> [Int] {
        guard input.count == normalizedShape.count + 1, input.dropFirst().elementsEqual(normalizedShape) else {
            throw CohortError.shape(op: summary, detail: "expects input [batch] + \(shapeString(normalizedShape)), got \(shapeString(input))")
        }
        return input
    }

    public func forward(_ x: Var, _ ctx: ForwardContext) throws -> Var {
        if x.shape.count != normalizedShape.count + 1 || !x.shape.dropFirst().elementsEqual(normalizedShape) { _ = try outputShape(for: x.shape) }
        let tape = ctx.tape
        let rg = tape.isRecording && (x.requiresGrad || scale.variable.requiresGrad || shift.variable.requiresGrad)
        let n = tape.node(LayerNormNode.self, reusable: { $0.layer === self && $0.output.shape == x.shape && $0.output.requiresGrad == rg }) {
            LayerNormNode(layer: self, shape: x.shape, requiresGrad: rg)
        }
        n.x = x
        n.forward()
        tape.noteInput(x); tape.noteInput(scale.variable); tape.noteInput(shift.variable)
        return n.output
    }
}

/// Per example b over its D features: xhat = (x - mean_b) / sqrt(var_b + eps), y = xhat * gamma + beta.
final class LayerNormNode: TapeNode {
    unowned let layer: LayerNorm
    var x: Var
    let output: Var
    let xhat: Tensor
    let invStd: Tensor  // per example
    let batch: Int, features: Int

    init(layer: LayerNorm, shape: [Int], requiresGrad: Bool) {
        self.layer = layer
        x = Var(Tensor(zeros: [0]))
        output = Var(output: shape, requiresGrad: requiresGrad)
        xhat = Tensor(zeros: shape)
        batch = shape[0]
        features = layer.features
        invStd = Tensor(zeros: [batch])
    }

    func forward() {
        let D = features
        let xs = x.value.pointer, ys = output.value.pointer, xh = xhat.pointer, istd = invStd.pointer
        let gamma = layer.scale.value.pointer, beta = layer.shift.value.pointer
        for b in 0..<batch {
            let src = xs + b * D, hat = xh + b * D, dst = ys + b * D
            // Two passes in Float64: an example has thousands of features, and they need not be centred.
            var s = 0.0
            for i in 0..<D { s += Double(src[i]) }
            let m = s / Double(D)
            var ss = 0.0
            for i in 0..<D { let d = Double(src[i]) - m; ss += d * d }
            let inv = Float(1 / (ss / Double(D) + Double(layer.epsilon)).squareRoot())
            istd[b] = inv
            let mean = Float(m)
            for i in 0..<D {
                let h = (src[i] - mean) * inv
                hat[i] = h
                dst[i] = h * gamma[i] + beta[i]
            }
        }
    }

    func backward() {
        let D = features
        let gy = output.grad!.pointer, xh = xhat.pointer, istd = invStd.pointer
        let gamma = layer.scale.value.pointer
        let scale = layer.scale.variable, shift = layer.shift.variable
        for b in 0..<batch {
            let g = gy + b * D, hat = xh + b * D
            if scale.requiresGrad { let gs = scale.grad!.pointer; for i in 0..<D { gs[i] += g[i] * hat[i] } }
            if shift.requiresGrad { let gb = shift.grad!.pointer; for i in 0..<D { gb[i] += g[i] } }
            guard x.requiresGrad else { continue }
            // With d = dy * gamma: dx = istd (d - mean(d) - xhat mean(d xhat)).
            var sumD: Float = 0, sumDX: Float = 0
            for i in 0..<D { let d = g[i] * gamma[i]; sumD += d; sumDX += d * hat[i] }
            let meanD = sumD / Float(D), meanDX = sumDX / Float(D), inv = istd[b]
            let gx = x.grad!.pointer + b * D
            for i in 0..<D { gx[i] += inv * (g[i] * gamma[i] - meanD - hat[i] * meanDX) }
        }
    }
}
