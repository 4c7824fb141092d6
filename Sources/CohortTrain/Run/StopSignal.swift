import CohortDistributed
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// SIGINT, SIGTERM and SIGUSR1 (which mpirun forwards to every rank; launch/train sends it on
/// Ctrl-C and on Slurm's signals) ask a run to stop after the current step: the ranks agree on the
/// last step, the latest checkpoint is written, and the run ends saying how to resume. A second
/// signal exits at once.
public enum StopSignal {
    /// The signal received (0: none). Written by the handler, read by the training loop.
    nonisolated(unsafe) private static var received: sig_atomic_t = 0

    /// Installs the handlers (once per process).
    public static func install() {
        for s in [SIGINT, SIGTERM, SIGUSR1] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signal in
                if StopSignal.received != 0 { _exit(128 + signal) }  // the second one: at once
                StopSignal.received = signal
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(s, &action, nil)
        }
    }

    /// The signal this process received, if any.
    public static var pending: Int32? { received == 0 ? nil : received }

    static func name(_ signal: Int32) -> String {
        switch signal {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        case SIGUSR1: return "a stop request (SIGUSR1, as launch/train sends on Ctrl-C or on a Slurm signal)"
        default: return "signal \(signal)"
        }
    }
}

/// A run stopped by a signal, its latest checkpoint written at `step`.
public struct RunStopped: Error, CustomStringConvertible {
    public let signal: Int32
    public let step: Int
    public let totalSteps: Int
    public let folder: String

    public var description: String {
        "stopped by \(StopSignal.name(signal)) after step \(step) of \(totalSteps); the latest checkpoint in \(folder) holds it: continue with the same command and --resume"
    }

    /// The exit status of a process ended by the signal (130 for SIGINT, 143 for SIGTERM).
    public var exitCode: Int32 { 128 + signal }
}
