import Cohort

/// A hyperparameter that fails validation: the config key it comes from and why, so the config
/// decoder can report "optimizer.momentum: must be in [0, 1), got 1.5" and a direct construction
/// "sgd.momentum: ...".
struct OptionIssue: Error {
    let key: String
    let reason: String

    func error(in owner: String) -> CohortError { .invalid("\(owner).\(key): \(reason)") }
}

/// Small range checks shared by the optimizers' options and the configs.
enum OptionCheck {
    static func atLeast(_ value: Float, _ low: Float, _ key: String) throws {
        guard value >= low, value.isFinite else { throw OptionIssue(key: key, reason: "must be at least \(low), got \(value)") }
    }

    static func positive(_ value: Float, _ key: String) throws {
        guard value > 0, value.isFinite else { throw OptionIssue(key: key, reason: "must be positive, got \(value)") }
    }

    /// low <= value < high.
    static func halfOpen(_ value: Float, _ low: Float, _ high: Float, _ key: String) throws {
        guard value >= low, value < high else { throw OptionIssue(key: key, reason: "must be in [\(low), \(high)), got \(value)") }
    }

    static func closed(_ value: Float, _ low: Float, _ high: Float, _ key: String) throws {
        guard value >= low, value <= high else { throw OptionIssue(key: key, reason: "must be in [\(low), \(high)], got \(value)") }
    }

    /// Runs `check`, turning an issue into a one-line CohortError owned by `owner` ("sgd", "adam"...).
    static func validate(_ owner: String, _ check: () throws -> Void) throws {
        do { try check() } catch let issue as OptionIssue { throw issue.error(in: owner) }
    }
}
