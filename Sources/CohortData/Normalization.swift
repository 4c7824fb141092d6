import Cohort

/// Input standardisation applied while batching: a value becomes (x/255 - mean) / std for byte
/// features (pixels), (x - mean) / std for float features, with one statistic for every value,
/// one per channel of an image sample ([C, H, W]: axis 0), or one per feature of a flat sample.
/// Training computes it on its training split (`standardizing`) or takes it from the config, and
/// saves it with the model, so evaluation and prediction prepare inputs exactly as training did.
public struct Normalization: Sendable, Equatable, Codable {
    /// 1, the channel count, or the feature count values.
    public let mean: [Float]
    public let std: [Float]

    /// One mean and standard deviation for every value.
    public init(mean: Float, std: Float) {
        self.mean = [mean]
        self.std = [std]
    }

    public init(mean: [Float], std: [Float]) throws {
        guard !mean.isEmpty, mean.count == std.count else {
            throw CohortError.invalid("normalisation: \(mean.count) means for \(std.count) standard deviations")
        }
        if let i = std.indices.first(where: { !(std[$0] > 0 && std[$0].isFinite && mean[$0].isFinite) }) {
            throw CohortError.invalid("normalisation: mean \(mean[i]), std \(std[i]) at \(i): std must be positive and both finite")
        }
        self.mean = mean
        self.std = std
    }

    /// No shift or scaling (bytes still become x/255).
    public static let identity = Normalization(mean: 0, std: 1)
    /// Fashion-MNIST's training statistics (mean 0.2860, std 0.3530).
    public static let fashionMNIST = Normalization(mean: 0.2860, std: 0.3530)

    /// How statistics are gathered by `standardizing`.
    public enum Granularity: String, ConfigChoice {
        /// One mean and std per channel (axis 0) of an image sample [C, H, W], or one for a [H, W] image.
        case channel
        /// One per value of a flat sample [F] (a column of a table).
        case feature
    }

    /// The mean and standard deviation of `dataset`'s values (scaled to [0, 1] for bytes), per
    /// channel or per feature. A constant feature gets std 1, so it maps to 0 instead of dividing by 0.
    public static func standardizing(_ dataset: Dataset, per granularity: Granularity) -> Normalization {
        let shape = dataset.sampleShape, n = dataset.valuesPerSample
        let groups: Int, run: Int  // statistics, and consecutive values of a sample sharing one
        switch granularity {
        case .feature: (groups, run) = (n, 1)
        case .channel: (groups, run) = shape.count == 3 ? (shape[0], n / shape[0]) : (1, n)
        }
        var sum = [Double](repeating: 0, count: groups), squares = sum
        func accumulate<T>(_ values: [T], _ value: (T) -> Double) {
            for i in 0..<dataset.count {
                let start = dataset.storageRow(i) * n
                for v in 0..<n {
                    let x = value(values[start + v])
                    sum[v / run] += x
                    squares[v / run] += x * x
                }
            }
        }
        switch dataset.storage.features {
        case let .uint8(values): accumulate(values) { Double($0) / 255 }
        case let .float32(values): accumulate(values) { Double($0) }
        }
        let count = Double(dataset.count * run)
        var mean = [Float](repeating: 0, count: groups), std = mean
        for g in 0..<groups {
            let m = sum[g] / count
            let variance = max(squares[g] / count - m * m, 0)
            mean[g] = Float(m)
            std[g] = variance > 1e-12 ? Float(variance.squareRoot()) : 1
        }
        return try! Normalization(mean: mean, std: std)  // every std is positive and finite by construction
    }

    /// The per-value affine map y = x * scale + bias that prepares one sample of `sampleShape`
    /// (bytes divided by 255 first). Throws when the statistics do not fit the shape.
    public func affine(sampleShape: [Int], bytes: Bool) throws -> (scale: [Float], bias: [Float]) {
        let n = sampleShape.reduce(1, *)
        let run: Int
        if mean.count == 1 {
            run = n
        } else if mean.count == n {
            run = 1
        } else if sampleShape.count == 3 && mean.count == sampleShape[0] {
            run = n / mean.count
        } else {
            throw CohortError.invalid("normalisation: \(mean.count) statistics do not fit samples of shape \(shapeString(sampleShape)) (need 1, one per channel, or one per value)")
        }
        let unit: Float = bytes ? 1 / 255 : 1
        var scale = [Float](repeating: 0, count: n), bias = scale
        for v in 0..<n {
            let g = v / run
            scale[v] = unit / std[g]
            bias[v] = -mean[g] / std[g]
        }
        return (scale, bias)
    }
}
