import ArgumentParser
import Cohort
import CohortDistributed
import CohortTrain
import Foundation

struct BenchScaling: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scaling",
        abstract: "Measures one rank's step and the allreduce curves (flat MPI, shared memory, hierarchical; per wire type) on this machine in one run, then projects synchronous training's throughput and efficiency on N nodes x M ranks with a latency-bandwidth model of the network.")

    @Option(help: "mlp, cnn or resnet.") var workload: ThroughputBench.Workload = .mlp
    @Option(help: "Timed steps of the one-rank compute measurement.") var steps: Int = 200
    @Option(help: "Ranks of the allreduce measurement under mpirun.") var ranks: Int = 4
    @Option(help: "Ranks per (fake) node of the allreduce measurement.") var ranksPerNode: Int = 2
    @Option(help: "Network bandwidth per node, Gbit/s.") var bandwidthGbps: Double = 25
    @Option(help: "Network latency per message, microseconds.") var latencyUs: Double = 5
    @Option(help: "Memory bandwidth a node gives its ranks' shared-memory average, GB/s (not measurable on 2 cores).") var nodeMemoryGBps: Double = 100
    @Option(help: "Node counts of the table (comma-separated).") var nodes: String = "1,2,4,8,16,32,64"
    @Option(help: "Ranks per node of the table (comma-separated).") var nodeRanks: String = "2,4,8,16,32,64"
    @Option(help: "Seconds per point of the allreduce curves (approximately).") var seconds: Double = 0.1
    @Flag(help: "Print the model and its inputs as one JSON line after the tables.") var json = false
    @Flag(help: .hidden) var measureCurves = false

    func run() throws {
        if measureCurves { return try measureUnderMPI() }
        try failOnError {
            let nodeCounts = try Self.list(nodes, "--nodes"), rankCounts = try Self.list(nodeRanks, "--node-ranks")
            guard steps > 0, ranks > 1, ranksPerNode > 0, bandwidthGbps > 0, latencyUs >= 0, nodeMemoryGBps > 0, seconds > 0 else {
                throw CohortError.invalid("bench scaling: --steps, --bandwidth-gbps, --node-memory-gbps and --seconds must be positive, --ranks at least 2")
            }
            try NodeTopology.check(ranksPerNode: ranksPerNode, worldSize: ranks)
            GEMM.setThreads(1)
            let compute = try ThroughputBench.run(workload: workload, steps: steps, distributed: DistributedConfig(),
                                                  communicator: SingleProcessCommunicator())
            let gradientBytes = compute.gradientValues * 4
            var sizes = [4 << 10]
            while sizes.last! < gradientBytes { sizes.append(sizes.last! * 2) }
            let line = try MPIRun.jsonLine(ranks: ranks, ["bench", "scaling", "--measure-curves", "--ranks-per-node", String(ranksPerNode),
                                                          "--seconds", String(seconds), "--nodes", sizes.map(String.init).joined(separator: ",")],
                                           what: "bench scaling")
            let curves = try JSONDecoder().decode(CollectiveCurves.self, from: line)
            let model = Self.model(compute: compute, curves: curves, latency: latencyUs * 1e-6, bandwidth: bandwidthGbps * 1e9 / 8,
                                   nodeMemory: nodeMemoryGBps * 1e9)
            print(ScalingReport(model: model, curves: curves, compute: compute, nodes: nodeCounts, ranksPerNode: rankCounts,
                                bandwidthGbps: bandwidthGbps, latencyUs: latencyUs, nodeMemoryGBps: nodeMemoryGBps).text)
            if json { print(String(decoding: try JSONEncoder().encode(model), as: UTF8.self)) }
        }
    }

    /// The child under mpirun: `--nodes` carries the message sizes.
    func measureUnderMPI() throws {
        let comm = try Runtime.communicator()
        try Runtime.guarded(comm) {
            let topology = try NodeTopology(world: comm, ranksPerNode: ranksPerNode)
            let curves = try CollectiveCurves.measure(topology: topology, sizes: try Self.list(nodes, "sizes"), seconds: seconds)
            if comm.rank == 0 { print(String(decoding: try JSONEncoder().encode(curves), as: UTF8.self)) }
        }
    }

    static func list(_ text: String, _ option: String) throws -> [Int] {
        let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw CohortError.invalid("bench scaling: \(option) takes positive whole numbers separated by commas, got '\(text)'")
        }
        return values.map { $0! }
    }

    /// The model's inputs from the measurements: the shared-memory line and this machine's MPI ring
    /// fitted on the curves, and the 16-bit codec's cost timed in this process.
    static func model(compute: ThroughputBench.Result, curves: CollectiveCurves, latency: Double, bandwidth: Double,
                      nodeMemory: Double) -> ScalingModel {
        let bytes = curves.bytes.map(Double.init)
        let shm = ScalingModel.Line.fit(bytes: bytes, seconds: curves.sharedMemory)
        // Flat fp32 over P ranks: 2(P-1) latency + 2(P-1)/P bytes / bandwidth.
        let p = Double(curves.ranks)
        let ring = ScalingModel.Line.fit(bytes: bytes, seconds: curves.flat[WireFormat.fp32.rawValue] ?? [])
        var codec: [WireFormat: Double] = [:]
        for wire in [WireFormat.bf16, .fp16] {
            let n = compute.gradientValues
            let buffer = Storage(capacity: n)
            buffer.pointer.initialize(repeating: 0.001, count: n)
            let reducer = WireAllreduce(format: wire, communicator: SingleProcessCommunicator(), maxCount: n)
            codec[wire] = ((try? CollectiveTiming.seconds(per: { try reducer.allreduce(buffer.pointer, count: n, scale: 1) }, seconds: 0.2,
                                                           comm: SingleProcessCommunicator())) ?? 0) / Double(n)
        }
        return ScalingModel(latency: latency, bandwidth: bandwidth, nodeMemoryBandwidth: nodeMemory,
                            computeSeconds: compute.stepMs * 1e-3, gradientValues: compute.gradientValues, batchPerRank: compute.batchPerRank,
                            sharedMemory: shm, localLatency: ring.intercept / (2 * (p - 1)),
                            localBandwidth: ring.slope > 0 ? 2 * (p - 1) / p / ring.slope : .infinity, codecSeconds: codec)
    }
}
