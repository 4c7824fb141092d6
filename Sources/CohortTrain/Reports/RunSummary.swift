import CohortData
import CohortDistributed
import CohortFormats
import Foundation

/// A finished run in figures: what report.json holds (every figure report.md shows, and the
/// history its curves are drawn from) and what `cohort compare` reads back. Figures that do not
/// apply to the run's task or shape are nil (omitted from the JSON).
public struct RunSummary: Codable, Sendable {
    public var name: String
    public var task: Task
    public var ranks: Int
    public var mode: DistributedMode
    /// The nodes the ranks ran on, how their gradients were averaged and how they travelled over
    /// MPI (nil in reports written before these were kept).
    public var nodes: Int?
    public var synchronization: GradientSyncKind?
    public var wire: WireFormat?
    /// Bytes all ranks sent over MPI per step (multi-rank sync; see `WireAllreduce`).
    public var wireBytesPerStep: Double?
    /// `training.precision` from the resolved config ("fp32" when it has none).
    public var precision: String
    public var steps: Int
    public var epochs: Int
    public var skippedSteps: Int
    public var parameters: Int
    /// Seconds from the start of the loop to the final evaluation (of this session, when resumed).
    public var seconds: Double
    public var testLoss: Double
    public var testExamples: Int
    public var testAccuracy: Double?
    public var testErrors: Int?
    public var testRMSE: Double?
    public var testMAE: Double?
    public var bestValidationAccuracy: Double?
    public var bestValidationRMSE: Double?
    /// The last logged window's training loss and rate.
    public var finalTrainLoss: Double?
    public var finalLearningRate: Double?
    /// Means over the logged windows: samples/s (all ranks) and, for multi-rank sync runs, the wait
    /// for the gradients per step in ms.
    public var samplesPerSecond: Double?
    public var gradientWaitMs: Double?
    public var classification: ClassificationReport?
    /// The chart files beside report.md, in the order the report shows them.
    public var charts: [String]
    public var history: [TrainState.HistoryPoint]

    init(config: RunConfig, configYAML: String, test: Evaluation, state: TrainState, classNames: [String]?, parameterCount: Int,
         seconds: Double, ranks: Int, nodes: Int = 1, synchronization: GradientSyncKind = .none,
         wireBytesPerStep: Double? = nil) throws {
        name = config.name
        task = test.task
        self.ranks = ranks
        mode = config.distributed.mode
        self.nodes = nodes
        self.synchronization = synchronization
        self.wireBytesPerStep = wireBytesPerStep
        wire = synchronization == .mpi || synchronization == .hierarchical ? config.distributed.wire : nil
        precision = try ResolvedConfig(yaml: configYAML, source: "\(config.name)/config.yaml").precision
        steps = state.step
        epochs = state.epoch
        skippedSteps = state.skippedSteps
        parameters = parameterCount
        self.seconds = seconds
        testLoss = test.loss
        testExamples = test.count
        let best = state.bestValidationScore
        switch test.task {
        case .classification:
            let report = try Report.classificationReport(test, classNames: classNames)
            classification = report
            testAccuracy = test.accuracy
            testErrors = report.errorCount
            bestValidationAccuracy = best
        case .regression:
            testRMSE = test.rmse
            testMAE = test.mae
            bestValidationRMSE = best.map { -$0 }
        }
        history = state.history
        finalTrainLoss = history.last { $0.trainLoss != nil }?.trainLoss
        finalLearningRate = history.last { $0.learningRate != nil }?.learningRate
        samplesPerSecond = Self.mean(history.compactMap(\.samplesPerSecond))
        gradientWaitMs = Self.mean(history.compactMap(\.gradientWaitMs))
        charts = []
    }

    /// The test figure a comparison ranks by: accuracy, or RMSE for regression.
    public var testScore: Double? { task == .regression ? testRMSE : testAccuracy }

    static func mean(_ values: [Double]) -> Double? {
        values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }

    /// report.json's encoding: sorted keys, and NaN or infinity (which JSON lacks) as "nan", "inf", "-inf".
    static func jsonEncoder() -> JSONEncoder {
        let encoder = TrainState.jsonEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return encoder
    }
}
