import Cohort

/// Batch normalisation (Ioffe & Szegedy 2015) over [B, C] (1d) or [B, C, H, W] (2d), per channel.
/// Training uses the batch's statistics and updates running ones (momentum as in PyTorch: running =
/// (1 - m) running + m batch, with the unbiased variance); evaluation uses the running statistics.
public final class BatchNorm: Layer {
    public let features: Int
    public let spatial: Bool
    public let momentum: Float, epsilon: Float
    public let scale: Parameter, shift: Parameter
    public let runningMean: Parameter, runningVar: Parameter

    public init(features: Int, spatial: Bool, momentum: Float = 0.1, epsilon: Float = 1e-5) {
        self.features = features; self.spatial = spatial
        self.momentum = momentum; self.epsilon = epsilon
        scale = Parameter(shape: [features], initializer: .ones, decays: false)
        shift = Parameter(shape: [features], initializer: .zeros, decays: false)
        runningMean = Parameter(shape: [features], initializer: .zeros, decays: false, trainable: false)
        runningVar = Parameter(shape: [features], initializer: .ones, decays: false, trainable: false)
        runningVar.value.fill(1)
    }

    public var ownParameters: [(String, Parameter)] { [("weight", scale), ("bias", shift)] }
    public var ownBuffers: [(String, Parameter)] { [("running_mean", runningMean), ("running_var", runningVar)] }
    public var summary: String { "BatchNorm\(spatial ? "2d" : "1d")(\(features))" }

    public func outputShape(for input: [Int]) throws -> [Int] {
        guard input.count == (spatial ? 4 : 2), input[1] == features else {
            throw CohortError.shape(op: summary, detail: "expects input [batch, \(features)\(spatial ? ", height, width" : "")], got \(shapeString(input))")
        }
        return input
    }

    public func forward(_ x: Var, _ ctx: ForwardContext) throws -> Var {
        _ = try outputShape(for: x.shape)
        let tape = ctx.tape
        let rg = tape.isRecording && (x.requiresGrad || scale.variable.requiresGrad)
        let n = tape.node(BatchNormNode.self, reusable: { $0.layer === self && $0.output.shape == x.shape && $0.output.requiresGrad == rg }) {
            BatchNormNode(layer: self, shape: x.shape, requiresGrad: rg)
        }
        n.x = x
        n.training = ctx.training
        n.forward()
        tape.noteInput(x); tape.noteInput(scale.variable); tape.noteInput(shift.variable)
        return n.output
    }
}

final class BatchNormNode: TapeNode {
    unowned let layer: BatchNorm
    var x: Var
    var training = true
    let output: Var
    let xhat: Tensor
    let mean: Tensor, invStd: Tensor  // per channel, from the batch (training) or running stats (eval)
    let batch: Int, inner: Int  // inner = H*W (1 for 1d)

    init(layer: BatchNorm, shape: [Int], requiresGrad: Bool) {
        self.layer = layer
        x = Var(Tensor(zeros: [0]))
        output = Var(output: shape, requiresGrad: requiresGrad)
        xhat = Tensor(zeros: shape)
        mean = Tensor(zeros: [layer.features]); invStd = Tensor(zeros: [layer.features])
        batch = shape[0]
        inner = shape.count == 4 ? shape[2] * shape[3] : 1
    }

    func forward() {
        let C = layer.features, N = batch * inner
        let xs = x.value.pointer, ys = output.value.pointer, xh = xhat.pointer
        let mu = mean.pointer, istd = invStd.pointer
        let gamma = layer.scale.value.pointer, beta = layer.shift.value.pointer
        let rm = layer.runningMean.value.pointer, rv = layer.runningVar.value.pointer
        for c in 0..<C {
            if training {
                var s = 0.0, ss = 0.0  // Float64 sums: N can be large and the data uncentred
                for b in 0..<batch {
                    let p = xs + (b * C + c) * inner
                    for i in 0..<inner { let v = Double(p[i]); s += v; ss += v * v }
                }
                let m = s / Double(N)
                let variance = Swift.max(ss / Double(N) - m * m, 0)
                mu[c] = Float(m)
                istd[c] = Float(1 / (variance + Double(layer.epsilon)).squareRoot())
                let unbiased = N > 1 ? variance * Double(N) / Double(N - 1) : variance
                rm[c] = (1 - layer.momentum) * rm[c] + layer.momentum * Float(m)
                rv[c] = (1 - layer.momentum) * rv[c] + layer.momentum * Float(unbiased)
            } else {
                mu[c] = rm[c]
                istd[c] = 1 / (rv[c] + layer.epsilon).squareRoot()
            }
            // The channel's constants in locals (the compiler cannot hoist loads through the stores),
            // and x-hat kept only for a backward pass: inference (teachers) skips that store.
            let m = mu[c], sd = istd[c], g = gamma[c], bt = beta[c]
            for b in 0..<batch {
                let off = (b * C + c) * inner
                if output.requiresGrad {
                    for i in 0..<inner {
                        let h = (xs[off + i] - m) * sd
                        xh[off + i] = h
                        ys[off + i] = h * g + bt
                    }
                } else if training {
                    for i in 0..<inner { ys[off + i] = (xs[off + i] - m) * sd * g + bt }
                } else {
                    // Inference in the order of ONNX's reference evaluator, g (x - m) / sqrt(v + eps) + b,
                    // so an int8 network's export quantises exactly the values Cohort does.
                    let root = (rv[c] + layer.epsilon).squareRoot()
                    for i in 0..<inner { ys[off + i] = g * (xs[off + i] - m) / root + bt }
                }
            }
        }
    }

    func backward() {
        let C = layer.features, N = Float(batch * inner)
        let gy = output.grad!.pointer, xh = xhat.pointer, istd = invStd.pointer
        let gamma = layer.scale.value.pointer
        for c in 0..<C {
            var sumG: Float = 0, sumGX: Float = 0
            for b in 0..<batch {
                let off = (b * C + c) * inner
                for i in 0..<inner { sumG += gy[off + i]; sumGX += gy[off + i] * xh[off + i] }
            }
            if layer.scale.variable.requiresGrad { layer.scale.variable.grad!.pointer[c] += sumGX }
            if layer.shift.variable.requiresGrad { layer.shift.variable.grad!.pointer[c] += sumG }
            guard x.requiresGrad else { continue }
            let gx = x.grad!.pointer
            let k = gamma[c] * istd[c]
            for b in 0..<batch {
                let off = (b * C + c) * inner
                if training {  // dx = gamma istd / N (N dy - sum dy - xhat sum(dy xhat))
                    for i in 0..<inner { gx[off + i] += k / N * (N * gy[off + i] - sumG - xh[off + i] * sumGX) }
                } else {
                    for i in 0..<inner { gx[off + i] += k * gy[off + i] }
                }
            }
        }
    }
}
