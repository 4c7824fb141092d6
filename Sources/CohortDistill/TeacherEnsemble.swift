import Cohort
import CohortData
import CohortDistributed
import CohortFormats
import CohortNN
import CohortTrain
import Foundation

/// One or more trained models whose averaged outputs teach the student: probabilities at the
/// distillation temperature (KL), or logits (logit MSE). Members run forward only, without
/// recording a tape, in evaluation mode (dropout off, BatchNorm running statistics): once per
/// transfer example when the targets are cached, or on every batch the student sees (online).
public final class TeacherEnsemble: TeacherTargetSource {
    public struct Member {
        public let path: String
        public let name: String
        public let model: Model
        /// `model` with its batch norms folded (`BatchNormFolding`): what computes the targets, as
        /// a deployed teacher would; `evaluate` uses `model` itself, so its errors are the checkpoint's.
        let inference: Model
        /// What the member was trained on, with its own input normalisation (saved with it).
        public let data: DataDescription
        public var normalization: Normalization { data.normalization }
        /// Maps features prepared for the student to this member's preparation, per value (nil: the same).
        let inputMap: (scale: [Float], bias: [Float])?
        public let parameterCount: Int
        /// The config the member was trained with (embedded in its checkpoint).
        public let configYAML: String
    }

    public let members: [Member]
    public let classCount: Int
    /// What the student matches, and so what the ensemble gives: probabilities at T, or logits.
    public let matching: TeacherMatching
    /// The student's normalisation: features arrive normalised this way and are re-normalised per member.
    let studentNormalization: Normalization
    /// Cached targets of every transfer example [N, K] (teacher_mode: cached).
    public private(set) var cache: Tensor?
    private var batchOut = Tensor(zeros: [0])
    private var memberInput = Tensor(zeros: [0])
    private var memberOut = Tensor(zeros: [0])

    /// Loads every checkpoint and rejects, naming the file, any whose tensors do not match its
    /// declared model, whose class count differs from the data's, or whose input shape differs.
    public init(paths: [String], data: DataSplits, dataConfig: DataConfig, normalization: Normalization,
                matching: TeacherMatching = .kl(temperature: 1)) throws {
        guard !paths.isEmpty else { throw CohortError.invalid("distill.teachers: list at least one teacher checkpoint") }
        let classes = data.train.classCount, inputShape = data.train.sampleShape
        var members: [Member] = []
        for path in paths {
            guard FileManager.default.fileExists(atPath: path) else {
                throw CohortError.invalid("\(path): teacher checkpoint not found (train it first with cohort train)")
            }
            let saved = try SavedRun.open(path)
            let config = saved.config
            if config.data.isNamedDataset && dataConfig.isNamedDataset && config.data.dataset != dataConfig.dataset {
                throw CohortError.invalid("\(path): the teacher was trained on \(config.data.dataset), the student's data is \(dataConfig.dataset)")
            }
            guard saved.data.sampleShape == inputShape else {
                throw CohortError.invalid("\(path): the teacher takes inputs of shape \(shapeString(saved.data.sampleShape)), the student's data has \(shapeString(inputShape))")
            }
            if let names = saved.data.classNames, let mine = data.classNames, names != mine, names.count == mine.count {
                throw CohortError.invalid("\(path): the teacher's classes (\(names.joined(separator: ", "))) are not the data's (\(mine.joined(separator: ", ")))")
            }
            // Each member predicts on its own model (and so its own inference tape: a shared one would
            // find the other member's nodes at every position and rebuild them on every batch).
            let model: Model
            do { model = try Model(spec: config.model, inputShape: inputShape) } catch {
                throw CohortError.invalid("\(path): its model does not take this data's \(shapeString(inputShape)) inputs: \(error)")
            }
            guard model.outputCount == classes else {
                throw CohortError.invalid("\(path): the teacher predicts \(model.outputCount) classes but the data has \(classes)")
            }
            try model.load(saved.file)
            let own = saved.data.normalization
            members.append(Member(path: path, name: config.name, model: model, inference: try BatchNormFolding.deployed(model), data: saved.data,
                                  inputMap: own == normalization ? nil : try Self.inputMap(from: normalization, to: own, data.description),
                                  parameterCount: model.parameters.parameterCount, configYAML: saved.configYAML))
        }
        self.members = members
        classCount = classes
        self.matching = matching
        studentNormalization = normalization
    }

    /// Average over members of softmax(logits / temperature) for a batch of prepared features.
    public func probabilities(of features: Tensor, temperature: Float, folded: Bool = true) throws -> Tensor {
        try average(features, folded: folded) { logits, out in try Tape.softTargets(logits: logits, temperature: temperature, into: out) }
    }

    /// What the student matches for a batch of prepared features: the members' mean probabilities
    /// at the temperature (kl), or their mean logits (logit MSE).
    public func targets(of features: Tensor) throws -> Tensor {
        switch matching {
        case let .kl(temperature): return try probabilities(of: features, temperature: temperature)
        case .logitMSE: return try average(features) { logits, out in out.pointer.update(from: logits.pointer, count: out.count) }
        }
    }

    /// The mean over members of `output(member logits, into)` for a batch [B, K] (reused buffer).
    private func average(_ features: Tensor, folded: Bool = true, _ output: (Tensor, Tensor) throws -> Void) throws -> Tensor {
        let b = features.shape[0]
        // Each buffer checked on its own: the cached path resizes `batchOut` alone.
        if batchOut.shape != [b, classCount] { batchOut = Tensor(zeros: [b, classCount]) }
        if memberOut.shape != [b, classCount] { memberOut = Tensor(zeros: [b, classCount]) }
        batchOut.zero()
        let weight = 1 / Float(members.count)
        for m in members {
            try output(try (folded ? m.inference : m.model).predict(renormalized(features, for: m)), memberOut)
            let out = batchOut.pointer, p = memberOut.pointer
            for i in 0..<batchOut.count { out[i] += weight * p[i] }
        }
        return batchOut
    }

    /// Features normalised for the student, mapped to a member's normalisation when it differs.
    private func renormalized(_ x: Tensor, for member: Member) -> Tensor {
        guard let (a, c) = member.inputMap else { return x }
        if memberInput.shape != x.shape { memberInput = Tensor(zeros: x.shape) }
        let n = a.count, src = x.pointer, dst = memberInput.pointer
        for i in 0..<x.count { dst[i] = src[i] * a[i % n] + c[i % n] }
        return memberInput
    }

    /// The per-value map from inputs prepared with `student` to inputs prepared with `member`:
    /// raw = (x - b_s) / s_s, member = raw * s_m + b_m.
    static func inputMap(from student: Normalization, to member: Normalization, _ data: DataDescription) throws -> (scale: [Float], bias: [Float]) {
        let s = try student.affine(sampleShape: data.sampleShape, bytes: data.byteFeatures)
        let m = try member.affine(sampleShape: data.sampleShape, bytes: data.byteFeatures)
        let scale = zip(m.scale, s.scale).map { $0 / $1 }
        let bias = m.bias.indices.map { m.bias[$0] - s.bias[$0] * scale[$0] }
        return (scale, bias)
    }

    /// Computes the targets of every example of `dataset` once (prepared with `normalization`,
    /// no augmentation), sharded across ranks: rank r takes rows r, r + size, ... and one allreduce
    /// gives every rank the whole table.
    public func cacheTargets(for dataset: Dataset, normalization: Normalization, communicator: Communicator,
                             batchSize: Int = 500) throws {
        let table = Tensor(zeros: [dataset.count, classCount])
        let loader = try BatchLoader(dataset: dataset, batchSize: batchSize, normalization: normalization, augmentation: .none)
        let mine = Array(stride(from: communicator.rank, to: dataset.count, by: communicator.size))
        var start = 0
        while start < mine.count {
            let end = min(start + batchSize, mine.count)
            let rows = mine[start..<end]
            let p = try targets(of: try loader.load(rows))
            for (j, row) in rows.enumerated() {
                (table.pointer + row * classCount).update(from: p.pointer + j * classCount, count: classCount)
            }
            start = end
        }
        try communicator.allreduce(table.pointer, count: table.count, average: false)
        cache = table
    }

    public func targets(positions: ArraySlice<Int>, features: Tensor) throws -> Tensor {
        guard let cache else { return try targets(of: features) }
        let b = positions.count
        if batchOut.shape != [b, classCount] { batchOut = Tensor(zeros: [b, classCount]) }
        for (j, row) in positions.enumerated() {
            (batchOut.pointer + j * classCount).update(from: cache.pointer + row * classCount, count: classCount)
        }
        return batchOut
    }

    /// Test accuracy of the ensemble (argmax of the averaged probabilities at T = 1, on the members'
    /// own models, unfolded), sharded.
    public func evaluate(on dataset: Dataset, normalization: Normalization, communicator: Communicator) throws -> (accuracy: Double, errors: Int, count: Int) {
        let loader = try BatchLoader(dataset: dataset, batchSize: 500, normalization: normalization, augmentation: .none)
        let mine = Array(stride(from: communicator.rank, to: dataset.count, by: communicator.size))
        var sums = [0.0, 0.0]
        var start = 0
        while start < mine.count {
            let end = min(start + 500, mine.count)
            let x = try loader.load(mine[start..<end])
            let p = try probabilities(of: x, temperature: 1, folded: false)
            sums[0] += Double(Metrics.correct(p, loader.labels))
            sums[1] += Double(end - start)
            start = end
        }
        try communicator.allreduce(&sums)
        let count = Int(sums[1]), correct = Int(sums[0])
        return (Double(correct) / Double(max(count, 1)), count - correct, count)
    }
}
