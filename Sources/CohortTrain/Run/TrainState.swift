import Foundation

/// Where the loop is: saved in checkpoints (JSON) so `--resume` continues exactly.
public struct TrainState: Codable, Sendable {
    public var step = 0
    public var epoch = 0
    public var batchInEpoch = 0
    public var skippedSteps = 0
    /// The best validation score so far (`Evaluation.score`: accuracy, or minus the RMSE), nil before the first.
    public var bestValidationScore: Double?
    public var epochsWithoutImprovement = 0
    public var history: [HistoryPoint] = []
    /// Hogwild: where each rank's sampler was ([epoch, position] by rank), so a resumed run goes
    /// on from there rather than from every rank's epoch 0.
    public var hogwildPositions: [[Int]]?
    /// The ranks of the run that wrote the state and its global batch (examples per optimizer step
    /// over all ranks), so a resume on another number of ranks keeps it (`ElasticResume`); nil in
    /// checkpoints from before.
    public var worldSize: Int?
    public var globalBatch: Int?
    /// Set by the run's end (its final test evaluation), so a resume knows there is nothing left to
    /// train; nil in checkpoints from before, and in those of a run still training.
    public var finished: Bool?

    /// One step of the run's curves: the training figures of the log window it ends, and the
    /// evaluations made at that step. A figure that was not measured at this step is nil (a
    /// validation figure between epochs, the training figures of an epoch's end that is not a
    /// log step); a measured value that is not finite stays as it is. Fields added after the first
    /// checkpoints are optional, so those checkpoints still decode.
    public struct HistoryPoint: Codable, Sendable, Equatable {
        public var step: Int
        public var trainLoss: Double?
        public var trainAccuracy: Double?
        public var trainRMSE: Double?
        /// The rate of the window's last step.
        public var learningRate: Double?
        /// Training examples per second over the window, all ranks together.
        public var samplesPerSecond: Double?
        /// Multi-rank sync: the mean wait for the gradient average per step (after backward), in ms.
        public var gradientWaitMs: Double?
        public var validationLoss: Double?
        public var validationAccuracy: Double?
        public var validationRMSE: Double?
        public var testLoss: Double?
        public var testAccuracy: Double?
        public var testRMSE: Double?

        public init(step: Int) {
            self.step = step
        }

        /// Sets `split`'s figures from `result` (accuracy or RMSE, by task).
        public mutating func record(_ result: Evaluation, split: EvaluationSplit) {
            let accuracy = result.task == .classification ? result.accuracy : nil
            switch split {
            case .validation: (validationLoss, validationAccuracy, validationRMSE) = (result.loss, accuracy, result.rmse)
            case .test: (testLoss, testAccuracy, testRMSE) = (result.loss, accuracy, result.rmse)
            }
        }
    }

    /// Records an evaluation made at the current step: on the last history point when it is this
    /// step's, else on a new point that has no training figures.
    public mutating func record(_ result: Evaluation, split: EvaluationSplit) {
        if history.last?.step != step { history.append(HistoryPoint(step: step)) }
        history[history.count - 1].record(result, split: split)
    }

    /// Encoders for the state in checkpoints: JSON has no NaN or infinity, and a measured
    /// non-finite loss must survive a checkpoint as itself.
    static func jsonEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    static func jsonDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }

    public init() {}

    enum CodingKeys: String, CodingKey {
        case step, epoch, batchInEpoch, skippedSteps, bestValidationScore, epochsWithoutImprovement, history, hogwildPositions
        case worldSize, globalBatch
        /// Checkpoints before regression held the best accuracy here, -1 for none.
        case bestValidationAccuracy
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        step = try c.decode(Int.self, forKey: .step)
        epoch = try c.decode(Int.self, forKey: .epoch)
        batchInEpoch = try c.decode(Int.self, forKey: .batchInEpoch)
        skippedSteps = try c.decode(Int.self, forKey: .skippedSteps)
        bestValidationScore = try c.decodeIfPresent(Double.self, forKey: .bestValidationScore)
        if bestValidationScore == nil, let old = try c.decodeIfPresent(Double.self, forKey: .bestValidationAccuracy), old >= 0 {
            bestValidationScore = old
        }
        epochsWithoutImprovement = try c.decode(Int.self, forKey: .epochsWithoutImprovement)
        history = try c.decode([HistoryPoint].self, forKey: .history)
        hogwildPositions = try c.decodeIfPresent([[Int]].self, forKey: .hogwildPositions)
        worldSize = try c.decodeIfPresent(Int.self, forKey: .worldSize)
        globalBatch = try c.decodeIfPresent(Int.self, forKey: .globalBatch)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(step, forKey: .step)
        try c.encode(epoch, forKey: .epoch)
        try c.encode(batchInEpoch, forKey: .batchInEpoch)
        try c.encode(skippedSteps, forKey: .skippedSteps)
        try c.encodeIfPresent(bestValidationScore, forKey: .bestValidationScore)
        try c.encode(epochsWithoutImprovement, forKey: .epochsWithoutImprovement)
        try c.encode(history, forKey: .history)
        try c.encodeIfPresent(hogwildPositions, forKey: .hogwildPositions)
        try c.encodeIfPresent(worldSize, forKey: .worldSize)
        try c.encodeIfPresent(globalBatch, forKey: .globalBatch)
    }
}
