import Cohort
import CohortData

/// Where the examples come from and how they are prepared (the `data:` section).
///
///     data: {dataset: fashion-mnist}                                   # a named IDX data set (the default)
///     data: {format: csv, train: my/train.csv, test: my/test.csv, label: species}
///     data: {format: csv, train: all.csv, test_fraction: 0.2, features: [a, b, c]}
///     data: {format: npy, train: {x: tx.npy, y: ty.npy}, test: {x: vx.npy, y: vy.npy}}
///     data: {format: idx, train: {images: a.idx.gz, labels: b.idx.gz}, test: {...}}
public struct DataConfig: Codable, Sendable, Equatable {
    public var format: DataFormat = .idx
    /// A named IDX data set in `directory` (fashion-mnist or mnist: the MNIST file names), used when
    /// format is idx and no `train` files are given.
    public var dataset: String = "fashion-mnist"
    public var directory: String = FashionMNIST.defaultDirectory
    /// The training file(s) and the test file(s) (without `test`, `test_fraction` of `train` is held out).
    public var train: DataFiles?
    public var test: DataFiles?
    public var testFraction: Double?
    /// CSV: the target column (default: the last) and the feature columns (default: every other one).
    public var label: String?
    public var features: [String]?
    /// Examples of the training set held out for validation (early stopping, plateau schedules,
    /// the best checkpoint): 5000 by default for a named data set, none otherwise.
    public var validation: Int = 5000
    /// Train on only the first this many examples (after the validation split; 0: all). For quick runs and tests.
    public var trainLimit: Int = 0
    public var normalization: NormalizationChoice = .fixed(Normalization.fashionMNIST)
    public var augment: AugmentConfig = AugmentConfig()

    public var isNamedDataset: Bool { format == .idx && train == nil }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case format, dataset, directory, train, test, testFraction = "test_fraction", label, features, validation
        case trainLimit = "train_limit", mean, std, standardize, augment
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        try rejectUnknownKeys(decoder, known: Set(CodingKeys.allKeys))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        format = try c.decodeIfPresent(DataFormat.self, forKey: .format) ?? .idx
        dataset = try c.decodeIfPresent(String.self, forKey: .dataset) ?? dataset
        directory = try c.decodeIfPresent(String.self, forKey: .directory) ?? directory
        train = try c.decodeIfPresent(DataFiles.self, forKey: .train)
        test = try c.decodeIfPresent(DataFiles.self, forKey: .test)
        testFraction = try c.decodeIfPresent(Double.self, forKey: .testFraction)
        label = try c.decodeIfPresent(String.self, forKey: .label)
        features = try c.decodeIfPresent([String].self, forKey: .features)
        validation = try c.decodeIfPresent(Int.self, forKey: .validation) ?? (isNamedDataset ? 5000 : 0)
        trainLimit = try c.decodeIfPresent(Int.self, forKey: .trainLimit) ?? 0
        augment = try c.decodeIfPresent(AugmentConfig.self, forKey: .augment) ?? augment
        func fail(_ key: CodingKeys, _ why: String) -> DecodingError { DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: why) }

        if trainLimit < 0 { throw fail(.trainLimit, "must be non-negative, got \(trainLimit)") }
        if validation < 0 { throw fail(.validation, "must be non-negative, got \(validation)") }
        if isNamedDataset {
            guard ["fashion-mnist", "mnist"].contains(dataset) else {
                throw fail(.dataset, "unknown dataset '\(dataset)' (known: fashion-mnist, mnist; or give format and train files)")
            }
        } else {
            guard let train else { throw DecodingError.keyNotFound(CodingKeys.train, .init(codingPath: c.codingPath, debugDescription: "format \(format.rawValue) needs the training file(s)")) }
            try train.check(format, key: .train, c)
            try test?.check(format, key: .test, c)
        }
        if let f = testFraction {
            guard !isNamedDataset, test == nil else { throw fail(.testFraction, "holds a part of `train` out for testing: give either test or test_fraction, with train files") }
            guard f > 0 && f < 1 else { throw fail(.testFraction, "must be strictly between 0 and 1, got \(f)") }
        } else if !isNamedDataset && test == nil {
            throw DecodingError.keyNotFound(CodingKeys.test, .init(codingPath: c.codingPath, debugDescription: "give the test file(s), or test_fraction to hold part of train out"))
        }
        if format != .csv {
            if label != nil { throw fail(.label, "names a CSV column; format is \(format.rawValue)") }
            if features != nil { throw fail(.features, "names CSV columns; format is \(format.rawValue)") }
        }
        if let features, features.isEmpty { throw fail(.features, "list at least one column") }

        // mean and std fix the normalisation; otherwise named data sets use Fashion-MNIST's
        // statistics, and files are standardised on their training split (standardize: false: not at all).
        let mean = try c.decodeIfPresent(Float.self, forKey: .mean), std = try c.decodeIfPresent(Float.self, forKey: .std)
        let standardize = try c.decodeIfPresent(Bool.self, forKey: .standardize)
        if standardize != nil && (mean != nil || std != nil) { throw fail(.standardize, "give either mean and std, or standardize") }
        switch (mean, std) {
        case let (m?, s?):
            guard s > 0 && s.isFinite else { throw fail(.std, "must be positive, got \(s)") }
            guard m.isFinite else { throw fail(.mean, "must be a finite number, got \(m)") }
            normalization = .fixed(Normalization(mean: m, std: s))
        case (nil, nil):
            switch standardize {
            case true?: normalization = .standardize
            case false?: normalization = .none
            case nil: normalization = isNamedDataset ? .fixed(.fashionMNIST) : .standardize
            }
        default:
            throw fail(mean == nil ? .mean : .std, "mean and std go together")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(format, forKey: .format)
        if isNamedDataset {
            try c.encode(dataset, forKey: .dataset)
            try c.encode(directory, forKey: .directory)
        }
        try c.encodeIfPresent(train, forKey: .train)
        try c.encodeIfPresent(test, forKey: .test)
        try c.encodeIfPresent(testFraction, forKey: .testFraction)
        try c.encodeIfPresent(label, forKey: .label)
        try c.encodeIfPresent(features, forKey: .features)
        try c.encode(validation, forKey: .validation)
        try c.encode(trainLimit, forKey: .trainLimit)
        switch normalization {
        case let .fixed(n):
            try c.encode(n.mean[0], forKey: .mean)
            try c.encode(n.std[0], forKey: .std)
        case .standardize: try c.encode(true, forKey: .standardize)
        case .none: try c.encode(false, forKey: .standardize)
        }
        try c.encode(augment, forKey: .augment)
    }
}

/// How the data files are laid out (`data.format`).
public enum DataFormat: String, ConfigChoice {
    /// MNIST-style IDX files (plain or gzip): images [N, H, W] bytes and labels [N].
    case idx
    /// A CSV file with a header row: feature columns and one target column.
    case csv
    /// NumPy .npy arrays: features x [N, ...] and targets y [N].
    case npy
}

/// Where a split's data is: one CSV file, an x/y pair of .npy arrays, or an images/labels pair of IDX files.
public enum DataFiles: Codable, Sendable, Equatable {
    case file(String)
    case arrays(x: String, y: String)
    case images(images: String, labels: String)

    enum Keys: String, CodingKey, CaseIterable { case x, y, images, labels }

    public init(from decoder: Decoder) throws {
        if let path = try? decoder.singleValueContainer().decode(String.self) {
            self = .file(path)
            return
        }
        try rejectUnknownKeys(decoder, known: Set(Keys.allKeys))
        let c = try decoder.container(keyedBy: Keys.self)
        if c.contains(.x) || c.contains(.y) {
            self = .arrays(x: try c.decode(String.self, forKey: .x), y: try c.decode(String.self, forKey: .y))
        } else {
            self = .images(images: try c.decode(String.self, forKey: .images), labels: try c.decode(String.self, forKey: .labels))
        }
    }

    public func encode(to encoder: Encoder) throws {
        switch self {
        case let .file(path):
            var c = encoder.singleValueContainer()
            try c.encode(path)
        case let .arrays(x, y):
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(x, forKey: .x)
            try c.encode(y, forKey: .y)
        case let .images(images, labels):
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(images, forKey: .images)
            try c.encode(labels, forKey: .labels)
        }
    }

    /// The layout `format` reads, or a decoding error at `key`.
    func check<K: CodingKey>(_ format: DataFormat, key: K, _ c: KeyedDecodingContainer<K>) throws {
        let fits: Bool, want: String
        switch (format, self) {
        case (.csv, .file): (fits, want) = (true, "")
        case (.npy, .arrays): (fits, want) = (true, "")
        case (.idx, .images): (fits, want) = (true, "")
        case (.csv, _): (fits, want) = (false, "one CSV file path")
        case (.npy, _): (fits, want) = (false, "{x: features.npy, y: targets.npy}")
        case (.idx, _): (fits, want) = (false, "{images: FILE, labels: FILE}")
        }
        if !fits { throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "format \(format.rawValue) reads \(want)") }
    }
}

/// How inputs are normalised: fixed statistics, statistics computed on the training split
/// (per feature of a table, per channel of an image), or not at all.
public enum NormalizationChoice: Sendable, Equatable {
    case fixed(Normalization)
    case standardize
    case none
}

/// Augmentation applied per batch: shifts of up to `shift` pixels, flips with probability `flip`,
/// Gaussian noise of standard deviation `noise` (in normalised units).
public struct AugmentConfig: Codable, Sendable, Equatable {
    public var shift: Int = 0
    public var flip: Float = 0
    public var noise: Float = 0

    enum CodingKeys: String, CodingKey, CaseIterable { case shift, flip, noise }

    public init() {}

    public init(from decoder: Decoder) throws {
        try rejectUnknownKeys(decoder, known: Set(CodingKeys.allKeys))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        shift = try c.decodeIfPresent(Int.self, forKey: .shift) ?? 0
        flip = try c.decodeIfPresent(Float.self, forKey: .flip) ?? 0
        noise = try c.decodeIfPresent(Float.self, forKey: .noise) ?? 0
        if shift < 0 { throw DecodingError.dataCorruptedError(forKey: .shift, in: c, debugDescription: "must be non-negative, got \(shift)") }
        if !(flip >= 0 && flip <= 1) { throw DecodingError.dataCorruptedError(forKey: .flip, in: c, debugDescription: "must be in [0, 1], got \(flip)") }
        if !(noise >= 0) { throw DecodingError.dataCorruptedError(forKey: .noise, in: c, debugDescription: "must be non-negative, got \(noise)") }
    }
}
