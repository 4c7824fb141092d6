import XCTest
import Cohort
import CohortDistributed
import CWire
@testable import CohortTrain

/// The 16-bit wire formats: rounding, error feedback, the one-process allreduce, and which reducer
/// a job gets.
final class WireFormatTests: XCTestCase {
    func testBF16RoundsToNearestEvenAndKeepsSpecialValues() {
        XCTAssertEqual(WireCodec.bf16(1), 0x3F80)
        // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: ties go to the even mantissa (1).
        XCTAssertEqual(WireCodec.bf16(1 + 0x1p-8), 0x3F80)
        // 1 + 3 x 2^-8 lies halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even).
        XCTAssertEqual(WireCodec.bf16(1 + 3 * 0x1p-8), 0x3F82)
        XCTAssertEqual(WireCodec.bf16(1 + 0x1p-8 + 0x1p-20), 0x3F81, "above the tie rounds up")
        XCTAssertEqual(WireCodec.float(bf16: WireCodec.bf16(-2.5)), -2.5)
        XCTAssertEqual(WireCodec.float(bf16: WireCodec.bf16(.infinity)), .infinity)
        XCTAssertTrue(WireCodec.float(bf16: WireCodec.bf16(.nan)).isNaN)
        let large = WireCodec.float(bf16: WireCodec.bf16(3e38))
        XCTAssertTrue(large.isFinite && abs(large - 3e38) <= 3e38 * 0x1p-8, "fp32's range, no overflow: \(large)")
    }

    func testRoundTripErrorIsWithinHalfAUnitInTheLastPlace() {
        var values = (0..<1000).map { Float(sin(Double($0)) * pow(10, Double($0 % 7) - 4)) }
        var wire = [UInt16](repeating: 0, count: values.count), back = [Float](repeating: 0, count: values.count)
        for (format, bits) in [(WireFormat.bf16, 8), (.fp16, 11)] {
            WireCodec.encode(format, &values, count: values.count, into: &wire, residual: nil)
            WireCodec.decode(format, &wire, count: values.count, into: &back)
            for (x, y) in zip(values, back) where abs(x) > 1e-4 {
                XCTAssertLessThanOrEqual(abs(x - y), abs(x) * Float(pow(2.0, Double(-bits))), "\(format) \(x) -> \(y)")
            }
        }
        var big: Float = 70000, h: UInt16 = 0, out: Float = 0
        WireCodec.encode(.fp16, &big, count: 1, into: &h, residual: nil)
        WireCodec.decode(.fp16, &h, count: 1, into: &out)
        XCTAssertEqual(out, .infinity, "beyond fp16's 65504")
    }

    /// The vector paths (AVX2, F16C) and the portable ones give the same bits, fp16 the bits of
    /// Swift's own Float16 conversion, on values that cover ties, subnormals, overflow and NaN.
    func testVectorAndPortablePathsAgree() {
        var values: [Float] = [0, -0, 1, 1 + 0x1p-11, 1 + 3 * 0x1p-11, 65504, 65519, 65520, 1e6, 0x1p-14, 0x1p-24, 0x1p-25, 0x1.8p-25, 3e-8, 1e-10,
                               .infinity, -.infinity, .nan, 1 + 0x1p-8, 1 + 3 * 0x1p-8, 3e38, -3e38]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<5000 { values.append(Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &rng))) }
        let n = values.count
        for format in [WireFormat.bf16, .fp16] {
            var vector = [UInt16](repeating: 0, count: n), portable = vector
            var vectorBack = [Float](repeating: 0, count: n), portableBack = vectorBack
            WireCodec.encode(format, &values, count: n, into: &vector, residual: nil)
            WireCodec.decode(format, &vector, count: n, into: &vectorBack)
            cohort_wire_use_vector(0)
            WireCodec.encode(format, &values, count: n, into: &portable, residual: nil)
            WireCodec.decode(format, &portable, count: n, into: &portableBack)
            cohort_wire_use_vector(1)
            for i in 0..<n {
                if values[i].isNaN {
                    XCTAssertTrue(vectorBack[i].isNaN && portableBack[i].isNaN, "\(format): NaN stays NaN")
                    continue
                }
                XCTAssertEqual(vector[i], portable[i], "\(format) \(values[i])")
                XCTAssertEqual(vectorBack[i].bitPattern, portableBack[i].bitPattern, "\(format) \(values[i])")
                if format == .fp16 { XCTAssertEqual(portable[i], Float16(values[i]).bitPattern, "fp16 \(values[i])") }
            }
        }
    }

    /// With error feedback the rounding errors are carried over, so the values sent add up to the
    /// values given; without it every call loses the same amount.
    func testErrorFeedbackCarriesTheRoundingErrorToTheNextCall() {
        var value: Float = 1.001  // bf16 rounds it to 1.0
        var residual: Float = 0, h: UInt16 = 0, decoded: Float = 0
        var sentWith: Double = 0, sentWithout: Double = 0
        for _ in 0..<1000 {
            WireCodec.encode(.bf16, &value, count: 1, into: &h, residual: &residual)
            WireCodec.decode(.bf16, &h, count: 1, into: &decoded)
            sentWith += Double(decoded)
            WireCodec.encode(.bf16, &value, count: 1, into: &h, residual: nil)
            WireCodec.decode(.bf16, &h, count: 1, into: &decoded)
            sentWithout += Double(decoded)
        }
        XCTAssertEqual(sentWith / 1000, 1.001, accuracy: 1e-4)
        XCTAssertEqual(sentWithout / 1000, 1.0)
    }

    /// In one process the 16-bit allreduce is the rounding itself, scaled, and sends nothing.
    func testOneProcessAllreduceRoundsAndScales() throws {
        for format in [WireFormat.bf16, .fp16] {
            let reducer = WireAllreduce(format: format, communicator: SingleProcessCommunicator(), maxCount: 3)
            var values: [Float] = [1.001, -3, 0.1]
            try reducer.allreduce(&values, count: 3, scale: 0.5)
            var expected: [Float] = [1.001, -3, 0.1], h = [UInt16](repeating: 0, count: 3)
            WireCodec.encode(format, &expected, count: 3, into: &h, residual: nil)
            WireCodec.decode(format, &h, count: 3, into: &expected)
            for i in 0..<3 { expected[i] *= 0.5 }
            WireCodec.encode(format, &expected, count: 3, into: &h, residual: nil)
            WireCodec.decode(format, &h, count: 3, into: &expected)
            XCTAssertEqual(values, expected, "\(format)")
            XCTAssertEqual(reducer.bytesSent, 0)
        }
        XCTAssertEqual(WireAllreduce.bytesPerCall(count: 1000, ranks: 4, format: .bf16), 2 * 3 * 1000 * 2)
        XCTAssertEqual(WireAllreduce.bytesPerCall(count: 1000, ranks: 4, format: .fp32), 2 * 3 * 1000 * 4)
    }

    func testTheReducerFollowsTheNodes() throws {
        var d = DistributedConfig()
        XCTAssertEqual(try GradientSyncFactory.kind(d, worldSize: 1, spansNodes: false), .none)
        XCTAssertEqual(try GradientSyncFactory.kind(d, worldSize: 4, spansNodes: false), .sharedMemory)
        XCTAssertEqual(try GradientSyncFactory.kind(d, worldSize: 4, spansNodes: true), .hierarchical)
        d.reducer = .mpi
        XCTAssertEqual(try GradientSyncFactory.kind(d, worldSize: 4, spansNodes: true), .mpi)
        d.reducer = .shm
        XCTAssertThrowsError(try GradientSyncFactory.kind(d, worldSize: 4, spansNodes: true))
        d.reducer = .auto
        d.wire = .bf16
        XCTAssertThrowsError(try GradientSyncFactory.kind(d, worldSize: 4, spansNodes: false), "auto on one node is shared memory: no wire")
        XCTAssertEqual(try GradientSyncFactory.kind(d, worldSize: 4, spansNodes: true), .hierarchical)
        d.ranksPerNode = 3
        XCTAssertThrowsError(try GradientSyncFactory.kind(d, worldSize: 4, spansNodes: true)) {
            XCTAssertEqual("\($0)", "distributed.ranks_per_node: 3 does not divide the job's 4 ranks (every node must have the same number of ranks)")
        }
        d.mode = .hogwild
        d.ranksPerNode = 2
        XCTAssertEqual(try GradientSyncFactory.kind(d, worldSize: 4, spansNodes: true), .none)
    }

    func testOneNodeTopologyOfOneProcess() throws {
        let t = try NodeTopology(world: SingleProcessCommunicator(), ranksPerNode: nil)
        XCTAssertEqual(t.nodeCount, 1)
        XCTAssertTrue(t.isLeader)
        XCTAssertNotNil(t.leaders)
        XCTAssertFalse(NodeTopology.spansNodes(ranksPerNode: 1, world: SingleProcessCommunicator()))
    }
}
