import Cohort
import Foundation

/// Faults the tests inject through the environment, so a failing, dying or stalled rank can be
/// tested under mpirun: COHORT_INJECT_NAN="RANK:STEP" makes that rank's input NaN at that step,
/// COHORT_INJECT_KILL="RANK:STEP" makes that rank die by SIGKILL there, COHORT_INJECT_STOP="RANK:STEP"
/// stops it with SIGSTOP (alive, but making no progress).
public struct FaultInjection: Sendable {
    public var nanStep: Int?
    public var killStep: Int?
    public var stopStep: Int?

    public init(nanStep: Int? = nil, killStep: Int? = nil, stopStep: Int? = nil) {
        self.nanStep = nanStep
        self.killStep = killStep
        self.stopStep = stopStep
    }

    public static func fromEnvironment(rank: Int) -> FaultInjection {
        func step(_ variable: String) -> Int? {
            guard let spec = ProcessInfo.processInfo.environment[variable] else { return nil }
            let parts = spec.split(separator: ":").compactMap { Int($0) }
            return parts.count == 2 && parts[0] == rank ? parts[1] : nil
        }
        return FaultInjection(nanStep: step("COHORT_INJECT_NAN"), killStep: step("COHORT_INJECT_KILL"), stopStep: step("COHORT_INJECT_STOP"))
    }

    /// Applies the faults of step `step` (1-based) to its input.
    func apply(step: Int, input: Var) {
        if nanStep == step { input.value.pointer[0] = .nan }
        if killStep == step { kill(getpid(), SIGKILL) }
        if stopStep == step { kill(getpid(), SIGSTOP) }
    }
}
