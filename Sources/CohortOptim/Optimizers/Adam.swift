import Cohort

/// Adam and AdamW (without amsgrad), as `torch.optim`: `Adam` adds coupled L2 decay to the gradient
/// before the moments (`g = grad + wd * p`); `AdamW` first shrinks `p = p * (1 - lr * wd)` (inside
/// the decay mask) and the kernel sees the raw gradient (`AdamDecay`). Then the update in `AdamKernel`.
public final class AdamOptimizer<Decay: AdamDecay>: Optimizer {
    /// Hyperparameters besides the learning rate; defaults are PyTorch's (weight decay 0 for Adam, 0.01 for AdamW).
    public struct Options: Sendable, Equatable {
        public var beta1: Float
        public var beta2: Float
        public var eps: Float
        public var weightDecay: Float

        public init(beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = Decay.defaultWeightDecay) {
            self.beta1 = beta1
            self.beta2 = beta2
            self.eps = eps
            self.weightDecay = weightDecay
        }

        func check() throws {
            try AdamMoments.check(beta1: beta1, beta2: beta2, eps: eps)
            try OptionCheck.atLeast(weightDecay, 0, "weight_decay")
        }
    }

    public let options: Options
    public let parameterCount: Int
    public let decayMask: WeightDecayMask
    public private(set) var stepCount = 0
    private let moments: AdamMoments

    public init(parameterCount: Int, options: Options = Options(), decayRanges: [Range<Int>]? = nil) throws {
        try OptionCheck.validate(Decay.name) { try options.check() }
        self.options = options
        self.parameterCount = parameterCount
        decayMask = try WeightDecayMask.make(decayRanges, count: parameterCount)
        moments = AdamMoments(count: parameterCount)
    }

    public var state: [String: Tensor] { OptimizerState.snapshot(moments.buffers, step: stepCount) }

    public func loadState(_ state: [String: Tensor], step: Int) throws {
        try OptimizerState.validate(state, expected: moments.buffers.map(\.0), count: parameterCount, step: step, optimizer: Decay.name)
        OptimizerState.restore(state, into: moments.buffers)
        stepCount = step
    }

    public func step(parameters p: UnsafeMutablePointer<Float>, gradients g: UnsafeMutablePointer<Float>, count: Int, learningRate lr: Float) {
        precondition(count == parameterCount, "\(Decay.name): step over \(count) floats, built for \(parameterCount)")
        stepCount += 1
        let kernel = AdamKernel(beta1: options.beta1, beta2: options.beta2, eps: options.eps)
        // PyTorch computes 1 - lr * wd in Python floats.
        let shrink = Float(1 - Double(lr) * Double(options.weightDecay))
        for run in decayMask.runs {
            let decays = run.decays && options.weightDecay != 0
            kernel.update(p, g, moments.m.pointer, moments.v.pointer, range: run.range, step: stepCount, lr: lr,
                          l2: decays && !Decay.decoupled ? options.weightDecay : 0, shrink: decays && Decay.decoupled ? shrink : nil)
        }
    }
}

/// Adam's two moment buffers, shared by Adam and AdamW (same names, so either can restore the other's state).
struct AdamMoments {
    static let firstKey = "adam.m"
    static let secondKey = "adam.v"

    let m: Tensor
    let v: Tensor

    init(count: Int) {
        m = Tensor(zeros: [count])
        v = Tensor(zeros: [count])
    }

    var buffers: [(String, Tensor)] { [(Self.firstKey, m), (Self.secondKey, v)] }

    static func check(beta1: Float, beta2: Float, eps: Float) throws {
        try OptionCheck.halfOpen(beta1, 0, 1, "betas[0]")
        try OptionCheck.halfOpen(beta2, 0, 1, "betas[1]")
        try OptionCheck.atLeast(eps, 0, "eps")
    }
}
