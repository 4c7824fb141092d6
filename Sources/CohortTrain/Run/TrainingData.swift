import Cohort
import CohortData
import CohortDistributed

/// The data side of a run: the splits, the set this rank trains on, its order and its batches.
public final class TrainingData {
    public let splits: DataSplits
    /// What the steps draw from and how batches are prepared: the training split, a distillation
    /// transfer set, or the scratch student's copy of it.
    public let input: TrainingInput
    public var trainSet: Dataset { input.examples }
    /// Every rank's shard of every epoch (PyTorch's DistributedSampler).
    public let sampler: DistributedSampler
    /// Converts this rank's batches into the tensor the network reads (its buffers are reused).
    public let loader: BatchLoader
    /// Examples per micro-batch on this rank (`training.batch_size`, per rank as in DDP and Horovod).
    public let batchSize: Int
    /// Micro-batches per optimizer step (`training.accumulate`).
    public let microBatches: Int
    public let stepsPerEpoch: Int
    public let totalSteps: Int

    init(config: RunConfig, splits: DataSplits, input: TrainingInput, communicator comm: Communicator) throws {
        let t = config.training
        self.splits = splits
        self.input = input
        let trainSet = input.examples
        batchSize = t.batchSize
        microBatches = t.accumulate
        sampler = try DistributedSampler(count: trainSet.count, rank: comm.rank, worldSize: comm.size, seed: config.seed,
                                         shuffle: true, dropLast: false)
        stepsPerEpoch = sampler.samplesPerRank / (batchSize * microBatches)
        guard stepsPerEpoch > 0 else {
            throw CohortError.invalid("training.batch_size: \(t.batchSize) is larger than the \(trainSet.count) training examples")
        }
        totalSteps = t.maxSteps > 0 ? min(t.maxSteps, stepsPerEpoch * t.epochs) : stepsPerEpoch * t.epochs
        loader = try BatchLoader(dataset: trainSet, batchSize: batchSize, normalization: splits.normalization,
                                 augmentation: input.augmentation)
    }
}
