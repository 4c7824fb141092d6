import Cohort
import CohortData

/// What a training step minimises.
public enum TrainingObjective {
    /// Cross-entropy on the batch's labels (classification).
    case labels
    /// Mean squared error against the batch's targets (regression).
    case targets
    /// The distillation loss against a teacher's soft targets (`cohort distill`).
    case distillation(DistillationSetup)

    /// The plain objective of a task.
    public init(_ task: Task) { self = task == .regression ? .targets : .labels }
}

/// Where a distilled student's soft targets come from: the teacher (or ensemble) probabilities at
/// the distillation temperature for each batch.
public protocol SoftTargetSource: AnyObject {
    /// Probabilities [B, K] for the transfer examples at `positions`, whose prepared features
    /// (normalised, augmented as the student sees them) are `features`. The tensor may be reused
    /// by the next call.
    func probabilities(positions: ArraySlice<Int>, features: Tensor) throws -> Tensor
}

/// What turns training into distillation: the transfer set replaces the training set, and the loss
/// is `Tape.distillationLoss` against the teacher's soft targets.
public struct DistillationSetup {
    /// The transfer examples (their labels are used only where `labeled` is true).
    public let transfer: Dataset
    /// By position in `transfer`: false for synthetic or unlabelled examples (alpha = 1 there).
    public let labeled: [Bool]
    public let teacher: SoftTargetSource
    public let temperature: Float
    public let alpha: Float

    public init(transfer: Dataset, labeled: [Bool], teacher: SoftTargetSource, temperature: Float, alpha: Float) {
        self.transfer = transfer
        self.labeled = labeled
        self.teacher = teacher
        self.temperature = temperature
        self.alpha = alpha
    }
}
