import Cohort
import CohortData
import CohortDistributed
import CohortTrain

/// The rows of a distillation or compression report while the run makes them, each with the
/// model's predict function, so that every model's speed is measured at the end, all together in
/// alternating rounds (`InferenceRounds`), and the front and the choice follow.
struct ReportRows {
    private(set) var rows: [DistillReport.Row] = []
    private var predictors: [(Tensor) throws -> Void] = []

    mutating func append(_ row: DistillReport.Row, _ predict: @escaping (Tensor) throws -> Void) {
        rows.append(row)
        predictors.append(predict)
    }

    mutating func insert(_ row: DistillReport.Row, _ predict: @escaping (Tensor) throws -> Void, before role: DistillReport.Role, of student: String?) {
        let at = rows.firstIndex { $0.role == role && $0.student == student } ?? rows.count
        rows.insert(row, at: at)
        predictors.insert(predict, at: at)
    }

    /// Every row's speeds, then the front and the default choice.
    mutating func finish(data: DataSplits, chooseWithin: Double, communicator: Communicator) throws -> DistillReport.Choice? {
        let speeds = try InferenceRounds.measure(predictors, dataset: data.test, normalization: data.normalization,
                                                 communicator: communicator)
        for i in rows.indices {
            rows[i].speeds = speeds[i]
            rows[i].samplesPerSecond = speeds[i].last!.median
        }
        return DistillFront.mark(&rows, within: chooseWithin)
    }
}
