import Cohort
import CohortData
import Foundation

/// The training, validation and test sets of a run, with their preparation.
public struct DataSplits {
    public let train: Dataset
    public let validation: Dataset?
    public let test: Dataset
    public let normalization: Normalization
    public let augmentation: Augmentation
    public let task: Task
    /// A CSV file's feature columns (in the order the model reads them) and target column.
    public let featureNames: [String]?
    public let targetName: String?
    public var classNames: [String]? { train.classNames }

    /// What a model trained on these splits takes and gives, saved with it.
    public var description: DataDescription {
        var bytes = false
        if case .uint8 = train.storage.features { bytes = true }
        return DataDescription(task: task, sampleShape: train.sampleShape, outputCount: train.outputCount, classNames: train.classNames,
                               normalization: normalization, byteFeatures: bytes, featureNames: featureNames, targetName: targetName)
    }

    /// Reads the config's files (or named data set) on this rank. `saved`, the description a
    /// checkpoint was trained with, fixes the classes and the normalisation instead of deriving
    /// them from the training split again.
    public static func load(_ config: DataConfig, task: Task, seed: UInt64, saved: DataDescription? = nil) throws -> DataSplits {
        let savedClasses = saved?.classNames.map(ClassEncoding.init(names:))
        let (full, test, columns) = try read(config, task: task, classes: savedClasses, seed: seed)
        if config.isNamedDataset && task == .regression {
            throw CohortError.invalid("task: regression needs real-valued targets; \(config.dataset) has classes")
        }
        guard test.sampleShape == full.sampleShape else {
            throw CohortError.invalid("data.test: samples of shape \(shapeString(test.sampleShape)), but the training samples are \(shapeString(full.sampleShape))")
        }
        guard test.outputCount == full.outputCount else {
            throw CohortError.invalid("data.test: \(test.outputCount) targets per sample, but the training data has \(full.outputCount)")
        }
        guard config.validation < full.count else {
            throw CohortError.invalid("data.validation: \(config.validation) held out of \(full.count) training examples leaves none to train on")
        }
        var train = full, validation: Dataset?
        if config.validation > 0 { (train, validation) = try full.split(validationCount: config.validation, seed: seed) }
        if config.trainLimit > 0 && config.trainLimit < train.count { train = try train.subset(Array(0..<config.trainLimit)) }

        let normalization: Normalization
        if let saved {
            normalization = saved.normalization
        } else {
            switch config.normalization {
            case let .fixed(n): normalization = n
            case .standardize: normalization = .standardizing(train, per: train.sampleShape.count >= 2 ? .channel : .feature)
            case .none: normalization = .identity
            }
        }
        var augmentation = Augmentation()
        augmentation.maxShift = config.augment.shift
        augmentation.horizontalFlipProbability = config.augment.flip
        augmentation.noiseStd = config.augment.noise
        return DataSplits(train: train, validation: validation, test: test, normalization: normalization, augmentation: augmentation,
                          task: task, featureNames: columns?.features, targetName: columns?.target)
    }

    /// The training set (before the validation split) and the test set, as the config lays them out.
    private static func read(_ config: DataConfig, task: Task, classes: ClassEncoding?,
                             seed: UInt64) throws -> (Dataset, Dataset, (features: [String], target: String)?) {
        if config.isNamedDataset {
            let (train, test) = try FashionMNIST.load(directory: config.directory,
                                                      classNames: config.dataset == "mnist" ? (0..<10).map(String.init) : FashionMNIST.classNames)
            return (train, test, nil)
        }
        var columns: (features: [String], target: String)?
        func part(_ files: DataFiles, classes: ClassEncoding?, classCount: Int? = nil) throws -> (Dataset, ClassEncoding?) {
            switch files {
            case let .file(path):
                // The test file is read by the training file's column names, whatever its column order.
                let table = try CSVReader.readColumns(path: path, target: config.label ?? columns?.target,
                                                      features: config.features ?? columns?.features)
                if columns == nil { columns = (table.featureNames, table.targetName) }
                return try Dataset.table(table, task: task, classes: classes)
            case let .arrays(x, y):
                return try Dataset.arrays(x: x, y: y, task: task, classes: classes)
            case let .images(images, labels):
                guard task == .classification else { throw CohortError.invalid("task: regression needs real-valued targets; IDX labels are classes") }
                let dataset = try Dataset.idx(images: images, labels: labels, classCount: classCount)
                return (dataset, nil)
            }
        }
        let (train, encoding) = try part(config.train!, classes: classes)
        if let testFiles = config.test {
            return (train, try part(testFiles, classes: encoding, classCount: train.classCount).0, columns)
        }
        // One file for both: test_fraction of it, drawn from the seed, is the test set.
        let (rest, test) = try train.split(heldOut: Int((config.testFraction! * Double(train.count)).rounded()), seed: seed,
                                           purpose: "test-split")
        return (rest, test, columns)
    }
}

/// What a model was trained on, saved with it (checkpoint metadata "data") so that evaluation and
/// prediction prepare inputs exactly as training did and name its classes.
public struct DataDescription: Codable, Sendable, Equatable {
    public var task: Task
    /// One input's shape, e.g. [1, 28, 28] or [13].
    public var sampleShape: [Int]
    /// Classes, or regression targets per sample.
    public var outputCount: Int
    public var classNames: [String]?
    public var normalization: Normalization
    /// Whether inputs are bytes (pixels, divided by 255 before the normalisation).
    public var byteFeatures: Bool
    /// A CSV file's feature columns, in the order the model reads them, and its target column.
    public var featureNames: [String]?
    public var targetName: String?
}

extension DataDescription {
    /// The metadata text ("data" in checkpoints and model files).
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
