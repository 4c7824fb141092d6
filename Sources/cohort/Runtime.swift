import ArgumentParser
import Cohort
import CohortDistributed
import CohortTrain
import Foundation

/// What the commands share at start-up: the communicator and the error policy under MPI.
extension Runtime {
    /// MPI when started by mpirun, otherwise the world of one.
    static func communicator() throws -> Communicator {
        // Progress lines reach a log file or pipe as they happen, not when the buffer fills.
        setvbuf(stdout, nil, _IOLBF, 0)
        _ = CPU.cap  // a COHORT_CPU that names no level ends the process here, on every rank, before any work
        guard MPICommunicator.launchedByMPI else { return SingleProcessCommunicator() }
        // Every collective of the job is a watched wait: a rank that stops making progress ends
        // the job with a message instead of freezing the others (distributed.timeout).
        let mpi = try MPICommunicator()
        return WatchedCommunicator(mpi, watchdog: Watchdog(rank: mpi.rank))
    }

    /// Runs `body`; an error becomes one line (prefixed "rank N:" in a multi-rank job) and, with
    /// several ranks, MPI_Abort so that no other rank waits forever in a collective.
    static func guarded(_ comm: Communicator, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as ExitCode {
            throw error
        } catch {
            let prefix = comm.size > 1 ? "rank \(comm.rank): " : ""
            let line = "cohort: \(prefix)error: \(error)\n"
            FileHandle.standardError.write(Data(line.utf8))
            if comm.size > 1 { FailureReport.record(line) }
            if comm.size > 1 { comm.abort(code: 1) }
            throw ExitCode.failure
        }
    }
}
