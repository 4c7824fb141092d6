import Cohort

/// An in-place sum over ranks with the values on the wire in `format`.
///
/// fp32 is Open MPI's MPI_Allreduce. The 16-bit formats are a reduce-scatter and an allgather: every
/// rank rounds its values to 16 bits (adding the rounding error it kept from the last call when error
/// feedback is on), sends chunk j to rank j (MPI_Alltoallv), sums the chunks it receives in fp32 in
/// rank order, scales, rounds the result once more and sends it to every rank (MPI_Allgatherv). So
/// each value is rounded twice, not once per hop, and every rank decodes the same 16-bit result:
/// the ranks end with identical bits. All buffers are allocated once.
///
/// `bytesSent` counts what this rank hands to MPI for other ranks: the chunks of the exchange and
/// (P - 1) copies of its result chunk, 2 (P - 1) / P of the values per rank on average. For fp32 it
/// counts the same volume at 4 bytes a value (what a bandwidth-optimal allreduce, such as Open
/// MPI's ring for large messages, sends), so the formats compare byte for byte.
public final class WireAllreduce {
    public let format: WireFormat
    public let communicator: Communicator
    public private(set) var bytesSent = 0
    /// Error feedback: per value of the reduced arena, what rounding took from it last time.
    private let residual: UnsafeMutablePointer<Float>?
    private let residualCount: Int
    private let maxCount: Int
    private let wire: UnsafeMutablePointer<UInt16>       // this rank's values, then the gathered result
    private let received: UnsafeMutablePointer<UInt16>   // every rank's copy of this rank's chunk
    private let sum: UnsafeMutablePointer<Float>
    private let counts: UnsafeMutablePointer<Int32>      // [0, P): chunk sizes; [P, 2P): chunk offsets;
                                                         // [2P, 3P): this chunk from each rank; [3P, 4P): where

    /// `maxCount`: the most values one call reduces; `errorFeedbackCount`: the floats of the arena
    /// whose rounding errors are kept (nil: no error feedback).
    public init(format: WireFormat, communicator: Communicator, maxCount: Int, errorFeedbackCount: Int? = nil) {
        self.format = format
        self.communicator = communicator
        self.maxCount = maxCount
        let p = communicator.size
        let chunk = (maxCount + p - 1) / p + 1
        wire = .allocate(capacity: max(maxCount, 1))
        received = .allocate(capacity: max(chunk * p, 1))
        sum = .allocate(capacity: chunk)
        counts = .allocate(capacity: 4 * p)
        counts.initialize(repeating: 0, count: 4 * p)
        residualCount = errorFeedbackCount ?? 0
        if let n = errorFeedbackCount, format != .fp32 {
            residual = .allocate(capacity: max(n, 1))
            residual!.initialize(repeating: 0, count: max(n, 1))
        } else {
            residual = nil
        }
    }

    deinit {
        wire.deallocate(); received.deallocate(); sum.deallocate(); counts.deallocate()
        residual?.deallocate()
    }

    /// Bytes all ranks together send for one call on `count` values over `ranks` ranks.
    public static func bytesPerCall(count: Int, ranks: Int, format: WireFormat) -> Int {
        2 * (ranks - 1) * count * format.bytesPerValue
    }

    /// Replaces `buffer[0..<count]` with its sum over ranks times `scale`. `residualOffset`: where
    /// these values sit in the error-feedback arena. Collective.
    public func allreduce(_ buffer: UnsafeMutablePointer<Float>, count: Int, scale: Float, residualOffset: Int = 0) throws {
        precondition(count <= maxCount, "WireAllreduce: \(count) values, made for \(maxCount)")
        let p = communicator.size, me = communicator.rank
        if format == .fp32 {
            try communicator.allreduce(buffer, count: count, average: false)
            if scale != 1 { for i in 0..<count { buffer[i] *= scale } }
            bytesSent += Self.bytesPerCall(count: count, ranks: p, format: .fp32) / p
            return
        }
        precondition(residual == nil || residualOffset + count <= residualCount, "WireAllreduce: residual range out of bounds")
        for j in 0..<p {
            counts[p + j] = Int32(count * j / p)
            counts[j] = Int32(count * (j + 1) / p) - counts[p + j]
        }
        let mine = Int(counts[me]), lo = Int(counts[p + me])
        for i in 0..<p {
            counts[2 * p + i] = Int32(mine)
            counts[3 * p + i] = Int32(i * mine)
        }
        WireCodec.encode(format, buffer, count: count, into: wire, residual: residual.map { $0 + residualOffset })
        try communicator.alltoall(wire, counts: counts, offsets: counts + p, into: received, receiveCounts: counts + 2 * p,
                                  receiveOffsets: counts + 3 * p)
        // This rank's chunk, summed in fp32 in rank order (the same order whichever rank owns it).
        sum.update(repeating: 0, count: mine)
        for i in 0..<p { WireCodec.accumulate(format, received + i * mine, count: mine, into: sum) }
        if scale != 1 { for k in 0..<mine { sum[k] *= scale } }
        WireCodec.encode(format, sum, count: mine, into: wire + lo, residual: nil)
        try communicator.allgather(inPlace: wire, counts: counts, offsets: counts + p)
        WireCodec.decode(format, wire, count: count, into: buffer)
        bytesSent += (count - mine + (p - 1) * mine) * 2
    }
}
