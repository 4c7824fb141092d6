import Cohort
import Foundation

/// Faults the tests inject through the environment, so a failing or dying rank can be tested under
/// mpirun: COHORT_INJECT_NAN="RANK:STEP" makes that rank's input NaN at that step,
/// COHORT_INJECT_KILL="RANK:STEP" makes that rank die by SIGKILL there.
public struct FaultInjection: Sendable {
    public var nanStep: Int?
    public var killStep: Int?

    public init(nanStep: Int? = nil, killStep: Int? = nil) {
        self.nanStep = nanStep
        self.killStep = killStep
    }

    public static func fromEnvironment(rank: Int) -> FaultInjection {
        func step(_ variable: String) -> Int? {
            guard let spec = ProcessInfo.processInfo.environment[variable] else { return nil }
            let parts = spec.split(separator: ":").compactMap { Int($0) }
            return parts.count == 2 && parts[0] == rank ? parts[1] : nil
        }
        return FaultInjection(nanStep: step("COHORT_INJECT_NAN"), killStep: step("COHORT_INJECT_KILL"))
    }

    /// Applies the faults of step `step` (1-based) to its input.
    func apply(step: Int, input: Var) {
        if nanStep == step { input.value.pointer[0] = .nan }
        if killStep == step { kill(getpid(), SIGKILL) }
    }
}
