import Cohort
import CohortData
import CohortNN
import Foundation

/// `cohort predict`: a saved model (float, pruned or int8) applied to new inputs a batch at a time,
/// prepared with the normalisation saved with it, written as CSV: per input the predicted class
/// name and every class's probability, or the predicted value(s) of a regression model.
public final class Predictor {
    public let saved: SavedRun
    public let model: Model
    /// Classification: write the logits (the network's raw outputs) instead of probabilities.
    public var writesLogits = false
    private var batch = Tensor(zeros: [0])
    private var probabilities = Tensor(zeros: [0])

    public init(checkpoint: String) throws {
        saved = try SavedRun.open(checkpoint)
        model = try saved.model()
    }

    /// The CSV header line (without its line break).
    public var header: String {
        let d = saved.data
        switch d.task {
        case .classification:
            let names = d.classNames ?? (0..<d.outputCount).map(String.init)
            return (["class"] + names).map(Self.field).joined(separator: ",")
        case .regression:
            let name = d.targetName ?? "prediction"
            return d.outputCount == 1 ? Self.field(name) : (0..<d.outputCount).map { Self.field("\(name)_\($0)") }.joined(separator: ",")
        }
    }

    /// Throws unless `input`'s samples have the shape the model was trained on.
    public func check(_ input: SampleStream) throws {
        guard input.sampleShape == saved.data.sampleShape else {
            throw CohortError.invalid("\(input.path): samples of shape \(shapeString(input.sampleShape)), but \(saved.path) was trained on \(shapeString(saved.data.sampleShape))")
        }
    }

    /// Predicts every sample of `input`, `batchSize` at a time, calling `write` with each batch's
    /// CSV lines and `progress` with the samples done so far. Returns the number of samples.
    @discardableResult
    public func run(_ input: SampleStream, batchSize: Int, write: (String) throws -> Void, progress: (Int) -> Void = { _ in }) throws -> Int {
        let d = saved.data
        try check(input)
        // Inputs are in training's raw units (pixels 0...255 for a model trained on bytes), whatever
        // type the file stores them as.
        let (scale, bias) = try d.normalization.affine(sampleShape: d.sampleShape, bytes: d.byteFeatures)
        let n = scale.count
        if batch.shape.first != batchSize { batch = Tensor(zeros: [batchSize] + d.sampleShape) }
        var done = 0
        while true {
            let count = try input.read(into: batch.pointer, maxSamples: batchSize)
            if count == 0 { break }
            let x = count == batchSize ? batch : Tensor(storage: batch.storage, offset: 0, shape: [count] + d.sampleShape)
            let p = x.pointer
            for r in 0..<count { for v in 0..<n { p[r * n + v] = p[r * n + v] * scale[v] + bias[v] } }
            try write(try lines(for: try model.predict(x), count: count))
            done += count
            progress(done)
        }
        return done
    }

    private func lines(for outputs: Tensor, count: Int) throws -> String {
        let d = saved.data, k = d.outputCount
        var text = ""
        switch d.task {
        case .regression:
            for r in 0..<count {
                text += (0..<k).map { String(outputs.pointer[r * k + $0]) }.joined(separator: ",") + "\n"
            }
        case .classification:
            if probabilities.shape != outputs.shape { probabilities = Tensor(zeros: outputs.shape) }
            if writesLogits { try probabilities.assign(outputs) } else { try Tape.softTargets(logits: outputs, temperature: 1, into: probabilities) }
            let names = d.classNames ?? (0..<k).map(String.init)
            for r in 0..<count {
                let row = probabilities.pointer + r * k
                var best = 0
                for j in 1..<k where row[j] > row[best] { best = j }
                text += Self.field(names[best])
                for j in 0..<k { text += "," + String(format: "%.6g", row[j]) }
                text += "\n"
            }
        }
        return text
    }

    /// A CSV field, quoted when it holds a comma, a quote or a line break.
    static func field(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
