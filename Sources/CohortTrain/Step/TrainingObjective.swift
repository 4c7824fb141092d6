import Cohort
import CohortData
import CohortNN

/// What a training step minimises.
public enum TrainingObjective {
    /// Cross-entropy on the batch's labels (classification; mixed labels when the batch is mixed).
    case labels
    /// Mean squared error against the batch's targets (regression).
    case targets
    /// The distillation loss against a teacher's outputs (`cohort distill`).
    case distillation(DistillationSetup)
    /// A loss of the program's own over the model's layers (the VAE's negative ELBO, a
    /// contrastive loss, ...): the step still loads, synchronises, checks and updates.
    case custom(CustomObjective)

    /// The plain objective of a task.
    public init(_ task: Task) { self = task == .regression ? .targets : .labels }
}

/// Where a distilled student's teacher outputs come from: the teacher (or ensemble) probabilities
/// at the distillation temperature, or its logits, for each batch.
public protocol TeacherTargetSource: AnyObject {
    /// Targets [B, K] for the transfer examples at `positions`, whose prepared features (normalised,
    /// augmented and mixed as the student sees them) are `features`: looked up when they were
    /// cached, else computed on `features`. The tensor may be reused by the next call.
    func targets(positions: ArraySlice<Int>, features: Tensor) throws -> Tensor
}

/// What turns training into distillation: the transfer set (with its per-batch preparation)
/// replaces the training set, and the loss is `Tape.distillationLoss` against the teacher.
public struct DistillationSetup {
    /// The transfer examples and how each batch of them is prepared.
    public let input: TrainingInput
    /// By position in `input.examples`: false for synthetic or unlabelled examples (alpha = 1 there).
    public let labeled: [Bool]
    public let teacher: TeacherTargetSource
    /// KL at a temperature against probabilities, or MSE against logits (what `teacher` gives).
    public let matching: TeacherMatching
    public let alpha: Float

    public init(input: TrainingInput, labeled: [Bool], teacher: TeacherTargetSource, matching: TeacherMatching, alpha: Float) {
        self.input = input
        self.labeled = labeled
        self.teacher = teacher
        self.matching = matching
        self.alpha = alpha
    }
}

/// A training loss the step does not know: given the batch as the loader prepared it, record the
/// forward pass on `context.tape` (in training mode) and return the loss to minimise, and how
/// many examples were predicted right (0 where that means nothing).
public protocol CustomObjective: AnyObject {
    func loss(_ x: Var, positions: ArraySlice<Int>, context: ForwardContext) throws -> (loss: Var, correct: Int)
}
