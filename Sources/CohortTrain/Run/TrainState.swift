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

    /// One logged step: the training metrics since the last one, and the validation figures of
    /// the epoch it ends (classification: accuracy; regression: RMSE).
    public struct HistoryPoint: Codable, Sendable {
        public var step: Int
        public var trainLoss: Double
        public var trainAccuracy: Double?
        public var trainRMSE: Double?
        public var validationLoss: Double?
        public var validationAccuracy: Double?
        public var validationRMSE: Double?

        public init(step: Int, trainLoss: Double, trainAccuracy: Double?, trainRMSE: Double?) {
            self.step = step
            self.trainLoss = trainLoss
            self.trainAccuracy = trainAccuracy
            self.trainRMSE = trainRMSE
        }
    }

    public init() {}

    enum CodingKeys: String, CodingKey {
        case step, epoch, batchInEpoch, skippedSteps, bestValidationScore, epochsWithoutImprovement, history, hogwildPositions
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
    }
}
