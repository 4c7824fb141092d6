import Cohort

/// AdamW, as `torch.optim.AdamW`: decoupled weight decay, `p = p * (1 - lr * wd)` (inside the decay
/// mask) before the Adam update of `AdamKernel`, which then sees the raw gradient.
public final class AdamW: Optimizer {
    /// Hyperparameters besides the learning rate; defaults are PyTorch's (weight decay 0.01).
    public struct Options: Sendable, Equatable {
        public var beta1: Float
        public var beta2: Float
        public var eps: Float
        public var weightDecay: Float

        public init(beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 0.01) {
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
        try OptionCheck.validate("adamw") { try options.check() }
        self.options = options
        self.parameterCount = parameterCount
        decayMask = try WeightDecayMask.make(decayRanges, count: parameterCount)
        moments = AdamMoments(count: parameterCount)
    }

    public var state: [String: Tensor] { OptimizerState.snapshot(moments.buffers, step: stepCount) }

    public func loadState(_ state: [String: Tensor], step: Int) throws {
        try OptimizerState.validate(state, expected: moments.buffers.map(\.0), count: parameterCount, step: step, optimizer: "adamw")
        OptimizerState.restore(state, into: moments.buffers)
        stepCount = step
    }

    public func step(parameters p: UnsafeMutablePointer<Float>, gradients g: UnsafeMutablePointer<Float>, count: Int, learningRate lr: Float) {
        precondition(count == parameterCount, "adamw: step over \(count) floats, built for \(parameterCount)")
        stepCount += 1
        let kernel = AdamKernel(beta1: options.beta1, beta2: options.beta2, eps: options.eps)
        // PyTorch computes 1 - lr * wd in Python floats.
        let shrink = Float(1 - Double(lr) * Double(options.weightDecay))
        for run in decayMask.runs {
            let decays = run.decays && options.weightDecay != 0
            kernel.update(p, g, moments.m.pointer, moments.v.pointer, range: run.range, step: stepCount, lr: lr,
                          l2: 0, shrink: decays ? shrink : nil)
        }
    }
}
