import Cohort
import CohortDistributed

/// Times a collective the way every rank can agree on: a warm-up call, a first timed call from
/// which rank 0 estimates how many repetitions fill `seconds`, that count shared (ranks that
/// repeated a collective a different number of times would deadlock), then the mean over them.
public enum CollectiveTiming {
    /// Mean seconds per call of `body` (collective over `comm`).
    public static func seconds(per body: () throws -> Void, seconds budget: Double, comm: Communicator, maxRepetitions: Int = 10_000) throws -> Double {
        try body()  // warm-up
        let t0 = Runtime.now()
        try body()
        var estimate = [Swift.max(1, Double(Int(budget / Swift.max(Runtime.now() - t0, 1e-6)))) * (comm.rank == 0 ? 1 : 0)]
        try comm.allreduce(&estimate)
        let reps = Swift.min(Int(estimate[0]), maxRepetitions)
        try comm.barrier()
        let start = Runtime.now()
        for _ in 0..<reps { try body() }
        let mine = (Runtime.now() - start) / Double(reps)
        // The slowest rank's time is the collective's.
        return try comm.allgather(mine.bitPattern).map(Double.init(bitPattern:)).max()!
    }
}
