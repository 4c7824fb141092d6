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
/// A Hogwild run keeps its share of training done and its samplers' place (`hogwild`).
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

    /// A Hogwild run resumed on `ranks` ranks: the same share of training done (a step is one
    /// update per rank, so `ranks` ranks have W / ranks times the steps per epoch of W ranks), and
    /// every sampler placed where the examples all old ranks had reached end. Old rank r drew
    /// positions r, r + W, ... of the epoch's order; with p the fewest any rank at the earliest
    /// epoch took, positions below W p are done. The new ranks take their shards from there (new
    /// rank r from position r + ranks q, q = W p / ranks), so an example the faster ranks had
    /// reached beyond W p is drawn again: Hogwild's ranks never agree on a place, and this keeps
    /// every example at least once. Returns the new step and the samplers' [epoch, position]s
    /// (nil when the checkpoint holds no places: the run resumes at its epoch's start).
    static func hogwild(step: Int, places: [[Int]]?, from written: Written, ranks: Int) -> (step: Int, places: [[Int]]?) {
        let newStep = step * written.ranks / ranks
        guard let places, places.count == written.ranks, places.allSatisfy({ $0.count == 2 }) else { return (newStep, nil) }
        let epoch = places.map { $0[0] }.min()!
        let fewest = places.filter { $0[0] == epoch }.map { $0[1] }.min()!
        let position = fewest * written.ranks / ranks
        return (newStep, Array(repeating: [epoch, position], count: ranks))
    }

    /// The log line of a Hogwild resume on another number of ranks.
    static func describeHogwild(from written: Written, ranks: Int, step: Int, newStep: Int, totalSteps: Int, places: [[Int]]?) -> String {
        let where_ = places.map { "every sampler from example \($0[0][1] * ranks) of epoch \($0[0][0] + 1)'s order" }
            ?? "the samplers from the start of the epoch (the checkpoint holds no places)"
        return "resumed on \(ranks == 1 ? "1 rank" : "\(ranks) ranks") from a Hogwild checkpoint written by \(written.ranks): step \(step) -> \(newStep) of \(totalSteps) (the same share of training), \(where_)"
    }

    /// The log line of a resume that changed the batch.
    static func describe(_ before: TrainingConfig, _ after: TrainingConfig, from written: Written, ranks: Int) -> String {
        func plural(_ n: Int) -> String { n == 1 ? "\(n) rank" : "\(n) ranks" }
        return "resumed on \(plural(ranks)) from a checkpoint written by \(written.ranks): training.batch_size \(before.batchSize) -> \(after.batchSize) per rank, training.accumulate \(before.accumulate) -> \(after.accumulate) (global batch \(written.globalBatch) kept)"
    }
}
