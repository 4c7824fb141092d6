import CohortDistributed
import Foundation

/// What `cohort bench scaling` prints: the measured inputs, a check of the model against the
/// hierarchical reducer measured here, and the projected efficiency (and throughput) tables.
public struct ScalingReport {
    public let model: ScalingModel
    public let curves: CollectiveCurves
    public let compute: ThroughputBench.Result
    public let nodes: [Int]
    public let ranksPerNode: [Int]
    public let bandwidthGbps: Double
    public let latencyUs: Double
    public let nodeMemoryGBps: Double

    public init(model: ScalingModel, curves: CollectiveCurves, compute: ThroughputBench.Result, nodes: [Int], ranksPerNode: [Int],
                bandwidthGbps: Double, latencyUs: Double, nodeMemoryGBps: Double) {
        self.model = model; self.curves = curves; self.compute = compute; self.nodes = nodes; self.ranksPerNode = ranksPerNode
        self.bandwidthGbps = bandwidthGbps; self.latencyUs = latencyUs; self.nodeMemoryGBps = nodeMemoryGBps
    }

    /// The variants tabulated: (reducer, wire).
    public static let variants: [(ScalingModel.Reducer, WireFormat)] = [(.hierarchical, .fp32), (.hierarchical, .bf16), (.flat, .fp32), (.flat, .bf16)]

    public var text: String {
        var lines: [String] = []
        let m = model
        lines.append(String(format: "measured here: %@ step %.2f ms on one rank (batch %d, %d steps), gradients %.2f MB (%d values)",
                            compute.workload, m.computeSeconds * 1e3, m.batchPerRank, compute.steps, m.gradientBytes / 1e6, m.gradientValues))
        lines.append(String(format: "  shared-memory average of one node's %d ranks: %.1f us + %.3f ms per MB; this machine's MPI ring over %d ranks: latency %.1f us, bandwidth %.2f GB/s",
                            curves.ranksPerNode, m.sharedMemory.intercept * 1e6, m.sharedMemory.slope * 1e9, curves.ranks, m.localLatency * 1e6,
                            m.localBandwidth / 1e9))
        lines.append(String(format: "  rounding to 16 bits, summing and decoding: bf16 %.2f ns, fp16 %.2f ns per value",
                            (m.codecSeconds[.bf16] ?? 0) * 1e9, (m.codecSeconds[.fp16] ?? 0) * 1e9))
        if let check = modelCheck { lines.append(check) }
        lines.append(String(format: "model: network %.0f Gbit/s and %.1f us per message between nodes, one link per node; node memory %.0f GB/s for the shared-memory average; each rank a core of its own at the speed measured here; no overlap of allreduce and backward",
                            bandwidthGbps, latencyUs, nodeMemoryGBps))
        for (reducer, wire) in Self.variants {
            lines.append("")
            lines.append("\(reducer.rawValue), \(wire.rawValue) on the wire: scaling efficiency (samples/s over N x M times one rank's)")
            lines += table { String(format: "%.0f%%", 100 * m.efficiency(reducer, wire: wire, nodes: $0, ranksPerNode: $1)) }
        }
        lines.append("")
        lines.append("hierarchical, bf16 on the wire: samples/s (thousands)")
        lines += table { String(format: "%.0f", m.samplesPerSecond(.hierarchical, wire: .bf16, nodes: $0, ranksPerNode: $1) / 1e3) }
        return lines.joined(separator: "\n")
    }

    /// The model against the hierarchical reducer measured at the curves' largest size on this
    /// machine's fake nodes (with this machine's MPI ring as the network between them).
    var modelCheck: String? {
        guard let measured = curves.hierarchical[WireFormat.fp32.rawValue]?.last, curves.nodes > 1 else { return nil }
        let bytes = Double(curves.bytes.last!)
        let predicted = model.sharedMemory(bytes) + ScalingModel.ring(ranks: curves.nodes, bytes: bytes, latency: model.localLatency,
                                                                       bandwidth: model.localBandwidth)
        return String(format: "  model check: hierarchical fp32 allreduce of %.1f MB on %d x %d fake nodes here: measured %.3f ms, model %.3f ms (shared-memory fit + this machine's ring)",
                      bytes / 1e6, curves.nodes, curves.ranksPerNode, measured * 1e3, predicted * 1e3)
    }

    /// Rows: nodes; columns: ranks per node.
    func table(_ cell: (Int, Int) -> String) -> [String] {
        var rows = ["| nodes \\ ranks per node | " + ranksPerNode.map(String.init).joined(separator: " | ") + " |",
                    "|---:|" + String(repeating: "---:|", count: ranksPerNode.count)]
        for n in nodes { rows.append("| \(n) | " + ranksPerNode.map { cell(n, $0) }.joined(separator: " | ") + " |") }
        return rows
    }
}
