import Cohort

extension Dataset {
    /// A dataset from a features .npy of shape [N, ...] and a labels .npy of shape [N] (or [N, 1]).
    ///
    /// `|u1` features stay bytes (pixels, normalised as x/255 while batching); other dtypes become
    /// Float32. `sampleShape` defaults to the features' shape without its first dimension ([1] for
    /// a 1-D array) and may reshape it, e.g. [1, 28, 28] for [N, 784]. Labels need an integer dtype.
    public static func npy(features featuresPath: String, labels labelsPath: String, sampleShape: [Int]? = nil,
                           classCount: Int? = nil, classNames: [String]? = nil) throws -> Dataset {
        let features = try NPYArray.read(path: featuresPath)
        let labels = try NPYArray.read(path: labelsPath)
        guard let n = features.shape.first else {
            throw CohortError.invalid("\(featuresPath): a 0-d array is not a dataset (need shape [samples, ...])")
        }
        guard labels.shape.count == 1 || (labels.shape.count == 2 && labels.shape[1] == 1) else {
            throw CohortError.invalid("\(labelsPath): labels of shape \(shapeString(labels.shape)); need [samples] or [samples, 1]")
        }
        guard labels.shape[0] == n else {
            throw CohortError.invalid("\(labelsPath): \(labels.shape[0]) labels but \(featuresPath) has \(n) samples")
        }
        let natural = features.shape.count == 1 ? [1] : Array(features.shape.dropFirst())
        let shape = sampleShape ?? natural
        guard shape.reduce(1, *) == natural.reduce(1, *) else {
            throw CohortError.invalid("\(featuresPath): sample shape \(shapeString(shape)) does not hold the \(natural.reduce(1, *)) values of each sample \(shapeString(natural))")
        }
        let labelValues = try labels.labels()
        if case let .uint8(bytes) = features.values {
            return try Dataset(uint8: bytes, sampleShape: shape, labels: labelValues, classCount: classCount,
                               classNames: classNames, source: labelsPath)
        }
        return try Dataset(float32: features.floats(), sampleShape: shape, labels: labelValues, classCount: classCount,
                           classNames: classNames, source: labelsPath)
    }
}
