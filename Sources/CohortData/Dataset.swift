import Cohort

/// The features of every sample of a dataset, stored compactly and shared by all its subsets.
public enum SampleFeatures: Sendable {
    /// Raw pixels (IDX, uint8 .npy): one byte per value, normalised while batching.
    case uint8([UInt8])
    /// Real-valued features (CSV, float .npy).
    case float32([Float])

    /// Number of stored values.
    public var count: Int {
        switch self {
        case let .uint8(values): return values.count
        case let .float32(values): return values.count
        }
    }
}

/// What a model learns to give for each sample.
public enum SampleTargets: Sendable {
    /// One class index per sample, in 0..<classCount (classification).
    case classes([Int32])
    /// `perSample` real values per sample, row-major (regression).
    case values([Float], perSample: Int)
}

/// Everything a dataset and its subsets share: the samples, their targets, their shape.
/// Immutable, so subsets and batch loaders on several threads may read it freely.
public final class DatasetStorage: Sendable {
    /// Row-major features: sample i occupies values i*valuesPerSample ..< (i+1)*valuesPerSample.
    public let features: SampleFeatures
    public let targets: SampleTargets
    /// One label per sample, each in 0..<classCount (empty for a regression dataset).
    public let labels: [Int32]
    /// The shape of one sample, e.g. [1, 28, 28] for a grey image or [13] for a table row.
    public let sampleShape: [Int]
    /// Values per sample: the product of `sampleShape`.
    public let valuesPerSample: Int
    /// Classes of a classification dataset (0 for regression).
    public let classCount: Int
    /// Optional class names, `classCount` of them.
    public let classNames: [String]?
    /// Values a model outputs per sample: the class count, or the regression targets per sample.
    public var outputCount: Int {
        switch targets {
        case .classes: return classCount
        case let .values(_, perSample): return perSample
        }
    }
    public var isRegression: Bool {
        if case .values = targets { return true }
        return false
    }
    public var sampleCount: Int {
        switch targets {
        case let .classes(labels): return labels.count
        case let .values(values, perSample): return values.count / perSample
        }
    }

    /// A regression dataset: `perSample` finite target values per sample.
    init(features: SampleFeatures, targets values: [Float], perSample: Int, sampleShape: [Int], source: String) throws {
        guard perSample > 0, values.count % perSample == 0 else {
            throw CohortError.invalid("\(source): \(values.count) target values are not whole samples of \(perSample)")
        }
        if let i = values.firstIndex(where: { !$0.isFinite }) {
            throw CohortError.invalid("\(source): target \(values[i]) of sample \(i / perSample) is not finite")
        }
        try Self.checkFeatures(features, samples: values.count / perSample, sampleShape: sampleShape, source: source)
        self.features = features
        targets = .values(values, perSample: perSample)
        labels = []
        self.sampleShape = sampleShape
        valuesPerSample = sampleShape.reduce(1, *)
        classCount = 0
        classNames = nil
    }

    static func checkFeatures(_ features: SampleFeatures, samples: Int, sampleShape: [Int], source: String) throws {
        guard !sampleShape.isEmpty, sampleShape.allSatisfy({ $0 > 0 }) else {
            throw CohortError.invalid("\(source): sample shape \(shapeString(sampleShape)) must have positive dimensions")
        }
        let perSample = sampleShape.reduce(1, *)
        guard samples > 0 else { throw CohortError.invalid("\(source): dataset has no samples") }
        guard features.count == samples * perSample else {
            throw CohortError.invalid("\(source): \(features.count) feature values for \(samples) labels of shape \(shapeString(sampleShape)) (need \(samples * perSample))")
        }
    }

    init(features: SampleFeatures, labels: [Int32], sampleShape: [Int], classCount: Int?,
         classNames: [String]?, source: String) throws {
        try Self.checkFeatures(features, samples: labels.count, sampleShape: sampleShape, source: source)
        let perSample = sampleShape.reduce(1, *)
        var largest: Int32 = 0
        for (i, label) in labels.enumerated() {
            if label < 0 { throw CohortError.invalid("\(source): label \(label) of sample \(i) is negative") }
            largest = max(largest, label)
        }
        let classes = classCount ?? (Int(largest) + 1)
        guard Int(largest) < classes else {
            let i = labels.firstIndex(where: { Int($0) >= classes })!
            throw CohortError.invalid("\(source): label \(labels[i]) of sample \(i) is outside 0..<\(classes)")
        }
        if let classNames, classNames.count != classes {
            throw CohortError.invalid("\(source): \(classNames.count) class names for \(classes) classes")
        }
        self.features = features
        targets = .classes(labels)
        self.labels = labels
        self.sampleShape = sampleShape
        valuesPerSample = perSample
        self.classCount = classes
        self.classNames = classNames
    }
}

/// A labelled dataset (classes, or real targets for regression): a view of `storage`, either all
/// of it or the samples listed in `rows`. Subsets (validation splits) are index lists over the same storage, never copies.
public struct Dataset: Sendable {
    public let storage: DatasetStorage
    /// Storage rows of this view's samples in order, or nil for all rows in storage order.
    public let rows: [Int]?

    /// A dataset over `storage`, or over the listed storage `rows`.
    public init(storage: DatasetStorage, rows: [Int]? = nil) {
        self.storage = storage
        self.rows = rows
    }

    /// A dataset of byte-valued samples (pixels): `features` holds labels.count * product(sampleShape) bytes.
    /// `classCount` defaults to the largest label + 1. `source` names the data in error messages.
    public init(uint8 features: [UInt8], sampleShape: [Int], labels: [Int32], classCount: Int? = nil,
                classNames: [String]? = nil, source: String = "dataset") throws {
        self.init(storage: try DatasetStorage(features: .uint8(features), labels: labels, sampleShape: sampleShape,
                                              classCount: classCount, classNames: classNames, source: source))
    }

    /// A regression dataset: `targets` holds `targetsPerSample` real values per sample.
    public init(features: SampleFeatures, sampleShape: [Int], targets: [Float], targetsPerSample: Int = 1,
                source: String = "dataset") throws {
        self.init(storage: try DatasetStorage(features: features, targets: targets, perSample: targetsPerSample,
                                              sampleShape: sampleShape, source: source))
    }

    /// A dataset of real-valued samples: `features` holds labels.count * product(sampleShape) floats.
    public init(float32 features: [Float], sampleShape: [Int], labels: [Int32], classCount: Int? = nil,
                classNames: [String]? = nil, source: String = "dataset") throws {
        self.init(storage: try DatasetStorage(features: .float32(features), labels: labels, sampleShape: sampleShape,
                                              classCount: classCount, classNames: classNames, source: source))
    }

    /// Number of samples in this view.
    public var count: Int { rows?.count ?? storage.sampleCount }
    public var sampleShape: [Int] { storage.sampleShape }
    public var classCount: Int { storage.classCount }
    public var classNames: [String]? { storage.classNames }
    public var outputCount: Int { storage.outputCount }
    public var isRegression: Bool { storage.isRegression }
    public var valuesPerSample: Int { storage.valuesPerSample }

    /// The storage row holding sample `i` of this view.
    @inline(__always)
    public func storageRow(_ i: Int) -> Int { rows?[i] ?? i }

    /// The label of sample `i`.
    public func label(_ i: Int) -> Int32 { storage.labels[storageRow(i)] }

    /// The class labels of this view's samples, in order (none for a regression dataset).
    public var labels: [Int32] {
        guard let rows, !isRegression else { return storage.labels }
        return rows.map { storage.labels[$0] }
    }

    /// Samples per class, `classCount` entries.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: classCount)
        for i in 0..<count { counts[Int(label(i))] += 1 }
        return counts
    }

    /// Sample `i`'s raw values as floats (bytes not normalised); for tests and small tools.
    public func rawValues(_ i: Int) -> [Float] {
        let n = valuesPerSample, start = storageRow(i) * n
        switch storage.features {
        case let .uint8(values): return values[start..<start + n].map(Float.init)
        case let .float32(values): return Array(values[start..<start + n])
        }
    }

    /// The samples at `positions` of this view, sharing storage.
    public func subset(_ positions: [Int]) throws -> Dataset {
        let n = count
        if let bad = positions.first(where: { $0 < 0 || $0 >= n }) {
            throw CohortError.invalid("subset: position \(bad) outside 0..<\(n)")
        }
        return Dataset(storage: storage, rows: positions.map(storageRow))
    }
}
