import Cohort
import CohortData
import CohortDistributed
import CohortNN
import CohortOptim
import Foundation

/// A run's checkpoints: rank 0 writes the latest and the best into the run folder, and every rank
/// resumes from the latest (rank 0 reads it and broadcasts).
final class RunCheckpoints {
    enum Kind { case latest, best }

    let folder: RunFolder
    let configYAML: String
    /// What the model is trained on, saved with it.
    let data: DataDescription
    let isWriter: Bool

    init(folder: RunFolder, configYAML: String, data: DataDescription, isWriter: Bool) {
        self.folder = folder
        self.configYAML = configYAML
        self.data = data
        self.isWriter = isWriter
    }

    /// Writes `model` with `optimizer`'s state (on the writing rank only; no collective).
    func save(_ kind: Kind, model: Model, optimizer: Optimizer, state: TrainState, plan: LearningRatePlan) throws {
        guard isWriter else { return }
        let url = kind == .latest ? folder.latestCheckpoint : folder.bestCheckpoint
        try Checkpoint.save(to: url, model: model, optimizer: optimizer, state: state, plan: plan, configYAML: configYAML, data: data)
    }

    /// The latest checkpoint into `session` and `plan` on every rank; returns where the loop was.
    func restore(into session: TrainingSession, plan: inout LearningRatePlan, communicator: Communicator) throws -> TrainState {
        try Checkpoint.restore(from: folder.latestCheckpoint, into: session, plan: &plan, communicator: communicator)
    }
}
