import Cohort
import CohortDistributed
import Foundation

extension SharedArena {
    /// The node's shared parameter segment for Hogwild (collective over the ranks, which must all be
    /// on this node): every rank's model points its parameter arena at it.
    static func hogwild(floats: Int, communicator comm: Communicator) throws -> SharedArena {
        guard comm.localSize == comm.size else {
            throw CohortError.invalid("distributed.mode: hogwild shares memory within one node, but the \(comm.size) ranks span several nodes; run one Hogwild job per node, or use mode: sync")
        }
        // A key all ranks agree on: rank 0's process id (unique on the node while the job runs).
        let key = String(try comm.allgather(UInt64(getpid()))[0], radix: 16)
        return try SharedArena(floats: floats, jobKey: key, isCreator: comm.rank == 0, barrier: { try comm.barrier() })
    }
}
