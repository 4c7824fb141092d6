/// The held-out sets a run evaluates on: its name in metrics.jsonl ("split") and TensorBoard tags.
public enum EvaluationSplit: String, Codable, Sendable {
    /// At the end of every epoch (early stopping, the best checkpoint, plateau schedules).
    case validation
    /// At the end of the run, and with `training.eval_test` at the end of every epoch.
    case test
}
