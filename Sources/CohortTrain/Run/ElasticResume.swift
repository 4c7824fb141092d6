import Cohort
import CohortDistributed
import CohortFormats
import Foundation

/// A synchronous run resumed on another number of ranks than wrote its checkpoint keeps the
/// global batch (examples per optimizer step over all ranks), so the model, the schedule and the
/// sample sequence go on as they would have: step s still covers positions [s G, (s + 1) G) of
/// the epoch's permutation (the sampler gives rank r every world-size-th position), whatever
/// the world size. What changes is how the G examples are cut: the per-rank micro-batch is kept
/// and `training.accumulate` takes up the difference where it can, else the accumulation is kept
/// and the per-rank batch changes. A G that the new number of ranks does not divide is refused.
enum ElasticResume {
    /// What the checkpoint's run was: its ranks and global batch (nil in checkpoints from before
    /// elastic resume, which resume as they were configured).
    struct Written: Equatable {
        let ranks: Int, globalBatch: Int
    }

    /// The `Written` of the latest checkpoint in `folder`, as rank 0 reads it (collective: every
    /// rank gets rank 0's answer).
    static func written(_ url: URL, _ comm: Communicator) throws -> Written? {
        var values = [0.0, 0.0]
        // No file: the restore that follows says so.
        if comm.rank == 0 && FileManager.default.fileExists(atPath: url.path) {
            let file = try Safetensors.read(from: url)
            if let json = file.metadata["train_state"] {
                let state = try TrainState.jsonDecoder().decode(TrainState.self, from: Data(json.utf8))
                values = [Double(state.worldSize ?? 0), Double(state.globalBatch ?? 0)]
            }
        }
        try comm.allreduce(&values)  // rank 0's values; the others add zeros
        return values[0] > 0 && values[1] > 0 ? Written(ranks: Int(values[0]), globalBatch: Int(values[1])) : nil
    }

    /// The training section for `ranks` ranks that keeps `written`'s global batch; nil when the
    /// configured one already does.
    static func rebatch(_ training: TrainingConfig, from written: Written, ranks: Int) throws -> TrainingConfig? {
        let g = written.globalBatch
        guard training.batchSize * training.accumulate * ranks != g else { return nil }
        guard g % ranks == 0 else {
            throw CohortError.invalid("--resume on \(ranks) ranks: the checkpoint's global batch of \(g) (written by \(written.ranks) ranks) is not a multiple of \(ranks); resume on a number of ranks that divides it")
        }
        let perRank = g / ranks
        var t = training
        if perRank % training.batchSize == 0 {
            t.accumulate = perRank / training.batchSize
        } else if perRank % training.accumulate == 0 {
            t.batchSize = perRank / training.accumulate
        } else {
            t.batchSize = perRank
            t.accumulate = 1
        }
        return t
    }

    /// The log line of a resume that changed the batch.
    static func describe(_ before: TrainingConfig, _ after: TrainingConfig, from written: Written, ranks: Int) -> String {
        func plural(_ n: Int) -> String { n == 1 ? "\(n) rank" : "\(n) ranks" }
        return "resumed on \(plural(ranks)) from a checkpoint written by \(written.ranks): training.batch_size \(before.batchSize) -> \(after.batchSize) per rank, training.accumulate \(before.accumulate) -> \(after.accumulate) (global batch \(written.globalBatch) kept)"
    }
}
