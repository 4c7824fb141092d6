import Cohort
import CohortData

/// Synchronous epochs (`cohort train` in sync mode, distillation stages, the generator): each
/// epoch is one order of the sampler, cut into steps of `examplesPerStep` of this rank's
/// examples; the run ends after `epochs` epochs or `totalSteps` steps. Step s of every rank draws
/// its randomness from stream (s << 16 | rank) x 64, so a resumed run draws what it would have.
public final class EpochSteps: StepSource {
    public let sampler: DistributedSampler
    public let examplesPerStep: Int
    public let stepsPerEpoch: Int
    public let epochs: Int
    public let totalSteps: Int
    /// The next step's number (0-based), epoch and place in it.
    public private(set) var step: Int, epoch: Int, batchInEpoch: Int
    private var order: [Int] = []
    private var orderEpoch = -1

    /// `start`: where a resumed run goes on (its checkpoint's step, epoch and batch in the epoch).
    public init(sampler: DistributedSampler, examplesPerStep: Int, epochs: Int, totalSteps: Int? = nil,
                start: (step: Int, epoch: Int, batchInEpoch: Int) = (0, 0, 0)) throws {
        self.sampler = sampler
        self.examplesPerStep = examplesPerStep
        stepsPerEpoch = sampler.samplesPerRank / examplesPerStep
        guard stepsPerEpoch > 0 else {
            throw CohortError.invalid("a step of \(examplesPerStep) examples is larger than the \(sampler.samplesPerRank) examples of a rank")
        }
        self.epochs = epochs
        self.totalSteps = totalSteps ?? stepsPerEpoch * epochs
        (step, epoch, batchInEpoch) = start
    }

    public func next() -> PlannedStep? {
        if batchInEpoch >= stepsPerEpoch {
            epoch += 1
            batchInEpoch = 0
        }
        guard epoch < epochs && step < totalSteps else { return nil }
        if orderEpoch != epoch {
            order = sampler.indices(epoch: epoch)
            orderEpoch = epoch
        }
        let first = batchInEpoch * examplesPerStep
        defer {
            step += 1
            batchInEpoch += 1
        }
        return PlannedStep(positions: order[first..<(first + examplesPerStep)], stream: (UInt64(step) << 16 | UInt64(sampler.rank)) &* 64,
                           number: step + 1, scheduleStep: step,
                           place: EpochPlace(epoch: epoch, batch: batchInEpoch, isLast: batchInEpoch + 1 == stepsPerEpoch))
    }
}

/// A rank's place in its sampler's epochs when it takes batches at its own pace (Hogwild, the
/// bench): a batch that would run past the epoch's end starts the next epoch, whose order is new.
public struct SamplerCursor: Sendable {
    public let sampler: DistributedSampler
    public let batch: Int
    public private(set) var epoch: Int
    /// The first position of the next batch in this epoch's order.
    public private(set) var position: Int
    private var order: [Int]

    public init(sampler: DistributedSampler, batch: Int, epoch: Int = 0, position: Int = 0) {
        self.sampler = sampler
        self.batch = batch
        self.epoch = epoch
        self.position = position
        order = sampler.indices(epoch: epoch)
    }

    /// The next batch's positions.
    public mutating func take() -> ArraySlice<Int> {
        if position + batch > order.count {
            epoch += 1
            order = sampler.indices(epoch: epoch)  // disjoint shards, a new order every pass
            position = 0
        }
        defer { position += batch }
        return order[position..<(position + batch)]
    }
}

/// A fixed number of steps through a sampler's epochs (`cohort bench train`): step s (0-based)
/// draws stream s and is read at schedule step s.
public final class FixedSteps: StepSource {
    public let count: Int
    public private(set) var taken = 0
    private var cursor: SamplerCursor

    public init(sampler: DistributedSampler, batch: Int, count: Int) {
        self.count = count
        cursor = SamplerCursor(sampler: sampler, batch: batch)
    }

    public func next() -> PlannedStep? {
        guard taken < count else { return nil }
        let positions = cursor.take()
        defer { taken += 1 }
        return PlannedStep(positions: positions, stream: UInt64(taken), number: taken + 1, scheduleStep: taken)
    }
}
