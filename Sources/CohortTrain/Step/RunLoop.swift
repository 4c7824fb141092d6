import Cohort
import CohortDistributed

/// One step as a `StepSource` hands it out: which examples, which randomness, where in the run.
public struct PlannedStep: Sendable {
    /// This rank's examples (positions in the loader's dataset): micro-batches x batch size of them.
    public var positions: ArraySlice<Int>
    /// The randomness stream of the step's first micro-batch (`TrainingStep.run`).
    public var stream: UInt64
    /// 1-based, for messages, the watchdog and fault injection (this rank's own count in Hogwild).
    public var number: Int
    /// The step the learning-rate schedule is read at (0-based; in Hogwild the node's global step).
    public var scheduleStep: Int
    /// Where in the epochs the step is, for sources that have epochs (`EpochSteps`); nil for those
    /// that take batches at their own pace (Hogwild, the bench).
    public var place: EpochPlace?

    public init(positions: ArraySlice<Int>, stream: UInt64, number: Int, scheduleStep: Int, place: EpochPlace? = nil) {
        self.positions = positions
        self.stream = stream
        self.number = number
        self.scheduleStep = scheduleStep
        self.place = place
    }
}

/// A step's pass over the data, its place in the pass, and whether it is the pass's last step.
public struct EpochPlace: Sendable, Equatable {
    public var epoch: Int
    public var batch: Int
    public var isLast: Bool

    public init(epoch: Int, batch: Int, isLast: Bool) {
        self.epoch = epoch
        self.batch = batch
        self.isLast = isLast
    }
}

/// Where a run loop's steps come from, and when there are no more: epochs of a sampler
/// (`EpochSteps`), a fixed count (`FixedSteps`, the bench), Hogwild's shared update counter.
public protocol StepSource: AnyObject {
    /// The next step, or nil when the run has none left.
    func next() throws -> PlannedStep?
}

/// What an observer tells the loop after a step.
public enum LoopControl: Sendable {
    case proceed
    /// End the loop now (early stopping); the steps left are not taken.
    case stop
}

/// One part of the path after every step: telemetry, checkpoints, evaluation, stop agreement.
public protocol StepObserver: AnyObject {
    /// Called after each step, applied or skipped, with the rate it ran at.
    func stepFinished(_ step: PlannedStep, _ outcome: TrainingStep.Outcome, learningRate: Float) throws -> LoopControl
}

/// The run loop every training in Cohort goes through (`cohort train` sync and Hogwild, `cohort
/// distill`'s stages and its generator, `cohort bench train`), and the one a user's own program
/// can drive: take the source's next step, run it at the schedule's rate, apply the skip policy,
/// then hand the outcome to each observer in order.
///
///     let loop = RunLoop(step: step, source: EpochSteps(...), learningRate: { plan.learningRate(at: $0) })
///     loop.observers = [myLogger]
///     try loop.run()
public final class RunLoop {
    public let step: TrainingStep
    public let source: StepSource
    /// The rate of a step, by its `scheduleStep`.
    public let learningRate: (Int) -> Float
    public var observers: [StepObserver] = []
    /// With `non_finite: skip`: the run ends with an error once this many steps in a row were
    /// skipped (nil: never). Every rank sees the same averaged gradients, so every rank stops at
    /// the same step.
    public var maxSkippedInARow: Int?
    /// Told of every step before it runs, so a stalled rank is noticed.
    public var watchdog: Watchdog?
    public private(set) var skippedInARow = 0

    public init(step: TrainingStep, source: StepSource, learningRate: @escaping (Int) -> Float) {
        self.step = step
        self.source = source
        self.learningRate = learningRate
    }

    /// Runs until the source has no step left or an observer says stop.
    public func run() throws {
        while let planned = try source.next() {
            watchdog?.beat(step: planned.number)
            let rate = learningRate(planned.scheduleStep)
            let outcome = try step.run(positions: planned.positions, stream: planned.stream, number: planned.number, learningRate: rate)
            if outcome.applied {
                skippedInARow = 0
            } else {
                skippedInARow += 1
                if let limit = maxSkippedInARow, skippedInARow >= limit {
                    throw CohortError.invalid("step \(planned.number): \(skippedInARow) steps in a row had a NaN/Inf loss or gradient and were skipped (training.max_skipped is \(limit)); the weights are not recovering: lower optimizer.lr or set training.clip_norm")
                }
            }
            for observer in observers where try observer.stepFinished(planned, outcome, learningRate: rate) == .stop { return }
        }
    }
}
