import Cohort

/// Blending a batch's examples with each other after augmentation (all off by default): mixup
/// (Zhang et al. 2018) and CutMix (Yun et al. 2019). The parameters are those of the Beta(a, a)
/// the weights are drawn from; with both on, each example takes one of the two with equal chance.
public struct BatchMixing: Sendable, Equatable {
    public var mixup: Float
    public var cutmix: Float

    public init(mixup: Float = 0, cutmix: Float = 0) {
        self.mixup = mixup
        self.cutmix = cutmix
    }

    public static let none = BatchMixing()

    public var isActive: Bool { mixup > 0 || cutmix > 0 }
}

/// Mixes prepared batches in place. Row r of a batch is blended with row `partner[r]` (a random
/// permutation of the batch's rows, drawn anew for every batch), keeping the share `weight[r]` of
/// its own example: mixup takes weight x_r + (1 - weight) x_partner everywhere, with weight from
/// Beta(mixup, mixup); CutMix pastes a box of the partner whose area is (1 - lambda) of the image
/// for lambda from Beta(cutmix, cutmix) (clipped at the border), and weight is the share of the
/// image left to x_r. Labels mix with the same weights (`weight`, `partner`). The buffers are
/// allocated once: mixing allocates nothing.
public final class BatchMixer {
    public let mixing: BatchMixing
    /// Of the last batch mixed: each row's partner and the share of the row's own example.
    public private(set) var partner: [Int]
    public private(set) var weight: [Float]
    /// The batch before mixing (every partner is read unmixed).
    private let original: Tensor
    private let valuesPerSample: Int
    private let planes: Int, height: Int, width: Int

    public init(mixing: BatchMixing, batchSize: Int, sampleShape: [Int]) throws {
        guard mixing.mixup >= 0, mixing.cutmix >= 0, mixing.mixup.isFinite, mixing.cutmix.isFinite else {
            throw CohortError.invalid("BatchMixer: mixup \(mixing.mixup) and cutmix \(mixing.cutmix) must be non-negative")
        }
        if mixing.cutmix > 0 && !(sampleShape.count == 2 || sampleShape.count == 3) {
            throw CohortError.invalid("BatchMixer: CutMix pastes boxes of images [C, H, W] or [H, W], not samples of \(shapeString(sampleShape))")
        }
        self.mixing = mixing
        valuesPerSample = sampleShape.reduce(1, *)
        planes = sampleShape.count == 3 ? sampleShape[0] : 1
        height = sampleShape.count >= 2 ? sampleShape[sampleShape.count - 2] : 1
        width = sampleShape[sampleShape.count - 1]
        original = Tensor(zeros: [batchSize * valuesPerSample])
        partner = Array(0..<batchSize)
        weight = [Float](repeating: 1, count: batchSize)
    }

    /// Mixes the rows of `features` ([n] + sampleShape, n at most the batch size) in place,
    /// drawing partners and weights from `rng`.
    public func mix(_ features: Tensor, rng: inout RandomStream) {
        let n = features.shape[0], d = valuesPerSample
        precondition(n <= weight.count && features.count == n * d, "BatchMixer: a batch of \(n) rows for a mixer of \(weight.count)")
        original.pointer.update(from: features.pointer, count: n * d)
        for r in 0..<partner.count { partner[r] = r }
        partner.withUnsafeMutableBufferPointer { p in
            for i in stride(from: n - 1, to: 0, by: -1) { p.swapAt(i, rng.below(i + 1)) }  // Fisher-Yates over the first n
        }
        let src = original.pointer, dst = features.pointer
        for r in 0..<n {
            let useCutMix = mixing.cutmix > 0 && (mixing.mixup == 0 || rng.uniform() < 0.5)
            let own = src + r * d, other = src + partner[r] * d, out = dst + r * d
            if useCutMix {
                weight[r] = pasteBox(from: other, into: out, lambda: Float(rng.beta(Double(mixing.cutmix), Double(mixing.cutmix))), rng: &rng)
            } else {
                let w = Float(rng.beta(Double(mixing.mixup), Double(mixing.mixup)))
                for i in 0..<d { out[i] = w * own[i] + (1 - w) * other[i] }
                weight[r] = w
            }
        }
    }

    /// Pastes a box of about (1 - lambda) of the image, centred at a uniform pixel and clipped at the
    /// border, from `other` into `out` (on every plane); returns the share of pixels left as they were.
    private func pasteBox(from other: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, lambda: Float,
                          rng: inout RandomStream) -> Float {
        let (h, w) = (height, width)
        let cut = (1 - lambda).squareRoot()
        let ch = Int(Float(h) * cut), cw = Int(Float(w) * cut)
        let cy = rng.below(h), cx = rng.below(w)
        let y0 = max(cy - ch / 2, 0), y1 = min(cy + ch / 2, h)
        let x0 = max(cx - cw / 2, 0), x1 = min(cx + cw / 2, w)
        guard y0 < y1, x0 < x1 else { return 1 }
        for p in 0..<planes {
            for y in y0..<y1 {
                let at = p * h * w + y * w
                (out + at + x0).update(from: other + at + x0, count: x1 - x0)
            }
        }
        return 1 - Float((y1 - y0) * (x1 - x0)) / Float(h * w)
    }
}
