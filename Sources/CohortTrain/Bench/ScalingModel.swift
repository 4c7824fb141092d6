import CohortDistributed

/// The latency-bandwidth model `cohort bench scaling` projects synchronous training with, from
/// figures measured on this machine and a network that is given (Hockney's alpha-beta model, the
/// ring allreduce's costs as in Thakur, Rabenseifner & Gropp 2005):
///
///   step(N, M)          = compute + allreduce            (no overlap: the default)
///   ring(P, bytes)      = 2 (P - 1) latency + 2 (P - 1) / P x bytes / bandwidth
///   hierarchical(N, M)  = node(M, B) + ring(N, B x w) [+ codec(B) for 16 bits]
///   flat MPI(N, M)      = 2 (NM - 1) (latency + B x w / (NM) / bandwidth) [+ codec(B)]
///                         (a ring over all NM ranks moves a 1/NM chunk per hop, and with N > 1
///                         every hop waits for the ones that cross the network)
///   node(M, B)          = max(shm fit(B), 2 M B / node memory bandwidth)
///
/// with B the fp32 gradient bytes, w the wire's share of them (1, or 1/2 for 16 bits), compute
/// the measured time of one rank's step (each rank is assumed to have a core of its own at that
/// speed), the shared-memory fit and the codec's cost measured here, and one network link per
/// node. On one node the flat MPI allreduce uses the ring fitted on this machine's MPI instead.
public struct ScalingModel: Codable, Sendable {
    /// t = intercept + slope x bytes.
    public struct Line: Codable, Sendable, Equatable {
        public var intercept: Double
        public var slope: Double
        public init(intercept: Double, slope: Double) { self.intercept = intercept; self.slope = slope }
        public func callAsFunction(_ bytes: Double) -> Double { intercept + slope * bytes }

        /// Least squares weighted by 1 / t^2 (each point's relative error counts alike, so the
        /// small messages fix the intercept and the large ones the slope); intercept at least 0.
        public static func fit(bytes: [Double], seconds: [Double]) -> Line {
            var sw = 0.0, sx = 0.0, sy = 0.0, sxx = 0.0, sxy = 0.0
            for (x, y) in zip(bytes, seconds) where y > 0 {
                let w = 1 / (y * y)
                sw += w; sx += w * x; sy += w * y; sxx += w * x * x; sxy += w * x * y
            }
            let det = sw * sxx - sx * sx
            guard det > 0 else { return Line(intercept: sy / max(sw, 1e-300), slope: 0) }
            let slope = (sw * sxy - sx * sy) / det
            let intercept = (sy - slope * sx) / sw
            if intercept >= 0 { return Line(intercept: intercept, slope: max(slope, 0)) }
            return Line(intercept: 0, slope: sxy / sxx)  // through the origin
        }
    }

    public enum Reducer: String, Codable, Sendable, CaseIterable {
        case hierarchical
        case flat = "flat MPI"
    }

    /// Seconds per message and bytes per second of one node's network link.
    public var latency: Double
    public var bandwidth: Double
    /// Bytes per second a node's memory moves for its ranks' shared-memory average.
    public var nodeMemoryBandwidth: Double
    /// One rank's step without communication (seconds), its gradient values and its batch.
    public var computeSeconds: Double
    public var gradientValues: Int
    public var batchPerRank: Int
    /// The node's shared-memory average against its fp32 bytes (fitted here).
    public var sharedMemory: Line
    /// This machine's MPI ring: latency and bandwidth fitted on the flat fp32 allreduce.
    public var localLatency: Double
    public var localBandwidth: Double
    /// Seconds per gradient value of rounding to 16 bits, summing and decoding (measured here).
    public var codecSeconds: [WireFormat: Double]

    public init(latency: Double, bandwidth: Double, nodeMemoryBandwidth: Double, computeSeconds: Double, gradientValues: Int, batchPerRank: Int,
                sharedMemory: Line, localLatency: Double, localBandwidth: Double, codecSeconds: [WireFormat: Double]) {
        self.latency = latency; self.bandwidth = bandwidth; self.nodeMemoryBandwidth = nodeMemoryBandwidth
        self.computeSeconds = computeSeconds; self.gradientValues = gradientValues; self.batchPerRank = batchPerRank
        self.sharedMemory = sharedMemory; self.localLatency = localLatency; self.localBandwidth = localBandwidth; self.codecSeconds = codecSeconds
    }

    public var gradientBytes: Double { Double(gradientValues * 4) }

    static func ring(ranks p: Int, bytes: Double, latency: Double, bandwidth: Double) -> Double {
        p <= 1 ? 0 : 2 * Double(p - 1) * latency + 2 * Double(p - 1) / Double(p) * bytes / bandwidth
    }

    public func nodeAverageSeconds(ranksPerNode m: Int) -> Double {
        m <= 1 ? 0 : max(sharedMemory(gradientBytes), 2 * Double(m) * gradientBytes / nodeMemoryBandwidth)
    }

    public func allreduceSeconds(_ reducer: Reducer, wire: WireFormat, nodes n: Int, ranksPerNode m: Int) -> Double {
        let onWire = gradientBytes * Double(wire.bytesPerValue) / 4
        let codec = wire == .fp32 || n * m == 1 ? 0 : (codecSeconds[wire] ?? 0) * Double(gradientValues)
        switch reducer {
        case .hierarchical:
            return nodeAverageSeconds(ranksPerNode: m) + Self.ring(ranks: n, bytes: onWire, latency: latency, bandwidth: bandwidth)
                + (n > 1 ? codec : 0)
        case .flat:
            let p = n * m
            guard p > 1 else { return 0 }
            if n == 1 { return Self.ring(ranks: p, bytes: onWire, latency: localLatency, bandwidth: localBandwidth) + codec }
            return 2 * Double(p - 1) * (latency + onWire / Double(p) / bandwidth) + codec
        }
    }

    public func stepSeconds(_ reducer: Reducer, wire: WireFormat, nodes: Int, ranksPerNode: Int) -> Double {
        computeSeconds + allreduceSeconds(reducer, wire: wire, nodes: nodes, ranksPerNode: ranksPerNode)
    }

    /// Every rank's samples per second.
    public func samplesPerSecond(_ reducer: Reducer, wire: WireFormat, nodes: Int, ranksPerNode: Int) -> Double {
        Double(nodes * ranksPerNode * batchPerRank) / stepSeconds(reducer, wire: wire, nodes: nodes, ranksPerNode: ranksPerNode)
    }

    /// Speed-up over one rank divided by the ranks: the share of a step spent computing.
    public func efficiency(_ reducer: Reducer, wire: WireFormat, nodes: Int, ranksPerNode: Int) -> Double {
        computeSeconds / stepSeconds(reducer, wire: wire, nodes: nodes, ranksPerNode: ranksPerNode)
    }
}
