import Cohort

/// Stochastic gradient descent with optional momentum, as `torch.optim.SGD`.
///
/// With `t` the step number (1 on the first step), `wd` the weight decay (only inside the decay mask):
///
///     g = grad + wd * p                      (coupled L2, when wd != 0)
///     if momentum != 0:
///         buf = g                            (t == 1: no dampening on the first step)
///         buf = momentum * buf + (1 - dampening) * g   (t > 1)
///         g = nesterov ? g + momentum * buf : buf
///     p = p - lr * g
public final class SGD: Optimizer {
    /// Hyperparameters besides the learning rate; defaults are PyTorch's.
    public struct Options: Sendable, Equatable {
        public var momentum: Float
        public var dampening: Float
        public var nesterov: Bool
        public var weightDecay: Float

        public init(momentum: Float = 0, dampening: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) {
            self.momentum = momentum
            self.dampening = dampening
            self.nesterov = nesterov
            self.weightDecay = weightDecay
        }

        /// Throws an `OptionIssue` naming the config key.
        func check() throws {
            try OptionCheck.halfOpen(momentum, 0, 1, "momentum")
            try OptionCheck.closed(dampening, 0, 1, "dampening")
            try OptionCheck.atLeast(weightDecay, 0, "weight_decay")
            if nesterov && (momentum == 0 || dampening != 0) {
                throw OptionIssue(key: "nesterov", reason: "needs momentum > 0 and dampening 0, got momentum \(momentum), dampening \(dampening)")
            }
        }
    }

    /// State buffer names.
    public static let momentumKey = "momentum"

    public let options: Options
    public let parameterCount: Int
    public let decayMask: WeightDecayMask
    public private(set) var stepCount = 0
    /// Present only with momentum (PyTorch keeps no state otherwise).
    private let momentumBuffer: Tensor?

    /// `decayRanges`: where weight decay applies (nil: everywhere).
    public init(parameterCount: Int, options: Options = Options(), decayRanges: [Range<Int>]? = nil) throws {
        try OptionCheck.validate("sgd") { try options.check() }
        self.options = options
        self.parameterCount = parameterCount
        decayMask = try WeightDecayMask.make(decayRanges, count: parameterCount)
        momentumBuffer = options.momentum != 0 ? Tensor(zeros: [parameterCount]) : nil
    }

    private var buffers: [(String, Tensor)] { momentumBuffer.map { [(SGD.momentumKey, $0)] } ?? [] }

    public var state: [String: Tensor] { OptimizerState.snapshot(buffers, step: stepCount) }

    public func loadState(_ state: [String: Tensor], step: Int) throws {
        try OptimizerState.validate(state, expected: buffers.map(\.0), count: parameterCount, step: step, optimizer: "sgd")
        OptimizerState.restore(state, into: buffers)
        stepCount = step
    }

    public func step(parameters: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>, count: Int, learningRate lr: Float) {
        precondition(count == parameterCount, "sgd: step over \(count) floats, built for \(parameterCount)")
        stepCount += 1
        for run in decayMask.runs {
            let wd = run.decays ? options.weightDecay : 0
            if let buffer = momentumBuffer {
                momentumUpdate(parameters, gradients, buffer.pointer, run.range, lr: lr, wd: wd, first: stepCount == 1)
            } else {
                plainUpdate(parameters, gradients, run.range, lr: lr, wd: wd)
            }
        }
    }

    private func plainUpdate(_ p: UnsafeMutablePointer<Float>, _ g: UnsafeMutablePointer<Float>, _ range: Range<Int>, lr: Float, wd: Float) {
        var kernel = PlainKernel(p: p, g: g, lr: lr, wd: wd)
        Lanes.forEachChunk(range, &kernel)
    }

    private func momentumUpdate(_ p: UnsafeMutablePointer<Float>, _ g: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>,
                                _ range: Range<Int>, lr: Float, wd: Float, first: Bool) {
        var kernel = MomentumKernel(p: p, g: g, b: b, lr: lr, wd: wd, momentum: options.momentum, keep: 1 - options.dampening,
                                    nesterov: options.nesterov, first: first)
        Lanes.forEachChunk(range, &kernel)
    }

    private struct PlainKernel: ChunkKernel {
        let p, g: UnsafeMutablePointer<Float>
        let lr, wd: Float

        @inline(__always)
        func apply(_ i: Int, _ n: Int) {
            let pv = Lanes.load(p, i, n)
            var gv = Lanes.load(g, i, n)
            if wd != 0 { gv = gv + wd * pv }
            Lanes.store(pv - lr * gv, p, i, n)
        }
    }

    private struct MomentumKernel: ChunkKernel {
        let p, g, b: UnsafeMutablePointer<Float>
        let lr, wd, momentum, keep: Float
        let nesterov, first: Bool

        @inline(__always)
        func apply(_ i: Int, _ n: Int) {
            let pv = Lanes.load(p, i, n)
            var gv = Lanes.load(g, i, n)
            if wd != 0 { gv = gv + wd * pv }
            let bv = first ? gv : Lanes.load(b, i, n) * momentum + keep * gv
            Lanes.store(bv, b, i, n)
            let direction = nesterov ? gv + momentum * bv : bv
            Lanes.store(pv - lr * direction, p, i, n)
        }
    }
}
