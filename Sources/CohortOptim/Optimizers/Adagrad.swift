import Cohort

/// AdaGrad, as `torch.optim.Adagrad`. With `t` the step number (1 on the first step):
///
///     g = grad + wd * p                      (coupled L2, when wd != 0)
///     clr = lr / (1 + (t - 1) * lr_decay)
///     sum = sum + g * g                      (sum starts at initial_accumulator)
///     p = p - clr * (g / (sqrt(sum) + eps))
public final class Adagrad: Optimizer {
    /// Hyperparameters besides the learning rate; defaults are PyTorch's.
    public struct Options: Sendable, Equatable {
        public var eps: Float
        public var initialAccumulator: Float
        public var lrDecay: Float
        public var weightDecay: Float

        public init(eps: Float = 1e-10, initialAccumulator: Float = 0, lrDecay: Float = 0, weightDecay: Float = 0) {
            self.eps = eps
            self.initialAccumulator = initialAccumulator
            self.lrDecay = lrDecay
            self.weightDecay = weightDecay
        }

        func check() throws {
            try OptionCheck.atLeast(eps, 0, "eps")
            try OptionCheck.atLeast(initialAccumulator, 0, "initial_accumulator")
            try OptionCheck.atLeast(lrDecay, 0, "lr_decay")
            try OptionCheck.atLeast(weightDecay, 0, "weight_decay")
        }
    }

    public static let sumKey = "adagrad.sum"

    public let options: Options
    public let parameterCount: Int
    public let decayMask: WeightDecayMask
    public private(set) var stepCount = 0
    private let sum: Tensor

    public init(parameterCount: Int, options: Options = Options(), decayRanges: [Range<Int>]? = nil) throws {
        try OptionCheck.validate("adagrad") { try options.check() }
        self.options = options
        self.parameterCount = parameterCount
        decayMask = try WeightDecayMask.make(decayRanges, count: parameterCount)
        sum = Tensor(shape: [parameterCount], repeating: options.initialAccumulator)
    }

    private var buffers: [(String, Tensor)] { [(Adagrad.sumKey, sum)] }

    public var state: [String: Tensor] { OptimizerState.snapshot(buffers, step: stepCount) }

    public func loadState(_ state: [String: Tensor], step: Int) throws {
        try OptimizerState.validate(state, expected: buffers.map(\.0), count: parameterCount, step: step, optimizer: "adagrad")
        OptimizerState.restore(state, into: buffers)
        stepCount = step
    }

    public func step(parameters p: UnsafeMutablePointer<Float>, gradients g: UnsafeMutablePointer<Float>, count: Int, learningRate lr: Float) {
        precondition(count == parameterCount, "adagrad: step over \(count) floats, built for \(parameterCount)")
        stepCount += 1
        // Per-step scalars in Double, as PyTorch computes them in Python floats.
        let clr = Float(Double(lr) / (1 + Double(stepCount - 1) * Double(options.lrDecay)))
        for run in decayMask.runs {
            var kernel = Kernel(p: p, g: g, sum: sum.pointer, clr: clr, eps: options.eps, wd: run.decays ? options.weightDecay : 0)
            Lanes.forEachChunk(run.range, &kernel)
        }
    }

    private struct Kernel: ChunkKernel {
        let p, g, sum: UnsafeMutablePointer<Float>
        let clr, eps, wd: Float

        @inline(__always)
        func apply(_ i: Int, _ n: Int) {
            let pv = Lanes.load(p, i, n)
            var gv = Lanes.load(g, i, n)
            if wd != 0 { gv = gv + wd * pv }
            let sv = Lanes.load(sum, i, n) + gv * gv
            Lanes.store(sv, sum, i, n)
            Lanes.store(pv - clr * (gv / (Lanes.squareRoot(sv) + eps)), p, i, n)
        }
    }
}
