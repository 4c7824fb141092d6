import ArgumentParser
import Cohort
import CohortDistributed
import CohortTrain
import Foundation

struct BenchAllreduce: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allreduce",
        abstract: "Allreduce time, bytes sent and bus bandwidth per wire type (fp32, bf16, fp16) for 4 KB to 64 MB of fp32 gradients, against memcpy bandwidth measured in the same run (run under mpirun).")

    @Option(help: "Smallest message in bytes (of fp32 values).") var minBytes: Int = 4 << 10
    @Option(help: "Largest message in bytes (of fp32 values).") var maxBytes: Int = 64 << 20
    @Option(help: "Seconds per size and wire type (approximately).") var seconds: Double = 0.3
    @Option(parsing: .upToNextOption, help: "Wire types to measure.") var wire: [WireFormat] = WireFormat.allCases

    func run() throws {
        let comm = try Runtime.communicator()
        try Runtime.guarded(comm) {
            guard minBytes >= 4, maxBytes >= minBytes else { throw CohortError.invalid("bench allreduce: need 4 <= --min-bytes <= --max-bytes") }
            let buffer = Tensor(zeros: [maxBytes / 4])
            let scratch = Tensor(zeros: [maxBytes / 4])
            let reducers = wire.map { WireAllreduce(format: $0, communicator: comm, maxCount: maxBytes / 4) }
            if comm.rank == 0 {
                print("ranks: \(comm.size) (\(comm.localSize) on this node); fp32: Open MPI's MPI_Allreduce (coll/tuned decides per size); bf16, fp16: MPI_Alltoallv + MPI_Allgatherv of 16-bit values, summed in fp32")
                print("bytes: fp32 gradient bytes reduced; sent/rank: bytes each rank sends per allreduce (2 (P-1)/P of the values at the wire's size); bus GB/s: sent/rank over the time; gradient GB/s: the fp32 bus bandwidth the same time would be")
                print("     bytes  wire     time/op     sent/rank    bus GB/s   gradient GB/s   memcpy GB/s   gradient/memcpy")
            }
            var bytes = minBytes
            while bytes <= maxBytes {
                let n = bytes / 4
                let memcpyStart = Runtime.now()
                let copies = Swift.max(3, Int(1e8) / bytes)
                for _ in 0..<copies { memcpy(scratch.pointer, buffer.pointer, bytes) }
                let memcpyBW = Double(bytes) * Double(copies) / (Runtime.now() - memcpyStart) / 1e9
                for reducer in reducers {
                    let dt = try CollectiveTiming.seconds(per: { try reducer.allreduce(buffer.pointer, count: n, scale: 1) }, seconds: seconds, comm: comm)
                    let sent = Double(WireAllreduce.bytesPerCall(count: n, ranks: comm.size, format: reducer.format)) / Double(comm.size)
                    // Bus bandwidth as nccl-tests define it for fp32: bytes * 2 (n - 1) / n per unit time.
                    let gradientBW = Double(bytes) * 2 * Double(comm.size - 1) / Double(comm.size) / dt / 1e9
                    if comm.rank == 0 {
                        print(String(format: "%10d  %@  %8.1f µs  %12.0f  %10.2f   %13.2f   %11.2f   %15.2f", bytes, reducer.format.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0),
                                     dt * 1e6, sent, sent / dt / 1e9, gradientBW, memcpyBW, gradientBW / memcpyBW))
                    }
                }
                bytes *= 2
            }
        }
    }
}
