import Cohort
import CohortDistributed
import CohortNN

/// Periodic checks that all ranks hold the same model (the start-up check is `StartupAgreement`).
public enum Consistency {
    /// FNV-1a over bytes.
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }

    /// Compares a checksum of the parameter arena across ranks; after a synchronous step they must
    /// be bitwise identical.
    public static func checkSameParameters(_ arena: ParameterArena, _ comm: Communicator, step: Int) throws {
        guard comm.size > 1 else { return }
        let v = arena.values
        let mine = hash(UnsafeRawBufferPointer(start: v.pointer, count: v.count * 4))
        let all = try comm.allgather(mine)
        if let other = all.firstIndex(where: { $0 != all[0] }) {
            throw CohortError.invalid("step \(step): parameters differ between rank 0 and rank \(other) (checksums \(String(all[0], radix: 16)) vs \(String(all[other], radix: 16))); the ranks have diverged")
        }
    }

    /// BatchNorm running statistics differ per rank (each saw its own shard): their average, on
    /// every rank, before evaluating or saving.
    public static func averageBuffers(_ model: Model, _ comm: Communicator) throws {
        if comm.size > 1 && model.buffers.count > 1 {
            try comm.allreduce(model.buffers.values.pointer, count: model.buffers.count, average: true)
        }
    }
}
