import Cohort
import CohortData
import CohortDistributed
import CohortFormats
import CohortNN

/// One optimizer step: load this rank's batch, forward, backward, synchronise the gradients,
/// update. `cohort train` (sync and Hogwild), `cohort distill` and `cohort bench train` all run
/// this, so the benchmark measures the step users train with. `run` reads top to bottom as the
/// whole of a step; after the first one it allocates nothing.
public final class TrainingStep {
    public let session: TrainingSession
    public let loader: BatchLoader
    public let sync: GradientSync
    public let objective: TrainingObjective
    public let nonFinite: NonFinitePolicy
    /// Micro-batches of `loader.batchSize` examples whose gradients make one update (accumulation).
    public let microBatches: Int
    /// The run's root stream: each micro-batch's augmentation and dropout draw from streams split
    /// off it by the step's stream number, so a resumed run draws exactly what it would have.
    let randomness: RandomStream
    public var faults = FaultInjection()
    /// Called after every applied update (pruning holds masked weights at zero here).
    public var afterUpdate: (() -> Void)?
    /// When the phases of the last step ended (TraceRecorder ticks), for traces and benchmarks.
    public private(set) var clock = StepClock()

    /// Mixup / CutMix of every batch (nil: batches are used as loaded).
    let mixer: BatchMixer?
    /// What the step has spent so far (the teacher's share of a distillation's step time).
    public private(set) var totals = StepTotals()

    private var input: Var?
    /// The batch's labels, mixed as its images were; first label -1 where a transfer example has
    /// none (reused from step to step).
    private var labels: MixedLabels

    public struct Outcome {
        /// Mean loss over the step's micro-batches.
        public var loss: Float
        /// Examples whose prediction matched their label (classification), and examples seen.
        public var correct: Int
        public var examples: Int
        /// False when a NaN/Inf loss or gradient was skipped (`non_finite: skip`): nothing changed.
        public var applied: Bool
    }

    public init(session: TrainingSession, loader: BatchLoader, sync: GradientSync, objective: TrainingObjective = .labels,
                nonFinite: NonFinitePolicy = .stop, microBatches: Int = 1, randomness: RandomStream, mixing: BatchMixing = .none) throws {
        if mixing.isActive, case .targets = objective {
            throw CohortError.invalid("mixup and CutMix mix class labels; a regression run has none to mix")
        }
        mixer = mixing.isActive ? try BatchMixer(mixing: mixing, batchSize: loader.batchSize, sampleShape: loader.dataset.sampleShape) : nil
        labels = MixedLabels([Int32](repeating: 0, count: loader.batchSize))
        self.session = session
        self.loader = loader
        self.sync = sync
        self.objective = objective
        self.nonFinite = nonFinite
        self.microBatches = microBatches
        self.randomness = randomness
    }

    /// Runs step `number` (1-based, for messages and fault injection) on the examples at
    /// `positions` (`microBatches` x the batch size of them, in order), micro-batch m drawing its
    /// randomness from stream `stream + m`.
    public func run(positions: ArraySlice<Int>, stream: UInt64, number: Int, learningRate: Float) throws -> Outcome {
        let batch = loader.batchSize, k = microBatches
        precondition(positions.count == batch * k, "a step takes microBatches x batch size positions")
        clock.started = TraceRecorder.now()
        clock.teacherTicks = 0
        session.gradients.zero()
        sync.beginStep()
        // k micro-batches accumulate into the gradient arena, each loss scaled by 1/k; only the
        // last backward lets the reducer send.
        var loss: Float = 0, correct = 0
        for m in 0..<k {
            let start = positions.startIndex + m * batch
            let examples = positions[start..<(start + batch)]
            loader.random = randomness.split("augment", stream &+ UInt64(m))
            let features = try loader.load(examples)
            if let mixer {
                var rng = randomness.split("mix", stream &+ UInt64(m))
                mixer.mix(features, rng: &rng)
            }
            let x = boundInput(features)
            session.context.rng = randomness.split("dropout", stream &+ UInt64(m))
            if m == 0 { faults.apply(step: number, input: x) }
            sync.beginBackward(last: m == k - 1)
            let r = try forwardBackward(x, examples: examples, features: features, scale: 1 / Float(k))
            loss += r.loss / Float(k)
            correct += r.correct
        }
        clock.backwardEnded = TraceRecorder.now()
        // A bad loss stops this rank before it waits for the others, so its message is the one reported.
        if !loss.isFinite && nonFinite == .stop {
            throw CohortError.invalid("step \(number): the loss is \(loss) on this rank's batch; lower optimizer.lr, set training.clip_norm, or training.non_finite=skip")
        }
        try sync.finish()
        clock.synchronized = TraceRecorder.now()
        let update = session.update(learningRate: learningRate, loss: loss)
        clock.updated = TraceRecorder.now()
        if !update.finite && nonFinite == .stop {
            throw CohortError.invalid("step \(number): loss or gradient is NaN/Inf (loss \(loss)); lower optimizer.lr, set training.clip_norm, or training.non_finite=skip")
        }
        if update.finite { afterUpdate?() }
        totals.steps += 1
        totals.ticks += clock.updated &- clock.started
        totals.teacherTicks += clock.teacherTicks
        return Outcome(loss: loss, correct: correct, examples: batch * k, applied: update.finite)
    }

    /// The input leaf over the loader's batch buffer (one Var while the buffer stays the same).
    private func boundInput(_ features: Tensor) -> Var {
        if let input, input.value.storage === features.storage, input.shape == features.shape { return input }
        let x = Var(features)
        input = x
        return x
    }

    private func forwardBackward(_ x: Var, examples: ArraySlice<Int>, features: Tensor, scale: Float) throws -> (loss: Float, correct: Int) {
        switch objective {
        case .labels:
            guard mixer != nil else { return try session.forwardBackward(x, labels: loader.labels, scale: scale) }
            fillLabels(examples, labeled: nil)
            return try session.forwardBackward(x, mixed: labels, scale: scale)
        case .targets:
            return (try session.forwardBackwardRegression(x, targets: loader.targets, scale: scale), 0)
        case let .distillation(d):
            let started = TraceRecorder.now()
            let teacher = try d.teacher.targets(positions: examples, features: features)
            clock.teacherTicks += TraceRecorder.now() &- started
            fillLabels(examples, labeled: d.labeled)
            return try session.forwardBackwardDistilled(x, labels: labels, teacher: teacher, matching: d.matching, alpha: d.alpha, scale: scale)
        case let .custom(objective):
            return try session.forwardBackward(x, scale: scale) { try objective.loss($0, positions: examples, context: $1) }
        }
    }

    /// The batch's labels as its images were mixed (each row with its partner, by the mixer's
    /// weights). A row keeps a hard label only when every example in it has one (`labeled`).
    private func fillLabels(_ examples: ArraySlice<Int>, labeled: [Bool]?) {
        let plain = loader.labels
        for (r, p) in examples.enumerated() {
            let q = mixer.map { $0.partner[r] } ?? r
            let known = labeled.map { $0[p] && $0[examples[examples.startIndex + q]] } ?? true
            labels.first[r] = known ? plain[r] : -1
            labels.second[r] = known ? plain[q] : -1
            labels.weight[r] = mixer.map { $0.weight[r] } ?? 1
        }
    }
}

/// What the steps of a run have spent, in `TraceRecorder.now()` ticks (nanoseconds).
public struct StepTotals: Sendable {
    public var steps = 0
    /// Whole steps, start to update.
    public var ticks: UInt64 = 0
    /// Of those, the teacher's forward passes (or cache look-ups) of a distillation.
    public var teacherTicks: UInt64 = 0
    /// The teacher's share of the step time.
    public var teacherShare: Double { ticks > 0 ? Double(teacherTicks) / Double(ticks) : 0 }
}

/// When each phase of a step ended, in `TraceRecorder.now()` ticks.
public struct StepClock: Sendable {
    public var started: UInt64 = 0
    /// Forward and backward of every micro-batch done.
    public var backwardEnded: UInt64 = 0
    /// The gradients are the average over ranks.
    public var synchronized: UInt64 = 0
    public var updated: UInt64 = 0
    /// Time in the teacher during the step (ticks, not a moment: distillation only).
    public var teacherTicks: UInt64 = 0
}
