import Cohort
import CohortDistributed
import CohortNN
import CohortOptim

/// A model with its arenas, tape and optimizer: one `step` is forward, loss, backward, the
/// NaN/Inf guard, clipping and the fused optimizer update. After the first step nothing here
/// allocates (the tape reuses its nodes, the arenas are fixed).
public final class TrainingSession {
    public let model: Sequential
    public let parameters: ParameterArena
    /// Non-trainable state (BatchNorm running statistics), kept in an arena of its own.
    public let buffers: ParameterArena
    public let optimizer: Optimizer
    public let tape = Tape()
    public let context: ForwardContext
    public var labelSmoothing: Float = 0
    public var clipNorm: Float = 0
    public var l1: Float = 0, l2: Float = 0
    /// Called between backward and the update (the data-parallel reducer waits for its buckets here).
    public var afterBackward: (() throws -> Void)?
    private let decayRanges: [Range<Int>]

    public struct StepResult {
        public var loss: Float
        public var correct: Int
        public var gradientNorm: Float
        /// False when the loss or a gradient was NaN/Inf (the update was not applied).
        public var finite: Bool
    }

    public init(model: Sequential, optimizer: Optimizer, seed: UInt64, parameterStorage: Storage? = nil, gradientStorage: Storage? = nil) {
        self.model = model
        parameters = ParameterArena(model.namedParameters(), storage: parameterStorage, gradientStorage: gradientStorage)
        buffers = ParameterArena(model.namedBuffers(), withGradients: false)
        self.optimizer = optimizer
        context = ForwardContext(tape: tape, training: true, rng: RandomStream(seed: seed).split("dropout"))
        decayRanges = parameters.decayRanges
    }

    /// Forward and backward on one batch, accumulating into the gradient arena (call
    /// `parameters.zeroGradients()` first unless accumulating micro-batches).
    public func forwardBackward(_ x: Var, labels: [Int32], scale: Float = 1) throws -> (loss: Float, correct: Int) {
        tape.reset()
        context.training = true
        let logits = try model.forward(x, context)
        var loss = try tape.softmaxCrossEntropy(logits, labels: labels, labelSmoothing: labelSmoothing)
        if scale != 1 { loss = tape.affine(loss, scale: scale) }
        try tape.backward(loss)
        return (loss.value.item / scale, Metrics.correct(logits.value, labels))
    }

    /// Forward and backward of the distillation loss (`Tape.distillationLoss`) on one batch;
    /// `labels` holds -1 where an example has none. Returns the loss and the examples whose
    /// prediction matches their label.
    public func forwardBackwardDistilled(_ x: Var, labels: [Int32], teacher: Tensor, temperature: Float, alpha: Float,
                                         scale: Float = 1) throws -> (loss: Float, correct: Int) {
        tape.reset()
        context.training = true
        let logits = try model.forward(x, context)
        var loss = try tape.distillationLoss(studentLogits: logits, teacherProbabilities: teacher, labels: labels,
                                             temperature: temperature, alpha: alpha)
        if scale != 1 { loss = tape.affine(loss, scale: scale) }
        try tape.backward(loss)
        return (loss.value.item / scale, Metrics.correct(logits.value, labels))
    }

    /// Applies penalties, checks for NaN/Inf, clips, and updates with `learningRate`.
    public func update(learningRate: Float, loss: Float) -> (finite: Bool, norm: Float, penalty: Float) {
        let g = parameters.gradients!.pointer, p = parameters.values.pointer, n = parameters.count
        var penalty = 0.0
        if l1 > 0 { penalty += WeightPenalty.addL1(lambda: l1, parameters: p, gradients: g, count: n, ranges: decayRanges) }
        if l2 > 0 { penalty += WeightPenalty.addL2(lambda: l2, parameters: p, gradients: g, count: n, ranges: decayRanges) }
        guard loss.isFinite, !NonFiniteCheck.containsNonFinite(g, count: n) else { return (false, .nan, Float(penalty)) }
        var norm: Float = 0
        if clipNorm > 0 { norm = GradientClipping.clip(g, count: n, maxNorm: clipNorm) }
        optimizer.step(parameters: p, gradients: g, count: n, learningRate: learningRate)
        return (true, norm, Float(penalty))
    }

    /// Logits for a batch in evaluation mode (no gradients, running BatchNorm statistics).
    public func predict(_ x: Var, tape evalTape: Tape) throws -> Var {
        evalTape.reset()
        let ctx = ForwardContext(tape: evalTape, training: false)
        return try model.forward(x, ctx)
    }
}

extension TrainingSession {
    /// A bucketed MPI reducer over this session's gradient arena.
    public func makeReducer(communicator: Communicator, bucketBytes: Int, firstBucketBytes: Int, overlap: Bool) -> GradientReducer {
        let slots = zip(parameters.entries, parameters.parameters).map {
            GradientReducer.Slot(variable: $0.1.variable, offset: $0.0.offset, count: $0.0.count)
        }
        let reducer = GradientReducer(slots: slots, gradients: parameters.gradients!.pointer, communicator: communicator,
                                      bucketBytes: bucketBytes, firstBucketBytes: firstBucketBytes)
        reducer.overlap = overlap
        return reducer
    }
}

public enum Metrics {
    /// How many rows of `logits` [B, K] have their maximum at the label.
    public static func correct(_ logits: Tensor, _ labels: [Int32]) -> Int {
        let k = logits.shape[1], p = logits.pointer
        var n = 0
        for (r, label) in labels.enumerated() {
            let row = p + r * k
            var best = row[0], at = 0
            for j in 1..<k where row[j] > best { best = row[j]; at = j }
            if at == Int(label) { n += 1 }
        }
        return n
    }
}
