import Cohort
import CohortData

/// The training, validation and test sets of a run, with their preparation.
public struct DataSplits {
    public let train: Dataset
    public let validation: Dataset?
    public let test: Dataset
    public let normalization: Normalization
    public let augmentation: Augmentation
    public var classNames: [String]? { train.classNames }

    public static func load(_ config: DataConfig, seed: UInt64) throws -> DataSplits {
        let (full, test) = try FashionMNIST.load(directory: config.directory)
        let normalization = Normalization(mean: config.mean, std: config.std)
        var augmentation = Augmentation()
        augmentation.maxShift = config.augment.shift
        augmentation.horizontalFlipProbability = config.augment.flip
        augmentation.noiseStd = config.augment.noise
        guard config.validation < full.count else {
            throw CohortError.invalid("data.validation: \(config.validation) held out of \(full.count) training examples leaves none to train on")
        }
        var train = full, validation: Dataset?
        if config.validation > 0 { (train, validation) = try full.split(validationCount: config.validation, seed: seed) }
        if config.trainLimit > 0 && config.trainLimit < train.count { train = try train.subset(Array(0..<config.trainLimit)) }
        return DataSplits(train: train, validation: validation, test: test, normalization: normalization, augmentation: augmentation)
    }
}
