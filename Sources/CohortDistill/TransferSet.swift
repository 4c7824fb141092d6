import Cohort
import CohortData
import CohortDistributed
import CohortTrain
import Foundation

/// The examples a student learns the teacher's outputs on (`distill.transfer`): the training set
/// first, then (multiplier - 1) copies: augmented, MUNGE or generated. Drawn once from the run's
/// seed, identically on every rank, so a cached teacher labels each example once. With an online
/// teacher the augmented copies are the training set again: every batch is augmented afresh as
/// it is loaded, so baking augmentation into copies would only apply it twice.
public struct TransferSet {
    public let dataset: Dataset
    /// By position: false for MUNGE points, generated images and every example of an 'unlabeled' set.
    public let labeled: [Bool]

    /// `generated`: the (multiplier - 1) x N images of a `generated` set, raw values (0...255 for
    /// pixels) one row per image, sampled by `TransferGenerator`.
    public static func build(_ config: TransferConfig, train: Dataset, seed: UInt64, mode: TeacherMode = .cached, generated: Tensor? = nil,
                             communicator: Communicator = SingleProcessCommunicator()) throws -> TransferSet {
        let n = train.count, d = train.valuesPerSample
        let bytes: Bool
        switch train.storage.features {
        case .uint8: bytes = true
        case .float32: bytes = false
        }
        // Raw feature values (0...255 for pixels), one row per training example.
        let base = Tensor(zeros: [n, d])
        for i in 0..<n {
            let v = train.rawValues(i)
            v.withUnsafeBufferPointer { (base.pointer + i * d).update(from: $0.baseAddress!, count: d) }
        }
        var copies = [base]
        let root = RandomStream(seed: seed).split("transfer")
        switch config.set {
        case .augmented, .unlabeled:
            guard config.multiplier == 1 || [2, 3].contains(train.sampleShape.count) else {
                throw CohortError.invalid("distill.transfer.set: augmented copies need image samples, not \(shapeString(train.sampleShape))")
            }
            for c in 1..<config.multiplier {
                var rng = root.split("augment", UInt64(c))
                copies.append(mode == .online ? base : augmentedCopy(base, sampleShape: train.sampleShape, config: config,
                                                                       scale: bytes ? 255 : 1, rng: &rng))
            }
        case .munge:
            if config.multiplier > 1 {
                let unit = Tensor(zeros: [n, d])  // distances on [0, 1] pixels, as the features' scale
                let scale: Float = bytes ? 1 / 255 : 1
                for i in 0..<(n * d) { unit.pointer[i] = base.pointer[i] * scale }
                let neighbours = try Munge.nearestNeighbours(unit, communicator: communicator)
                let range: ClosedRange<Float> = bytes ? 0...255 : -Float.greatestFiniteMagnitude...Float.greatestFiniteMagnitude
                for c in 1..<config.multiplier {
                    var rng = root.split("munge", UInt64(c))
                    copies.append(Munge.generate(base, neighbours: neighbours, p: config.mungeP, s: config.mungeS, range: range, rng: &rng))
                }
            }
        case .generated:
            guard let generated, generated.shape == [(config.multiplier - 1) * n, d] else {
                throw CohortError.invalid("distill.transfer.set: a generated set of x\(config.multiplier) needs \((config.multiplier - 1) * n) generated images of \(d) values")
            }
            copies.append(generated)
        case .train:
            break
        }
        var labels: [Int32] = []
        labels.reserveCapacity(n * config.multiplier)
        let trainLabels = train.labels
        for _ in 0..<config.multiplier { labels += trainLabels }
        var labeled = [Bool](repeating: config.set != .unlabeled, count: n * config.multiplier)
        if config.set == .munge || config.set == .generated { for i in n..<labeled.count { labeled[i] = false } }
        if let path = config.images {
            let extra = try unlabeledImages(path, sampleShape: train.sampleShape, bytes: bytes)
            copies.append(extra)
            labels += [Int32](repeating: 0, count: extra.shape[0])
            labeled += [Bool](repeating: false, count: extra.shape[0])
        }
        let total = labels.count
        let dataset: Dataset
        if bytes {
            var features = [UInt8](repeating: 0, count: total * d)
            var start = 0
            for t in copies {
                for i in 0..<t.count { features[start + i] = UInt8(max(0, min(255, t.pointer[i].rounded()))) }
                start += t.count
            }
            dataset = try Dataset(uint8: features, sampleShape: train.sampleShape, labels: labels, classCount: train.classCount,
                                  classNames: train.classNames, source: "transfer set")
        } else {
            var features = [Float](repeating: 0, count: total * d)
            var start = 0
            for t in copies {
                for i in 0..<t.count { features[start + i] = t.pointer[i] }
                start += t.count
            }
            dataset = try Dataset(float32: features, sampleShape: train.sampleShape, labels: labels, classCount: train.classCount,
                                  classNames: train.classNames, source: "transfer set")
        }
        return TransferSet(dataset: dataset, labeled: labeled)
    }

    /// Raw images of an IDX file whose image shape matches the data's samples.
    static func unlabeledImages(_ path: String, sampleShape: [Int], bytes: Bool) throws -> Tensor {
        guard bytes else { throw CohortError.invalid("distill.transfer.images: extra images need byte (image) data, not float features") }
        let file = try IDXFile.read(path: path, rank: 3)
        let d = sampleShape.reduce(1, *)
        guard Array(file.dimensions.suffix(2)) == Array(sampleShape.suffix(2)), file.dimensions[1] * file.dimensions[2] == d,
              file.dimensions[0] > 0 else {
            throw CohortError.invalid("\(path): images of \(file.dimensions.dropFirst().map(String.init).joined(separator: "x")) do not match the data's samples \(shapeString(sampleShape))")
        }
        let t = Tensor(zeros: [file.dimensions[0], d])
        for i in 0..<t.count { t.pointer[i] = Float(file.bytes[i]) }
        return t
    }

    /// Every image moved by up to `shift` pixels (uncovered border black), mirrored with
    /// probability `flip`, plus Gaussian noise of `noise` (in [0, 1] units, times `scale`).
    static func augmentedCopy(_ x: Tensor, sampleShape: [Int], config: TransferConfig, scale: Float, rng: inout RandomStream) -> Tensor {
        let (n, d) = (x.shape[0], x.shape[1])
        let planes = sampleShape.count == 3 ? sampleShape[0] : 1
        let h = sampleShape[sampleShape.count - 2], w = sampleShape[sampleShape.count - 1]
        let out = Tensor(zeros: [n, d])
        let k = config.shift
        for i in 0..<n {
            let dy = k > 0 ? rng.below(2 * k + 1) - k : 0
            let dx = k > 0 ? rng.below(2 * k + 1) - k : 0
            let flip = config.flip > 0 && rng.uniform() < config.flip
            let src = x.pointer + i * d, dst = out.pointer + i * d
            for p in 0..<planes {
                for y in 0..<h {
                    let sy = y - dy
                    guard sy >= 0 && sy < h else { continue }
                    for xo in 0..<w {
                        let sx = flip ? w - 1 - xo + dx : xo - dx
                        guard sx >= 0 && sx < w else { continue }
                        dst[p * h * w + y * w + xo] = src[p * h * w + sy * w + sx]
                    }
                }
            }
            if config.noise > 0 {
                let sd = config.noise * scale
                for j in 0..<d { dst[j] += sd * rng.normal() }
            }
        }
        return out
    }
}
