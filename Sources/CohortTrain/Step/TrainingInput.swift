import CohortData

/// What a run's steps draw their examples from and how each batch is prepared: for `cohort train`
/// the training split with `data.augment`; for the students of `cohort distill`, the transfer set
/// with `distill.transfer`'s per-batch augmentation and mixing (online teacher), or none (cached).
public struct TrainingInput {
    public var examples: Dataset
    /// Drawn afresh for every batch (from the step's stream, so a resumed run draws the same).
    public var augmentation: Augmentation
    /// Mixup / CutMix of each batch after its augmentation; the labels mix with the images.
    public var mixing: BatchMixing

    public init(examples: Dataset, augmentation: Augmentation = .none, mixing: BatchMixing = .none) {
        self.examples = examples
        self.augmentation = augmentation
        self.mixing = mixing
    }
}
