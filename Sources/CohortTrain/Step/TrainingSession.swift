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
        let (loss, logits) = try forwardBackward(x, scale: scale) {
            try tape.softmaxCrossEntropy($0, labels: labels, labelSmoothing: regularization.labelSmoothing)
        }
        return (loss, Metrics.correct(logits, labels))
    }

    /// Forward and backward of the mean squared error against `targets` [B, T] (regression).
    public func forwardBackwardRegression(_ x: Var, targets: Tensor, scale: Float = 1) throws -> Float {
        try forwardBackward(x, scale: scale) { try tape.meanSquaredError($0, target: targets) }.loss
    }

    /// Forward and backward of cross-entropy against mixed labels (a mixup or CutMix batch).
    public func forwardBackward(_ x: Var, mixed labels: MixedLabels, scale: Float = 1) throws -> (loss: Float, correct: Int) {
        let (loss, logits) = try forwardBackward(x, scale: scale) { try tape.softmaxCrossEntropy($0, mixed: labels) }
        return (loss, Metrics.correct(logits, labels))
    }

    /// Forward and backward of the distillation loss (`Tape.distillationLoss`) on one batch;
    /// `labels` has first label -1 where an example has none.
    public func forwardBackwardDistilled(_ x: Var, labels: MixedLabels, teacher: Tensor, matching: TeacherMatching, alpha: Float,
                                         scale: Float = 1) throws -> (loss: Float, correct: Int) {
        let (loss, logits) = try forwardBackward(x, scale: scale) {
            try tape.distillationLoss(studentLogits: $0, teacher: teacher, matching: matching, labels: labels, alpha: alpha)
        }
        return (loss, Metrics.correct(logits, labels))
    }

    /// Forward and backward of a custom objective (`CustomObjective`), which runs the layers itself.
    public func forwardBackward(_ x: Var, scale: Float = 1, custom: (Var, ForwardContext) throws -> (loss: Var, correct: Int)) throws
        -> (loss: Float, correct: Int) {
        tape.reset()
        context.training = true
        var (loss, correct) = try custom(x, context)
        if scale != 1 { loss = tape.affine(loss, scale: scale) }
        try tape.backward(loss)
        return (loss.value.item / scale, correct)
    }

    /// One recording: forward in training mode, `objective` on the outputs, scaled by `scale`
    /// (micro-batches), backward. Returns the unscaled loss and the outputs.
    private func forwardBackward(_ x: Var, scale: Float, objective: (Var) throws -> Var) throws -> (loss: Float, outputs: Tensor) {
        tape.reset()
        context.training = true
        let outputs = try model.network.forward(x, context)
        var loss = try objective(outputs)
        if scale != 1 { loss = tape.affine(loss, scale: scale) }
        try tape.backward(loss)
        return (loss.value.item / scale, outputs.value)
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
        var n = 0
        for (r, label) in labels.enumerated() where argmax(logits, row: r) == Int(label) { n += 1 }
        return n
    }

    /// How many rows of `logits` have their maximum at the row's dominant label (the one with the
    /// larger weight; none for an unlabelled row).
    public static func correct(_ logits: Tensor, _ labels: MixedLabels) -> Int {
        var n = 0
        for r in 0..<labels.count where argmax(logits, row: r) == Int(labels.dominant(r)) { n += 1 }
        return n
    }

    @inline(__always)
    static func argmax(_ logits: Tensor, row r: Int) -> Int {
        let k = logits.shape[1], row = logits.pointer + r * k
        var best = row[0], at = 0
        for j in 1..<k where row[j] > best { best = row[j]; at = j }
        return at
    }
}
