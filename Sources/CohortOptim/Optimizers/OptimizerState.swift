import Cohort

/// Named flat state buffers of an optimizer, with the step count stored alongside so a checkpoint of
/// `state` alone is enough to resume.
public enum OptimizerState {
    /// The key of the step count in `Optimizer.state`.
    public static let stepKey = "step"

    // Floats hold integers exactly only up to 2^24, so the step is stored as two 24-bit digits.
    private static let digit = 1 << 24

    /// A 2-element tensor [low, high] holding `step` = low + high * 2^24 exactly (step < 2^48).
    public static func stepTensor(_ step: Int) -> Tensor {
        precondition(step >= 0 && step < digit * digit, "step \(step) out of range")
        let t = Tensor(zeros: [2])
        t.pointer[0] = Float(step % digit)
        t.pointer[1] = Float(step / digit)
        return t
    }

    /// The step count stored under "step" in `state`.
    public static func step(in state: [String: Tensor]) throws -> Int {
        guard let t = state[stepKey] else { throw CohortError.invalid("optimizer state: missing '\(stepKey)'") }
        guard t.count == 2 else {
            throw CohortError.invalid("optimizer state '\(stepKey)': \(t.count) elements, expected 2")
        }
        let low = t.pointer[0], high = t.pointer[1]
        guard low >= 0, high >= 0, low < Float(digit), high < Float(digit), low.rounded() == low, high.rounded() == high else {
            throw CohortError.invalid("optimizer state '\(stepKey)': [\(low), \(high)] is not a step count")
        }
        return Int(low) + Int(high) * digit
    }

    /// Checks a snapshot against the buffers an optimizer has, before anything is copied: every
    /// buffer present with `count` elements, nothing unknown, and "step" (if present) equal to `step`.
    static func validate(_ state: [String: Tensor], expected names: [String], count: Int, step: Int, optimizer: String) throws {
        guard step >= 0 else { throw CohortError.invalid("\(optimizer) state: step must be non-negative, got \(step)") }
        let known = Set(names + [stepKey])
        if let unknown = state.keys.sorted().first(where: { !known.contains($0) }) {
            throw CohortError.invalid("\(optimizer) state: unexpected buffer '\(unknown)' (expected: \(known.sorted().joined(separator: ", ")))")
        }
        for name in names {
            guard let t = state[name] else {
                throw CohortError.invalid("\(optimizer) state: missing buffer '\(name)' (expected: \(known.sorted().joined(separator: ", ")))")
            }
            guard t.count == count else {
                throw CohortError.invalid("\(optimizer) state '\(name)': \(t.count) elements, expected \(count)")
            }
        }
        if state[stepKey] != nil {
            let stored = try OptimizerState.step(in: state)
            guard stored == step else {
                throw CohortError.invalid("\(optimizer) state: stored step \(stored) differs from the step given, \(step)")
            }
        }
    }

    /// `buffers` copied out, plus the step.
    static func snapshot(_ buffers: [(String, Tensor)], step: Int) -> [String: Tensor] {
        var out: [String: Tensor] = [stepKey: stepTensor(step)]
        for (name, t) in buffers { out[name] = t.copy() }
        return out
    }

    /// Copies validated `state` into `buffers`.
    static func restore(_ state: [String: Tensor], into buffers: [(String, Tensor)]) {
        for (name, t) in buffers {
            let source = state[name]!
            if t.count > 0 { t.pointer.update(from: source.pointer, count: t.count) }
        }
    }
}
