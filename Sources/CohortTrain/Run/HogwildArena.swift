import Cohort
import CohortDistributed
import Foundation

extension SharedArena {
    /// A node's shared parameter segment for Hogwild (collective over `node`, the ranks of one
    /// node): every rank's model points its parameter arena at it.
    static func hogwild(floats: Int, node: Communicator) throws -> SharedArena {
        // A key the node's ranks agree on: its rank 0's process id (unique on the machine while the job runs).
        let key = String(try node.allgather(UInt64(getpid()))[0], radix: 16)
        return try SharedArena(floats: floats, jobKey: key, isCreator: node.rank == 0, barrier: { try node.barrier() })
    }
}
