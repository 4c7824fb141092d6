import Cohort

/// Which ranks form a node, and the communicators multi-node training runs over: the node's ranks
/// (shared memory: Hogwild's arena, the node's gradient average, the heartbeat board) and one
/// rank per node, its leader (the exchanges between nodes).
///
/// Nodes are what MPI_Comm_split_type(MPI_COMM_TYPE_SHARED) says, unless `ranksPerNode` is set:
/// then each `ranksPerNode` consecutive ranks form a node, so that `mpirun -np 4` on one machine
/// runs as 2 nodes x 2 ranks through every multi-node path (`distributed.ranks_per_node`).
public final class NodeTopology {
    public let world: Communicator
    /// The ranks of this rank's node, in world order (the world itself when there is one node).
    public let node: Communicator
    /// The node leaders (node rank 0 of each node), in node order; nil on the other ranks.
    public let leaders: Communicator?
    public let nodeIndex: Int
    public let nodeCount: Int

    public var isLeader: Bool { node.rank == 0 }
    public var spansNodes: Bool { nodeCount > 1 }

    /// Refuses a fake topology that does not fit the job; no collective, so every rank can say it
    /// before waiting on any other.
    public static func check(ranksPerNode: Int?, worldSize: Int) throws {
        guard let n = ranksPerNode else { return }
        if worldSize % n != 0 {
            throw CohortError.invalid("distributed.ranks_per_node: \(n) does not divide the job's \(worldSize) rank\(worldSize == 1 ? "" : "s") (every node must have the same number of ranks)")
        }
    }

    /// Whether the job spans several nodes, known without a collective (the communicator knows its
    /// node's size from MPI's start-up).
    public static func spansNodes(ranksPerNode: Int?, world: Communicator) -> Bool {
        if let n = ranksPerNode { return world.size > n }
        return world.localSize < world.size
    }

    /// Collective over `world`.
    public init(world: Communicator, ranksPerNode: Int?) throws {
        try Self.check(ranksPerNode: ranksPerNode, worldSize: world.size)
        self.world = world
        if !Self.spansNodes(ranksPerNode: ranksPerNode, world: world) {
            node = world
            leaders = world.rank == 0 ? try world.split(color: 0, key: 0) : try world.split(color: nil, key: 0)
            nodeIndex = 0
            nodeCount = 1
            return
        }
        if let n = ranksPerNode {
            node = try world.split(color: world.rank / n, key: world.rank)!
        } else {
            node = try world.splitByNode()
        }
        // The node's other ranks never join the leaders' collectives: their waits do not count in the board.
        let split = try world.split(color: node.rank == 0 ? 0 : nil, key: world.rank)
        leaders = (split as? WatchedCommunicator)?.uncounted() ?? split
        // Every rank learns its node's place among the leaders and how many nodes there are.
        let fromLeader = try node.allgather(UInt64(leaders.map { $0.rank << 32 | $0.size } ?? 0))[0]
        nodeIndex = Int(fromLeader >> 32)
        nodeCount = Int(fromLeader & 0xffff_ffff)
    }
}
