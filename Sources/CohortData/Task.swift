import Cohort

/// What a model learns (the config's top-level `task`).
public enum Task: String, ConfigChoice {
    /// Classes: cross-entropy, accuracy.
    case classification
    /// Real values: mean squared error, RMSE and MAE.
    case regression
}
