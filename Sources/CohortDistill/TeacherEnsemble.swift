import Cohort
import CohortData
import CohortDistributed
import CohortFormats
import CohortNN
import CohortTrain
import Foundation

/// One or more trained models whose averaged probabilities teach the student. Members run forward
/// only, without recording a tape, in evaluation mode (dropout off, BatchNorm running statistics).
public final class TeacherEnsemble: SoftTargetSource {
    public struct Member {
        public let path: String
        public let name: String
        public let model: Model
        /// The member's own input normalisation (from its embedded config).
        public let normalization: Normalization
        public let parameterCount: Int
        /// The config the member was trained with (embedded in its checkpoint).
        public let configYAML: String
    }

    public let members: [Member]
    public let classCount: Int
    public let temperature: Float
    /// The student's normalisation: features arrive normalised this way and are re-normalised per member.
    let studentNormalization: Normalization
    /// Cached soft targets of every transfer example [N, K], when the transfer set is fixed.
    public private(set) var cache: Tensor?
    private var batchOut = Tensor(zeros: [0])
    private var memberInput = Tensor(zeros: [0])
    private var memberProbs = Tensor(zeros: [0])

    /// Loads every checkpoint and rejects, naming the file, any whose tensors do not match its
    /// declared model, whose class count differs from the data's, or whose input shape differs.
    public init(paths: [String], data: DataSplits, datasetName: String, normalization: Normalization, temperature: Float) throws {
        guard !paths.isEmpty else { throw CohortError.invalid("distill.teachers: list at least one teacher checkpoint") }
        let classes = data.train.classCount, inputShape = data.train.sampleShape
        var members: [Member] = []
        for path in paths {
            guard FileManager.default.fileExists(atPath: path) else {
                throw CohortError.invalid("\(path): teacher checkpoint not found (train it first with cohort train)")
            }
            let saved = try SavedRun.open(path)
            let config = saved.config
            guard config.data.dataset == datasetName else {
                throw CohortError.invalid("\(path): the teacher was trained on \(config.data.dataset), the student's data is \(datasetName)")
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
            members.append(Member(path: path, name: config.name, model: model,
                                  normalization: Normalization(mean: config.data.mean, std: config.data.std),
                                  parameterCount: model.parameters.parameterCount, configYAML: saved.configYAML))
        }
        self.members = members
        classCount = classes
        self.temperature = temperature
        studentNormalization = normalization
    }

    /// Average over members of softmax(logits / temperature) for a batch of prepared features.
    public func probabilities(of features: Tensor, temperature: Float) throws -> Tensor {
        let b = features.shape[0]
        if batchOut.shape != [b, classCount] {
            batchOut = Tensor(zeros: [b, classCount])
            memberProbs = Tensor(zeros: [b, classCount])
        }
        batchOut.zero()
        let weight = 1 / Float(members.count)
        for m in members {
            let input = try renormalized(features, for: m.normalization)
            let logits = try m.model.predict(input)
            try Tape.softTargets(logits: logits, temperature: temperature, into: memberProbs)
            let out = batchOut.pointer, p = memberProbs.pointer
            for i in 0..<batchOut.count { out[i] += weight * p[i] }
        }
        return batchOut
    }

    /// Features normalised for the student, mapped to a member's normalisation when it differs.
    private func renormalized(_ x: Tensor, for n: Normalization) throws -> Tensor {
        if n == studentNormalization { return x }
        if memberInput.shape != x.shape { memberInput = Tensor(zeros: x.shape) }
        // raw = x * s_std + s_mean; member = (raw - m_mean) / m_std
        let a = studentNormalization.std / n.std, c = (studentNormalization.mean - n.mean) / n.std
        let src = x.pointer, dst = memberInput.pointer
        for i in 0..<x.count { dst[i] = src[i] * a + c }
        return memberInput
    }

    /// Computes the soft targets of every example of `dataset` once (prepared with `normalization`,
    /// no augmentation), sharded across ranks: rank r takes rows r, r + size, ... and one allreduce
    /// gives every rank the whole table.
    public func cacheSoftTargets(for dataset: Dataset, normalization: Normalization, communicator: Communicator,
                                 batchSize: Int = 500) throws {
        let table = Tensor(zeros: [dataset.count, classCount])
        let loader = try BatchLoader(dataset: dataset, batchSize: batchSize, normalization: normalization, augmentation: .none)
        let mine = Array(stride(from: communicator.rank, to: dataset.count, by: communicator.size))
        var start = 0
        while start < mine.count {
            let end = min(start + batchSize, mine.count)
            let rows = mine[start..<end]
            let p = try probabilities(of: try loader.load(rows), temperature: temperature)
            for (j, row) in rows.enumerated() {
                (table.pointer + row * classCount).update(from: p.pointer + j * classCount, count: classCount)
            }
            start = end
        }
        try communicator.allreduce(table.pointer, count: table.count, average: false)
        cache = table
    }

    public func probabilities(positions: ArraySlice<Int>, features: Tensor) throws -> Tensor {
        guard let cache else { return try probabilities(of: features, temperature: temperature) }
        let b = positions.count
        if batchOut.shape != [b, classCount] { batchOut = Tensor(zeros: [b, classCount]) }
        for (j, row) in positions.enumerated() {
            (batchOut.pointer + j * classCount).update(from: cache.pointer + row * classCount, count: classCount)
        }
        return batchOut
    }

    /// Test accuracy of the ensemble (argmax of the averaged probabilities at T = 1), sharded.
    public func evaluate(on dataset: Dataset, normalization: Normalization, communicator: Communicator) throws -> (accuracy: Double, errors: Int, count: Int) {
        let loader = try BatchLoader(dataset: dataset, batchSize: 500, normalization: normalization, augmentation: .none)
        let mine = Array(stride(from: communicator.rank, to: dataset.count, by: communicator.size))
        var sums = [0.0, 0.0]
        var start = 0
        while start < mine.count {
            let end = min(start + 500, mine.count)
            let x = try loader.load(mine[start..<end])
            let p = try probabilities(of: x, temperature: 1)
            sums[0] += Double(Metrics.correct(p, loader.labels))
            sums[1] += Double(end - start)
            start = end
        }
        try communicator.allreduce(&sums)
        let count = Int(sums[1]), correct = Int(sums[0])
        return (Double(correct) / Double(max(count, 1)), count - correct, count)
    }
}
