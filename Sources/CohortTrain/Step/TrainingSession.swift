import Cohort
import CohortNN
import CohortOptim

/// A `Model` being trained: the model, the tape its forward passes record, the gradient arena
/// backward fills, and the optimizer that updates the parameter arena from it. After the first
/// step nothing here allocates (the tape reuses its nodes, the arenas are fixed).
public final class TrainingSession {
    public let model: Model
    public let gradients: GradientArena
    public let optimizer: Optimizer
    public let tape = Tape()
    public let context: ForwardContext
    public var regularization: Regularization
    private let decayRanges: [Range<Int>]

    public var parameters: ParameterArena { model.parameters }
    public var buffers: ParameterArena { model.buffers }

    /// `gradientStorage`: where the gradient arena lives (a reducer's memory; private when nil);
    /// `precision`: how Linear and Conv2d multiply while training (evaluation stays fp32).
    public init(model: Model, optimizer: Optimizer, seed: UInt64, regularization: Regularization = Regularization(),
                gradientStorage: Storage? = nil, precision: MatmulPrecision = .fp32) {
        self.model = model
        gradients = GradientArena(for: model.parameters, storage: gradientStorage)
        self.optimizer = optimizer
        self.regularization = regularization
        context = ForwardContext(tape: tape, training: true, rng: RandomStream(seed: seed).split("dropout"))
        context.precision = precision
        decayRanges = model.parameters.decayRanges
    }

    /// Forward and backward of cross-entropy on one batch, accumulating into the gradient arena
    /// (zero it first unless accumulating micro-batches). Returns the loss (unscaled) and the
    /// examples whose prediction matches their label.
    public func forwardBackward(_ x: Var, labels: [Int32], scale: Float = 1) throws -> (loss: Float, correct: Int) {
        tape.reset()
        context.training = true
        let logits = try model.network.forward(x, context)
        var loss = try tape.softmaxCrossEntropy(logits, labels: labels, labelSmoothing: regularization.labelSmoothing)
        if scale != 1 { loss = tape.affine(loss, scale: scale) }
        try tape.backward(loss)
        return (loss.value.item / scale, Metrics.correct(logits.value, labels))
    }

    /// Forward and backward of the mean squared error against `targets` [B, T] (regression).
    public func forwardBackwardRegression(_ x: Var, targets: Tensor, scale: Float = 1) throws -> Float {
        tape.reset()
        context.training = true
        let predictions = try model.network.forward(x, context)
        var loss = try tape.meanSquaredError(predictions, target: targets)
        if scale != 1 { loss = tape.affine(loss, scale: scale) }
        try tape.backward(loss)
        return loss.value.item / scale
    }

    /// Forward and backward of the distillation loss (`Tape.distillationLoss`) on one batch;
    /// `labels` holds -1 where an example has none.
    public func forwardBackwardDistilled(_ x: Var, labels: [Int32], teacher: Tensor, temperature: Float, alpha: Float,
                                         scale: Float = 1) throws -> (loss: Float, correct: Int) {
        tape.reset()
        context.training = true
        let logits = try model.network.forward(x, context)
        var loss = try tape.distillationLoss(studentLogits: logits, teacherProbabilities: teacher, labels: labels,
                                             temperature: temperature, alpha: alpha)
        if scale != 1 { loss = tape.affine(loss, scale: scale) }
        try tape.backward(loss)
        return (loss.value.item / scale, Metrics.correct(logits.value, labels))
    }

    /// Applies the penalties, checks for NaN/Inf, clips, and updates with `learningRate`. Not
    /// finite: nothing is updated.
    public func update(learningRate: Float, loss: Float) -> (finite: Bool, norm: Float, penalty: Float) {
        let g = gradients.values.pointer, p = parameters.values.pointer, n = parameters.count
        let r = regularization
        var penalty = 0.0
        if r.l1 > 0 { penalty += WeightPenalty.addL1(lambda: r.l1, parameters: p, gradients: g, count: n, ranges: decayRanges) }
        if r.l2 > 0 { penalty += WeightPenalty.addL2(lambda: r.l2, parameters: p, gradients: g, count: n, ranges: decayRanges) }
        guard loss.isFinite, !NonFiniteCheck.containsNonFinite(g, count: n) else { return (false, .nan, Float(penalty)) }
        var norm: Float = 0
        if r.clipNorm > 0 { norm = GradientClipping.clip(g, count: n, maxNorm: r.clipNorm) }
        optimizer.step(parameters: p, gradients: g, count: n, learningRate: learningRate)
        context.parametersChanged()  // bf16 weight copies are rounded again on the next forward
        return (true, norm, Float(penalty))
    }
}

/// What a session adds to the loss and the update besides the optimizer's own weight decay.
public struct Regularization: Sendable {
    public var labelSmoothing: Float = 0
    /// Clip the global gradient norm to this (0: off).
    public var clipNorm: Float = 0
    /// L1 / L2 penalties on weights (not biases).
    public var l1: Float = 0, l2: Float = 0

    public init() {}

    public init(_ training: TrainingConfig) {
        labelSmoothing = training.labelSmoothing
        clipNorm = training.clipNorm
        l1 = training.l1
        l2 = training.l2
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
