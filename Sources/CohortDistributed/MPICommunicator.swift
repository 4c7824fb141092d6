import CMPI
import Cohort
#if canImport(Glibc)
import Glibc
#endif

/// Open MPI behind the `Communicator` protocol. Created once per process (MPI_Init), finalised by
/// `finalize()` or at exit: mpirun reports a process that exits without MPI_Finalize as failed.
public final class MPICommunicator: Communicator {
    public let rank: Int, size: Int
    public let localRank: Int, localSize: Int
    /// The communicator this one runs over (MPI_COMM_WORLD, or a part split from it).
    let world: MPI_Comm
    /// Ranks on this node (MPI_Comm_split_type SHARED): Hogwild's shared memory lives here.
    public let nodeComm: MPI_Comm
    nonisolated(unsafe) private static var initialized = false

    /// Whether this process was started by mpirun (so MPI should be initialised).
    public static var launchedByMPI: Bool {
        let variables: [String] = ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"]
        return variables.contains { getenv($0) != nil }
    }

    public convenience init() throws {
        precondition(!MPICommunicator.initialized, "MPI is initialised once per process")
        var provided: Int32 = 0
        try MPICommunicator.check(MPI_Init_thread(nil, nil, MPI_THREAD_FUNNELED_, &provided), "MPI_Init_thread")
        MPICommunicator.initialized = true
        try self.init(comm: MPI_COMM_WORLD_)
        atexit { MPICommunicator.finalizeIfNeeded() }
    }

    /// Over `comm` (the world, or a communicator split from it).
    private init(comm: MPI_Comm) throws {
        world = comm
        // Errors come back as return codes so we can report them as "rank N: ..." and abort cleanly.
        MPI_Comm_set_errhandler(world, MPI_ERRORS_RETURN_)
        var r: Int32 = 0, s: Int32 = 0
        MPI_Comm_rank(world, &r)
        MPI_Comm_size(world, &s)
        rank = Int(r); size = Int(s)
        var node: MPI_Comm? = nil
        try MPICommunicator.check(MPI_Comm_split_type(world, MPI_COMM_TYPE_SHARED_, r, MPI_INFO_NULL_, &node), "MPI_Comm_split_type")
        nodeComm = node!
        MPI_Comm_rank(nodeComm, &r)
        MPI_Comm_size(nodeComm, &s)
        localRank = Int(r); localSize = Int(s)
    }

    static func finalizeIfNeeded() {
        var finalized: Int32 = 0
        MPI_Finalized(&finalized)
        if initialized && finalized == 0 { MPI_Finalize() }
    }

    public func finalize() { MPICommunicator.finalizeIfNeeded() }

    static func check(_ code: Int32, _ what: String) throws {
        guard code != 0 else { return }  // MPI_SUCCESS
        var buffer = [CChar](repeating: 0, count: 512)
        var length: Int32 = 0
        MPI_Error_string(code, &buffer, &length)
        throw CohortError.invalid("\(what) failed: \(String(cString: buffer))")
    }

    final class Request: CollectiveRequest {
        var request: MPI_Request?
        init(_ r: MPI_Request?) { request = r }
        func wait() throws {
            try MPICommunicator.check(MPI_Wait(&request, MPI_STATUS_IGNORE_), "MPI_Wait")
        }
        func test() throws -> Bool {
            var done: Int32 = 0
            try MPICommunicator.check(MPI_Test(&request, &done, MPI_STATUS_IGNORE_), "MPI_Test")
            return done != 0
        }
    }

    public func allreduce(_ buffer: UnsafeMutablePointer<Float>, count: Int, average: Bool) throws {
        try MPICommunicator.check(MPI_Allreduce(MPI_IN_PLACE_, buffer, Int32(count), MPI_FLOAT_, MPI_SUM_, world), "MPI_Allreduce")
        if average {
            let inv = 1 / Float(size)
            for i in 0..<count { buffer[i] *= inv }
        }
    }

    public func startAllreduce(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws -> CollectiveRequest {
        var request: MPI_Request? = nil
        try MPICommunicator.check(MPI_Iallreduce(MPI_IN_PLACE_, buffer, Int32(count), MPI_FLOAT_, MPI_SUM_, world, &request), "MPI_Iallreduce")
        return Request(request)
    }

    public func allreduce(_ values: inout [Double]) throws {
        let n = Int32(values.count)
        try values.withUnsafeMutableBufferPointer {
            try MPICommunicator.check(MPI_Allreduce(MPI_IN_PLACE_, $0.baseAddress, n, MPI_DOUBLE_, MPI_SUM_, world), "MPI_Allreduce")
        }
    }

    public func broadcast(_ buffer: UnsafeMutablePointer<Float>, count: Int, root: Int) throws {
        try MPICommunicator.check(MPI_Bcast(buffer, Int32(count), MPI_FLOAT_, Int32(root), world), "MPI_Bcast")
    }

    public func allgather(_ value: UInt64) throws -> [UInt64] {
        var mine = value
        var all = [UInt64](repeating: 0, count: size)
        try all.withUnsafeMutableBufferPointer { out in
            try MPICommunicator.check(MPI_Allgather(&mine, 1, MPI_UINT64_T_, out.baseAddress, 1, MPI_UINT64_T_, world), "MPI_Allgather")
        }
        return all
    }

    public func allgather(bytes: [UInt8]) throws -> [[UInt8]] {
        var mine = Int32(bytes.count)
        var counts = [Int32](repeating: 0, count: size)
        try counts.withUnsafeMutableBufferPointer { out in
            try MPICommunicator.check(MPI_Allgather(&mine, 1, MPI_INT_, out.baseAddress, 1, MPI_INT_, world), "MPI_Allgather")
        }
        var offsets = [Int32](repeating: 0, count: size)
        for r in 1..<max(size, 1) { offsets[r] = offsets[r - 1] + counts[r - 1] }
        var all = [UInt8](repeating: 0, count: Int(counts.reduce(0, +)))
        try bytes.withUnsafeBufferPointer { send in
            try all.withUnsafeMutableBufferPointer { out in
                try MPICommunicator.check(MPI_Allgatherv(send.baseAddress, mine, MPI_UINT8_T_, out.baseAddress, counts, offsets, MPI_UINT8_T_, world),
                                          "MPI_Allgatherv")
            }
        }
        return (0..<size).map { Array(all[Int(offsets[$0])..<Int(offsets[$0] + counts[$0])]) }
    }

    public func barrier() throws {
        try MPICommunicator.check(MPI_Barrier(world), "MPI_Barrier")
    }

    public func alltoall(_ send: UnsafePointer<UInt16>, counts: UnsafePointer<Int32>, offsets: UnsafePointer<Int32>,
                         into receive: UnsafeMutablePointer<UInt16>, receiveCounts: UnsafePointer<Int32>, receiveOffsets: UnsafePointer<Int32>) throws {
        try MPICommunicator.check(MPI_Alltoallv(send, counts, offsets, MPI_UINT16_T_, receive, receiveCounts, receiveOffsets, MPI_UINT16_T_, world),
                                  "MPI_Alltoallv")
    }

    public func allgather(inPlace buffer: UnsafeMutablePointer<UInt16>, counts: UnsafePointer<Int32>, offsets: UnsafePointer<Int32>) throws {
        try MPICommunicator.check(MPI_Allgatherv(MPI_IN_PLACE_, 0, MPI_UINT16_T_, buffer, counts, offsets, MPI_UINT16_T_, world), "MPI_Allgatherv")
    }

    public func split(color: Int?, key: Int) throws -> Communicator? {
        var part: MPI_Comm? = nil
        try MPICommunicator.check(MPI_Comm_split(world, color.map(Int32.init) ?? MPI_UNDEFINED_, Int32(key), &part), "MPI_Comm_split")
        return color == nil ? nil : try MPICommunicator(comm: part!)
    }

    public func splitByNode() throws -> Communicator {
        var part: MPI_Comm? = nil
        try MPICommunicator.check(MPI_Comm_dup(nodeComm, &part), "MPI_Comm_dup")
        return try MPICommunicator(comm: part!)
    }

    /// Ends the whole job (every rank of the world, whichever communicator this is).
    public func abort(code: Int32) -> Never {
        MPI_Abort(MPI_COMM_WORLD_, code)
        exit(code)
    }
}
