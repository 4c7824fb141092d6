import ArgumentParser
import Cohort
import CohortDistributed
import CohortTrain
import Foundation

struct BenchAllreduce: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allreduce",
        abstract: "MPI allreduce time and bus bandwidth for 4 KB to 64 MB, against memcpy bandwidth measured in the same run (run under mpirun).")

    @Option(help: "Smallest message in bytes.") var minBytes: Int = 4 << 10
    @Option(help: "Largest message in bytes.") var maxBytes: Int = 64 << 20
    @Option(help: "Seconds per size (approximately).") var seconds: Double = 0.3

    func run() throws {
        let comm = try Runtime.communicator()
        try Runtime.guarded(comm) {
            guard minBytes >= 4, maxBytes >= minBytes else { throw CohortError.invalid("bench allreduce: need 4 <= --min-bytes <= --max-bytes") }
            let buffer = Tensor(zeros: [maxBytes / 4])
            let scratch = Tensor(zeros: [maxBytes / 4])
            if comm.rank == 0 {
                print("ranks: \(comm.size) (\(comm.localSize) on this node); algorithm: Open MPI's MPI_Allreduce (coll/tuned decides per size)")
                print("     bytes    time/op    bus GB/s   memcpy GB/s   bus/memcpy")
            }
            var bytes = minBytes
            while bytes <= maxBytes {
                let n = bytes / 4
                // Every rank agrees on the repetition count (rank 0's estimate), or they would deadlock.
                try comm.allreduce(buffer.pointer, count: n, average: false)  // warm-up
                let t0 = Runtime.now()
                try comm.allreduce(buffer.pointer, count: n, average: false)
                var estimate = [Swift.max(1, Double(Int(seconds / Swift.max(Runtime.now() - t0, 1e-6)))) * (comm.rank == 0 ? 1 : 0)]
                try comm.allreduce(&estimate)
                let reps = Swift.min(Int(estimate[0]), 10_000)
                try comm.barrier()
                let start = Runtime.now()
                for _ in 0..<reps { try comm.allreduce(buffer.pointer, count: n, average: false) }
                let dt = (Runtime.now() - start) / Double(reps)
                // Bus bandwidth (as nccl-tests define it): bytes * 2 (n - 1) / n per unit time.
                let busBW = Double(bytes) * 2 * Double(comm.size - 1) / Double(comm.size) / dt / 1e9
                let memcpyStart = Runtime.now()
                for _ in 0..<Swift.max(reps, 3) { memcpy(scratch.pointer, buffer.pointer, bytes) }
                let memcpyBW = Double(bytes) * Double(Swift.max(reps, 3)) / (Runtime.now() - memcpyStart) / 1e9
                if comm.rank == 0 {
                    print(String(format: "%10d  %7.1f µs   %8.2f   %11.2f   %10.2f", bytes, dt * 1e6, busBW, memcpyBW, busBW / memcpyBW))
                }
                bytes *= 2
            }
        }
    }
}
