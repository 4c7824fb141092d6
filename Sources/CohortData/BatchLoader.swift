#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Cohort

/// Turns lists of sample positions into training batches: a Float tensor [B] + sampleShape
/// (e.g. [B, 1, 28, 28] or [B, features]) and B Int32 labels, or a [B, T] tensor of regression targets.
///
/// The output buffers are allocated once, in `init`; every `load` converts into them (bytes to
/// normalised floats, with optional augmentation), so a training loop allocates nothing per batch.
/// The returned tensor is overwritten by the next `load`. Not thread-safe: one loader per thread.
public final class BatchLoader {
    public let dataset: Dataset
    /// The largest batch `load` accepts; smaller (last) batches are views of the same buffer.
    public let batchSize: Int
    public let normalization: Normalization
    public let augmentation: Augmentation
    /// The stream augmentation draws from, advanced by every `load` (saved with checkpoints to resume exactly).
    public var random: RandomStream

    /// The current batch's features, [n] + sampleShape for the n positions last loaded.
    public private(set) var features: Tensor
    /// The current batch's labels (classification).
    ///
    /// Two buffers alternate, so a caller (say a loss node) that keeps the previous batch's labels
    /// until the next step does not force a copy-on-write when the next batch is written.
    public private(set) var labels: [Int32]
    private var spareLabels: [Int32]
    /// The current batch's regression targets [n, T] (a regression dataset; [0, 1] otherwise).
    public private(set) var targets: Tensor
    private let fullTargets: Tensor

    private let fullFeatures: Tensor
    /// The normalisation as one multiply-add per value of a sample.
    private let scale: [Float]
    private let bias: [Float]
    /// Whether every value shares one scale and bias (the common image case: a tighter loop).
    private let uniform: Bool
    /// Planes, height and width of an image sample (for shifts and flips).
    private let planes: Int, height: Int, width: Int

    /// A loader for `dataset` with room for `batchSize` samples.
    /// `normalization` defaults to Fashion-MNIST's statistics for byte (pixel) features and to
    /// `.identity` for float features. `random` seeds the augmentation.
    public init(dataset: Dataset, batchSize: Int, normalization: Normalization? = nil,
                augmentation: Augmentation = .none, random: RandomStream = RandomStream(seed: 0)) throws {
        guard batchSize > 0 else { throw CohortError.invalid("BatchLoader: batch size \(batchSize) must be positive") }
        let isBytes: Bool
        switch dataset.storage.features {
        case .uint8: isBytes = true
        case .float32: isBytes = false
        }
        let norm = normalization ?? (isBytes ? .fashionMNIST : .identity)
        if let i = norm.std.indices.first(where: { !(norm.std[$0] > 0 && norm.std[$0].isFinite && norm.mean[$0].isFinite) }) {
            throw CohortError.invalid("BatchLoader: normalisation mean \(norm.mean[i]), std \(norm.std[i]): std must be positive and both finite")
        }
        guard augmentation.maxShift >= 0,
              (0...1).contains(augmentation.horizontalFlipProbability),
              augmentation.noiseStd >= 0, augmentation.noiseStd.isFinite else {
            throw CohortError.invalid("BatchLoader: augmentation \(augmentation) out of range (maxShift >= 0, flip probability in [0, 1], noise std >= 0)")
        }
        let shape = dataset.sampleShape
        if augmentation.movesPixels && !(shape.count == 2 || shape.count == 3) {
            throw CohortError.invalid("BatchLoader: shifts and flips need image samples [C, H, W] or [H, W], not \(shapeString(shape))")
        }
        self.dataset = dataset
        self.batchSize = batchSize
        self.normalization = norm
        self.augmentation = augmentation
        self.random = random
        // (x/255 - mean)/std for bytes, (x - mean)/std for floats, as one multiply-add per value.
        do { (scale, bias) = try norm.affine(sampleShape: shape, bytes: isBytes) } catch {
            throw CohortError.invalid("BatchLoader: \(error)")
        }
        uniform = norm.mean.count == 1
        if augmentation.movesPixels && !(uniform || (shape.count == 3 && norm.mean.count == shape[0])) {
            throw CohortError.invalid("BatchLoader: shifts and flips need one normalisation per channel, not \(norm.mean.count) statistics for samples of shape \(shapeString(shape))")
        }
        planes = shape.count == 3 ? shape[0] : 1
        height = shape.count >= 2 ? shape[shape.count - 2] : 1
        width = shape[shape.count - 1]
        fullFeatures = Tensor(zeros: [batchSize] + shape)
        features = fullFeatures
        labels = [Int32](repeating: 0, count: batchSize)
        spareLabels = labels
        fullTargets = Tensor(zeros: [batchSize, max(dataset.isRegression ? dataset.outputCount : 1, 1)])
        targets = fullTargets
    }

    /// Loads the samples at `positions` (positions in `dataset`, 1...batchSize of them) and returns
    /// the features tensor, also available as `features`; their labels are in `labels`.
    @discardableResult
    public func load(_ positions: ArraySlice<Int>) throws -> Tensor {
        let n = positions.count
        guard n > 0, n <= batchSize else {
            throw CohortError.invalid("BatchLoader: \(n) positions for a batch of at most \(batchSize)")
        }
        let limit = dataset.count
        if let bad = positions.first(where: { $0 < 0 || $0 >= limit }) {
            throw CohortError.invalid("BatchLoader: position \(bad) outside the dataset's 0..<\(limit)")
        }
        if features.shape[0] != n {
            // Only the last, partial batch of an epoch gets here; a view, not new storage.
            features = n == batchSize ? fullFeatures
                : Tensor(storage: fullFeatures.storage, offset: 0, shape: [n] + dataset.sampleShape)
        }
        switch dataset.storage.targets {
        case .classes: fillLabels(positions)
        case let .values(values, perSample): fillTargets(values, perSample, positions)
        }
        switch dataset.storage.features {
        case let .uint8(values): values.withUnsafeBufferPointer { convert($0.baseAddress!, positions) }
        case let .float32(values): values.withUnsafeBufferPointer { convert($0.baseAddress!, positions) }
        }
        return features
    }

    /// Loads the samples at `positions`; see `load(_: ArraySlice<Int>)`.
    @discardableResult
    public func load(_ positions: [Int]) throws -> Tensor { try load(positions[...]) }

    private func fillLabels(_ positions: ArraySlice<Int>) {
        // Move the spare buffer out so this loader holds no second reference while writing.
        var next = spareLabels
        spareLabels = []
        let n = positions.count
        if next.count > n { next.removeLast(next.count - n) }
        else if next.count < n { next.append(contentsOf: repeatElement(0, count: n - next.count)) }
        let source = dataset.storage.labels
        next.withUnsafeMutableBufferPointer { out in
            for (j, p) in positions.enumerated() { out[j] = source[dataset.storageRow(p)] }
        }
        spareLabels = labels
        labels = next
    }

    private func fillTargets(_ values: [Float], _ perSample: Int, _ positions: ArraySlice<Int>) {
        let n = positions.count
        if targets.shape[0] != n {
            targets = n == batchSize ? fullTargets : Tensor(storage: fullTargets.storage, offset: 0, shape: [n, perSample])
        }
        let out = fullTargets.pointer
        values.withUnsafeBufferPointer { source in
            for (j, p) in positions.enumerated() {
                (out + j * perSample).update(from: source.baseAddress! + dataset.storageRow(p) * perSample, count: perSample)
            }
        }
    }

    private func convert<Scalar: FeatureScalar>(_ source: UnsafePointer<Scalar>, _ positions: ArraySlice<Int>) {
        let n = dataset.valuesPerSample
        let out = fullFeatures.pointer
        let moves = augmentation.movesPixels, noisy = augmentation.noiseStd > 0
        scale.withUnsafeBufferPointer { scaleBuffer in
            bias.withUnsafeBufferPointer { biasBuffer in
                let scale = scaleBuffer.baseAddress!, bias = biasBuffer.baseAddress!
                let (s0, b0) = (scale[0], bias[0])  // locals, so the uniform loop keeps them in registers
                for (j, p) in positions.enumerated() {
                    let src = source + dataset.storageRow(p) * n
                    let dst = out + j * n
                    if moves {
                        convertMoved(src, dst, scale: scale, bias: bias)
                    } else if uniform {
                        for i in 0..<n { dst[i] = src[i].floatValue * s0 + b0 }
                    } else {
                        for i in 0..<n { dst[i] = src[i].floatValue * scale[i] + bias[i] }
                    }
                    if noisy { addNoise(dst, n) }
                }
            }
        }
    }

    /// One image, shifted by (dy, dx) and perhaps mirrored: out[y][x] = in[y - dy][c(x)] with
    /// c(x) = x - dx, or W-1-x + dx when flipped; both are in bounds for x in max(0, dx)..<min(W, W + dx).
    /// Uncovered pixels are a raw 0, normalised. `scale` and `bias` are per value of the sample.
    private func convertMoved<Scalar: FeatureScalar>(_ src: UnsafePointer<Scalar>, _ dst: UnsafeMutablePointer<Float>,
                                                     scale: UnsafePointer<Float>, bias: UnsafePointer<Float>) {
        let k = augmentation.maxShift
        let dy = k > 0 ? random.below(2 * k + 1) - k : 0
        let dx = k > 0 ? random.below(2 * k + 1) - k : 0
        let p = augmentation.horizontalFlipProbability
        let flip = p > 0 && random.uniform() < p
        let (h, w) = (height, width)
        let x0 = max(0, dx), x1 = min(w, w + dx)
        for plane in 0..<planes {
            let inPlane = src + plane * h * w, outPlane = dst + plane * h * w
            // Images are normalised per channel (or as a whole): one scale and bias per plane.
            let s = scale[plane * h * w], b = bias[plane * h * w]
            for y in 0..<h {
                let row = outPlane + y * w
                let sy = y - dy
                guard sy >= 0, sy < h, x0 < x1 else {
                    row.update(repeating: b, count: w)
                    continue
                }
                let inRow = inPlane + sy * w
                for x in 0..<x0 { row[x] = b }
                if flip {
                    let mirrored = inRow + (w - 1 + dx)  // in[c] for c = W-1-x+dx is mirrored[-x]
                    for x in x0..<x1 { row[x] = mirrored[-x].floatValue * s + b }
                } else {
                    let shifted = inRow - dx
                    for x in x0..<x1 { row[x] = shifted[x].floatValue * s + b }
                }
                for x in x1..<w { row[x] = b }
            }
        }
    }

    /// Adds N(0, noiseStd) to n values, using both normals of each Box-Muller pair.
    private func addNoise(_ values: UnsafeMutablePointer<Float>, _ n: Int) {
        let std = Double(augmentation.noiseStd)
        var i = 0
        while i < n {
            // u1 in (0, 1] so the log is finite; u2 in [0, 1).
            let u1 = Double((random.next() >> 11) + 1) * (1.0 / 9_007_199_254_740_992.0)
            let u2 = Double(random.next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
            let r = std * (-2 * log(u1)).squareRoot()
            let angle = 2 * Double.pi * u2
            values[i] += Float(r * cos(angle))
            if i + 1 < n { values[i + 1] += Float(r * sin(angle)) }
            i += 2
        }
    }
}

/// The element types features are stored as, read as Float.
protocol FeatureScalar {
    var floatValue: Float { get }
}

extension UInt8: FeatureScalar {
    @inline(__always) var floatValue: Float { Float(self) }
}

extension Float: FeatureScalar {
    @inline(__always) var floatValue: Float { self }
}
