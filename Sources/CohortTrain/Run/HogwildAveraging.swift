import Cohort
import CohortDistributed

/// Hogwild across nodes: each node trains Hogwild on its own shared arena, and every
/// `distributed.average_every` steps of the node the node leaders average their arenas over MPI
/// (post-local SGD's model averaging, with Hogwild inside each node). The node's other ranks never
/// stop: the leader copies the arena, averages the copy with the other leaders, and adds the
/// change (average - copy) to the live arena, so the updates the others applied meanwhile stay.
///
/// Every leader must make the same averages in the same order. So they are counted in steps,
/// which every node reaches (seconds would not give every node the same count): average k happens
/// when the node's step reaches k x average_every, or, for a node that ran out of steps first,
/// right after its training ends. Each average also exchanges the leaders' stop codes (early
/// stopping, a signal), so all nodes stop after the same average. One last average after every
/// node has stopped writing makes the arenas equal: checkpoints and evaluation use it.
final class HogwildAveraging {
    let leaders: Communicator
    let arena: UnsafeMutablePointer<Float>
    let count: Int
    let every: Int
    /// Averages while training: one per `every` steps of the run.
    let scheduled: Int
    private(set) var done = 0
    /// Set once the leaders have agreed to stop (the code: 1 early stopping, else a signal).
    private(set) var agreedStop: UInt64 = 0
    private let copy: Storage
    /// The latest average (what rank 0 evaluates).
    let average: Storage

    init(leaders: Communicator, arena: Storage, count: Int, every: Int, totalSteps: Int) {
        self.leaders = leaders
        self.arena = arena.pointer
        self.count = count
        self.every = every
        scheduled = totalSteps / every
        copy = Storage(capacity: max(count, 1))
        average = Storage(capacity: max(count, 1))
    }

    /// Averages if the node has reached the next scheduled step; true when it did.
    func averageIfDue(nodeStep: Int, stopCode: UInt64) throws -> Bool {
        guard agreedStop == 0, done < scheduled, nodeStep >= (done + 1) * every else { return false }
        try averageOnce(stopCode: stopCode, whileTraining: true)
        return true
    }

    /// After the node has stopped writing: the scheduled averages the other nodes may still be
    /// making (unless a stop was agreed), then the final one, written over the arena.
    func finish(stopCode: UInt64) throws {
        while agreedStop == 0 && done < scheduled { try averageOnce(stopCode: stopCode, whileTraining: false) }
        try averageOnce(stopCode: stopCode, whileTraining: false)
    }

    private func averageOnce(stopCode: UInt64, whileTraining: Bool) throws {
        let a = average.pointer, c = copy.pointer
        c.update(from: arena, count: count)
        a.update(from: c, count: count)
        try leaders.allreduce(a, count: count, average: true)
        let codes = try leaders.allgather(stopCode)
        if agreedStop == 0 { agreedStop = codes.max()! }
        if whileTraining {
            for i in 0..<count { arena[i] += a[i] - c[i] }
        } else {
            arena.update(from: a, count: count)
        }
        done += 1
    }
}
