import Cohort

extension Dataset {
    /// A dataset from a CSV file read for training: its feature columns, and its target column
    /// as classes (by `classes`, or fitted on this file when nil) or as regression values.
    /// Returns the class encoding used (nil for regression).
    public static func table(_ columns: CSVColumns, task: Task, classes: ClassEncoding? = nil) throws -> (Dataset, ClassEncoding?) {
        let shape = [columns.featureNames.count]
        switch task {
        case .classification:
            let encoding = classes ?? ClassEncoding.fit(columns.targets)
            let labels = try encoding.encode(columns.targets, location: columns.location(ofTarget:))
            let dataset = try Dataset(float32: columns.features, sampleShape: shape, labels: labels, classCount: encoding.names.count,
                                      classNames: encoding.names, source: columns.path)
            return (dataset, encoding)
        case .regression:
            var values = [Float](repeating: 0, count: columns.rowCount)
            for (i, text) in columns.targets.enumerated() {
                guard let v = Float(text), v.isFinite else {
                    throw CohortError.invalid("\(columns.location(ofTarget: i)): target '\(text)' of column '\(columns.targetName)' is not a finite number (task: regression)")
                }
                values[i] = v
            }
            return (try Dataset(features: .float32(columns.features), sampleShape: shape, targets: values, source: columns.path), nil)
        }
    }

    /// A dataset from a features .npy `x` of shape [N, ...] (float32, float64 or uint8; uint8 stays
    /// bytes, normalised as pixels) and a targets .npy `y` of shape [N]: integer classes (their
    /// sorted distinct values, or `classes` when given), or real values for regression ([N, T] too).
    public static func arrays(x xPath: String, y yPath: String, task: Task, classes: ClassEncoding? = nil) throws -> (Dataset, ClassEncoding?) {
        let x = try NPYArray.read(path: xPath)
        let y = try NPYArray.read(path: yPath)
        guard let n = x.shape.first else {
            throw CohortError.invalid("\(xPath): a 0-d array is not a dataset (need shape [samples, ...])")
        }
        guard ["<f4", "<f8", "|u1", "<u1"].contains(x.dtype) else {
            throw CohortError.invalid("\(xPath): features of dtype '\(x.dtype)' are not supported; use float32 (<f4), float64 (<f8) or uint8 (|u1)")
        }
        guard y.shape.first == n else {
            throw CohortError.invalid("\(yPath): shape \(shapeString(y.shape)) gives \(y.shape.first ?? 0) targets, but \(xPath) has \(n) samples (shape \(shapeString(x.shape)))")
        }
        let shape = x.shape.count == 1 ? [1] : Array(x.shape.dropFirst())
        let features: SampleFeatures
        if case let .uint8(bytes) = x.values { features = .uint8(bytes) } else { features = .float32(try x.floats()) }
        switch task {
        case .classification:
            guard y.shape.count == 1 || (y.shape.count == 2 && y.shape[1] == 1) else {
                throw CohortError.invalid("\(yPath): class labels of shape \(shapeString(y.shape)); need [samples] or [samples, 1]")
            }
            let text = try y.labels().map { String($0) }
            let encoding = classes ?? ClassEncoding.fit(text)
            let labels = try encoding.encode(text) { "\(yPath): label at index \($0)" }
            let storage = try DatasetStorage(features: features, labels: labels, sampleShape: shape, classCount: encoding.names.count,
                                             classNames: encoding.names, source: xPath)
            return (Dataset(storage: storage), encoding)
        case .regression:
            let perSample = y.shape.count == 1 ? 1 : y.shape.dropFirst().reduce(1, *)
            return (try Dataset(features: features, sampleShape: shape, targets: try y.floats(), targetsPerSample: perSample, source: yPath), nil)
        }
    }
}
