import Cohort
import CohortDistributed
import Foundation

/// Hogwild's steps: every process of a node claims update numbers from the node's shared atomic
/// counter and takes its own sampler's next batch (`SamplerCursor`); the node is done when the
/// counter reaches epochs x steps-per-epoch x its ranks, or when any of its processes has asked
/// the node to stop (a signal, an error, early stopping, the nodes' agreed stop). A step is read
/// on the schedule at the node's global step (updates / ranks of the node), as synchronous steps
/// are, and draws its randomness from its update number.
final class HogwildSteps: StepSource {
    let arena: SharedArena
    let nodeSize: Int
    let totalUpdates: Int
    private(set) var cursor: SamplerCursor
    /// Steps this process has taken.
    private(set) var taken = 0

    init(arena: SharedArena, nodeSize: Int, totalUpdates: Int, cursor: SamplerCursor) {
        self.arena = arena
        self.nodeSize = nodeSize
        self.totalUpdates = totalUpdates
        self.cursor = cursor
    }

    func next() -> PlannedStep? {
        if let signal = StopSignal.pending { arena.requestStop(code: UInt64(signal)) }
        let claimed = Int(arena.addUpdates(1))
        if claimed >= totalUpdates || arena.stopRequested { return nil }
        let positions = cursor.take()
        taken += 1
        // Ranks step independently, so a step's number in messages and fault injection is this rank's own.
        return PlannedStep(positions: positions, stream: UInt64(claimed), number: taken, scheduleStep: claimed / nodeSize)
    }
}
