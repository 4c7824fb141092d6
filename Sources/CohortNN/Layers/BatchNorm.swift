import CNormalization
import Cohort

/// Batch normalisation (Ioffe & Szegedy 2015) over [B, C] (1d) or [B, C, H, W] (2d), per channel.
/// The loops are Sources/CNormalization's (vector paths chosen from the CPU). Training uses the
/// batch's statistics and updates running ones (momentum as in PyTorch: running =
/// (1 - m) running + m batch, with the unbiased variance); evaluation uses the running statistics.
public final class BatchNorm: Layer {
    public let features: Int
    public let spatial: Bool
    public let momentum: Float, epsilon: Float
    public let scale: Parameter, shift: Parameter
    public let runningMean: Parameter, runningVar: Parameter

    /// The kernel path (Sources/CNormalization): the fastest this CPU runs within COHORT_CPU, chosen
    /// once (tests set another to compare).
    nonisolated(unsafe) public static var path = cohort_norm_best_path()
    /// Every path this CPU runs (within COHORT_CPU), and the name of the one in use, for `cohort info`.
    public static var availablePaths: [cohort_norm_path] {
        (0..<COHORT_NORM_PATH_COUNT.rawValue).map { cohort_norm_path(rawValue: $0) }.filter { cohort_norm_path_available($0) != 0 }
    }
    public static var pathName: String { String(cString: cohort_norm_path_name(path)) }

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
    let variance: Tensor  // per channel, the batch's (biased), for the running variance
    let batch: Int, inner: Int  // inner = H*W (1 for 1d)

    init(layer: BatchNorm, shape: [Int], requiresGrad: Bool) {
        self.layer = layer
        x = Var(Tensor(zeros: [0]))
        output = Var(output: shape, requiresGrad: requiresGrad)
        xhat = Tensor(zeros: shape)
        mean = Tensor(zeros: [layer.features]); invStd = Tensor(zeros: [layer.features])
        variance = Tensor(zeros: [layer.features])
        batch = shape[0]
        inner = shape.count == 4 ? shape[2] * shape[3] : 1
    }

    func forward() {
        let C = layer.features
        let xs = x.value.pointer, ys = output.value.pointer
        let xh: UnsafeMutablePointer<Float>? = output.requiresGrad ? xhat.pointer : nil  // x-hat only for a backward pass
        let mu = mean.pointer, istd = invStd.pointer
        let gamma = layer.scale.value.pointer, beta = layer.shift.value.pointer
        let rm = layer.runningMean.value.pointer, rv = layer.runningVar.value.pointer
        let path = BatchNorm.path
        if training {
            cohort_batchnorm_forward_training(xs, batch, C, inner, gamma, beta, layer.epsilon, mu, variance.pointer, istd, xh, ys, path)
            let n = Double(batch * inner), m = layer.momentum
            for c in 0..<C {
                let unbiased = n > 1 ? Double(variance.pointer[c]) * n / (n - 1) : Double(variance.pointer[c])
                rm[c] = (1 - m) * rm[c] + m * mu[c]
                rv[c] = (1 - m) * rv[c] + m * Float(unbiased)
            }
        } else if output.requiresGrad {
            for c in 0..<C { mu[c] = rm[c]; istd[c] = 1 / (rv[c] + layer.epsilon).squareRoot() }
            cohort_batchnorm_normalize(xs, batch, C, inner, mu, istd, gamma, beta, xh, ys, path)
        } else {
            // Inference in the order of ONNX's reference evaluator, g (x - m) / sqrt(v + eps) + b,
            // so an int8 network's export quantises exactly the values Cohort does.
            cohort_batchnorm_forward_inference(xs, batch, C, inner, gamma, beta, rm, rv, layer.epsilon, ys, path)
        }
    }

    func backward() {
        let scale = layer.scale.variable, shift = layer.shift.variable
        cohort_batchnorm_backward(output.grad!.pointer, xhat.pointer, batch, layer.features, inner, layer.scale.value.pointer,
                                  invStd.pointer, training ? 1 : 0, scale.requiresGrad ? scale.grad!.pointer : nil,
                                  shift.requiresGrad ? shift.grad!.pointer : nil, x.requiresGrad ? x.grad!.pointer : nil, BatchNorm.path)
    }
}
