import Cohort

/// RMSProp, as `torch.optim.RMSprop`. With `a` = alpha:
///
///     g = grad + wd * p                        (coupled L2, when wd != 0)
///     sq = a * sq + (1 - a) * g * g
///     centered:  ga = lerp(ga, g, 1 - a)       (= a * ga + (1 - a) * g)
///                avg = sqrt(sq - ga * ga) + eps
///     otherwise: avg = sqrt(sq) + eps
///     momentum > 0: buf = momentum * buf + g / avg;  p = p - lr * buf
///     otherwise:    p = p - lr * (g / avg)
/// All buffers start at zero.
public final class RMSProp: Optimizer {
    /// Hyperparameters besides the learning rate; defaults are PyTorch's.
    public struct Options: Sendable, Equatable {
        public var alpha: Float
        public var eps: Float
        public var momentum: Float
        public var centered: Bool
        public var weightDecay: Float

        public init(alpha: Float = 0.99, eps: Float = 1e-8, momentum: Float = 0, centered: Bool = false, weightDecay: Float = 0) {
            self.alpha = alpha
            self.eps = eps
            self.momentum = momentum
            self.centered = centered
            self.weightDecay = weightDecay
        }

        func check() throws {
            try OptionCheck.closed(alpha, 0, 1, "alpha")
            try OptionCheck.atLeast(eps, 0, "eps")
            try OptionCheck.halfOpen(momentum, 0, 1, "momentum")
            try OptionCheck.atLeast(weightDecay, 0, "weight_decay")
        }
    }

    public static let squareAverageKey = "rmsprop.square_avg"
    public static let gradientAverageKey = "rmsprop.grad_avg"
    public static let momentumKey = "rmsprop.momentum"

    public let options: Options
    public let parameterCount: Int
    public let decayMask: WeightDecayMask
    public private(set) var stepCount = 0
    private let squareAverage: Tensor
    private let gradientAverage: Tensor?
    private let momentumBuffer: Tensor?

    public init(parameterCount: Int, options: Options = Options(), decayRanges: [Range<Int>]? = nil) throws {
        try OptionCheck.validate("rmsprop") { try options.check() }
        self.options = options
        self.parameterCount = parameterCount
        decayMask = try WeightDecayMask.make(decayRanges, count: parameterCount)
        squareAverage = Tensor(zeros: [parameterCount])
        gradientAverage = options.centered ? Tensor(zeros: [parameterCount]) : nil
        momentumBuffer = options.momentum > 0 ? Tensor(zeros: [parameterCount]) : nil
    }

    private var buffers: [(String, Tensor)] {
        var list = [(RMSProp.squareAverageKey, squareAverage)]
        if let gradientAverage { list.append((RMSProp.gradientAverageKey, gradientAverage)) }
        if let momentumBuffer { list.append((RMSProp.momentumKey, momentumBuffer)) }
        return list
    }

    public var state: [String: Tensor] { OptimizerState.snapshot(buffers, step: stepCount) }

    public func loadState(_ state: [String: Tensor], step: Int) throws {
        try OptimizerState.validate(state, expected: buffers.map(\.0), count: parameterCount, step: step, optimizer: "rmsprop")
        OptimizerState.restore(state, into: buffers)
        stepCount = step
    }

    public func step(parameters p: UnsafeMutablePointer<Float>, gradients g: UnsafeMutablePointer<Float>, count: Int, learningRate lr: Float) {
        precondition(count == parameterCount, "rmsprop: step over \(count) floats, built for \(parameterCount)")
        stepCount += 1
        for run in decayMask.runs {
            var kernel = Kernel(p: p, g: g, sq: squareAverage.pointer, ga: gradientAverage?.pointer, buf: momentumBuffer?.pointer,
                                lr: lr, wd: run.decays ? options.weightDecay : 0, alpha: options.alpha, eps: options.eps,
                                momentum: options.momentum, blend: Lerp(weight: 1 - options.alpha))
            Lanes.forEachChunk(run.range, &kernel)
        }
    }

    private struct Kernel: ChunkKernel {
        let p, g, sq: UnsafeMutablePointer<Float>
        /// nil unless centered / with momentum.
        let ga, buf: UnsafeMutablePointer<Float>?
        let lr, wd, alpha, eps, momentum: Float
        let blend: Lerp

        @inline(__always)
        func apply(_ i: Int, _ n: Int) {
            let pv = Lanes.load(p, i, n)
            var gv = Lanes.load(g, i, n)
            if wd != 0 { gv = gv + wd * pv }
            let sqv = Lanes.load(sq, i, n) * alpha + (1 - alpha) * gv * gv
            Lanes.store(sqv, sq, i, n)
            let avg: Lanes.Vector
            if let ga {
                let gav = blend(Lanes.load(ga, i, n), gv)
                Lanes.store(gav, ga, i, n)
                avg = Lanes.squareRoot(sqv - gav * gav) + eps
            } else {
                avg = Lanes.squareRoot(sqv) + eps
            }
            if let buf {
                let bv = Lanes.load(buf, i, n) * momentum + gv / avg
                Lanes.store(bv, buf, i, n)
                Lanes.store(pv - lr * bv, p, i, n)
            } else {
                Lanes.store(pv - lr * (gv / avg), p, i, n)
            }
        }
    }
}
