import XCTest
import CohortDistributed
@testable import CohortTrain

/// The latency-bandwidth model of `cohort bench scaling`.
final class ScalingModelTests: XCTestCase {
    func model(latency: Double = 5e-6, bandwidth: Double = 25e9 / 8) -> ScalingModel {
        ScalingModel(latency: latency, bandwidth: bandwidth, nodeMemoryBandwidth: 100e9, computeSeconds: 4e-3, gradientValues: 250_000,
                     batchPerRank: 128, sharedMemory: .init(intercept: 10e-6, slope: 0.2e-9), localLatency: 2e-6, localBandwidth: 5e9,
                     codecSeconds: [.bf16: 1e-9, .fp16: 2e-9])
    }

    func testTheFitRecoversALine() {
        let line = ScalingModel.Line(intercept: 7e-6, slope: 3e-10)
        let bytes: [Double] = [4096, 65536, 1_048_576, 4_194_304]
        let fitted = ScalingModel.Line.fit(bytes: bytes, seconds: bytes.map { line($0) })
        XCTAssertEqual(fitted.intercept, 7e-6, accuracy: 1e-12)
        XCTAssertEqual(fitted.slope, 3e-10, accuracy: 1e-16)
    }

    func testAllreduceTerms() {
        let m = model(), bytes = 1e6
        // One node: the hierarchical reducer is the node's shared-memory average and nothing else.
        XCTAssertEqual(m.allreduceSeconds(.hierarchical, wire: .fp32, nodes: 1, ranksPerNode: 8), 10e-6 + 0.2e-9 * bytes, accuracy: 1e-12)
        // 4 nodes: plus the leaders' ring, 2 (N - 1) latency + 2 (N - 1) / N bytes / bandwidth.
        let ring = 6 * 5e-6 + 1.5 * bytes / (25e9 / 8)
        XCTAssertEqual(m.allreduceSeconds(.hierarchical, wire: .fp32, nodes: 4, ranksPerNode: 8), 10e-6 + 0.2e-9 * bytes + ring, accuracy: 1e-12)
        // bf16: half the bytes on the network, plus the codec.
        let ring16 = 6 * 5e-6 + 1.5 * bytes / 2 / (25e9 / 8)
        XCTAssertEqual(m.allreduceSeconds(.hierarchical, wire: .bf16, nodes: 4, ranksPerNode: 8), 10e-6 + 0.2e-9 * bytes + ring16 + 250_000e-9,
                       accuracy: 1e-12)
        // Flat over 32 ranks: 62 hops, each a latency and a 1/32 chunk over the network.
        XCTAssertEqual(m.allreduceSeconds(.flat, wire: .fp32, nodes: 4, ranksPerNode: 8), 62 * (5e-6 + bytes / 32 / (25e9 / 8)), accuracy: 1e-12)
        XCTAssertEqual(m.allreduceSeconds(.flat, wire: .fp32, nodes: 1, ranksPerNode: 1), 0)
    }

    /// Latency is what hurts the flat allreduce at scale; the hierarchical one pays it per node only.
    func testFlatLosesToHierarchicalAsRanksGrow() {
        let m = model()
        XCTAssertGreaterThan(m.efficiency(.hierarchical, wire: .fp32, nodes: 64, ranksPerNode: 64),
                             m.efficiency(.flat, wire: .fp32, nodes: 64, ranksPerNode: 64) + 0.3)
        let noLatency = model(latency: 0)
        XCTAssertEqual(noLatency.efficiency(.flat, wire: .fp32, nodes: 64, ranksPerNode: 2),
                       noLatency.efficiency(.hierarchical, wire: .fp32, nodes: 64, ranksPerNode: 2), accuracy: 0.05)
        XCTAssertEqual(m.samplesPerSecond(.hierarchical, wire: .bf16, nodes: 2, ranksPerNode: 4),
                       8 * 128 / m.stepSeconds(.hierarchical, wire: .bf16, nodes: 2, ranksPerNode: 4), accuracy: 1e-9)
    }
}
