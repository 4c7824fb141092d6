import CInt8
import XCTest
import Cohort
@testable import CohortNN

/// oneDNN's int8 matmul against Cohort's own kernel: the same int32 accumulators, and int8 Linear
/// layers giving the same floats on either backend.
final class DNNLInt8MatmulTests: XCTestCase {
    override func tearDown() {
        Int8Weights.backendOverride = nil
    }

    private func skipWithoutOneDNN() throws {
        try XCTSkipUnless(Int8Weights.oneDNNAvailable, "oneDNN has no engine or no VNNI here: int8 products stay on Cohort's kernel")
    }

    /// Shapes with m = 1, odd k, n not a multiple of 16 or 64, the student's and the MLP's layers;
    /// activations over the whole uint8 range, weights over the whole int8 range (-128 included).
    func testOneDNNGivesCohortsInt32Accumulators() throws {
        try skipWithoutOneDNN()
        let dnnl = try XCTUnwrap(DNNL.shared)
        var rng = RandomStream(seed: 15)
        let shapes = [(1, 784, 100), (1, 13, 37), (7, 13, 37), (64, 100, 10), (3, 5, 1), (9, 97, 65), (256, 784, 100),
                      (5, 512, 10), (33, 784, 512), (2, 1, 17), (17, 129, 130)]
        for (m, k, n) in shapes {
            let k4 = DNNLInt8Matmul.paddedK(k)
            var a = [UInt8](repeating: 0, count: m * k4)
            for i in 0..<m { for j in 0..<k { a[i * k4 + j] = UInt8(rng.below(256)) } }
            // The extremes in every shape: 255 x -128 is where a saturating int16 pair sum would show.
            a[0] = 255
            var w = (0..<(n * k)).map { _ in Int8(rng.below(256) - 128) }
            w[0] = -128; w[n * k - 1] = 127
            let path = Int8Weights.defaultPath
            var packed = [Int8](repeating: 0, count: cohort_int8_packed_size(Int32(n), Int32(k), path))
            var sums = [Int32](repeating: 0, count: n)
            cohort_int8_pack(w, Int32(n), Int32(k), &packed, &sums, path)
            var own = [Int32](repeating: -1, count: m * n), theirs = [Int32](repeating: -2, count: m * n)
            cohort_int8_gemm(a, Int32(m), Int32(k), k4, packed, Int32(n), &own, n, path)
            let weights = w.withUnsafeBufferPointer { DNNLInt8Weights(values: $0.baseAddress!, n: n, k: k) }
            let product = try DNNLInt8Matmul(dnnl: dnnl, m: m, n: n, k: k)
            let prepared = try product.prepare(weights)
            product.run(a: a, weights: prepared, c: &theirs)
            XCTAssertEqual(own, theirs, "\(m)x\(k)x\(n) (\(product.implementation))")
            // Run again on the same primitive and prepared weights: nothing is consumed.
            theirs = [Int32](repeating: 0, count: m * n)
            product.run(a: a, weights: prepared, c: &theirs)
            XCTAssertEqual(own, theirs, "\(m)x\(k)x\(n), second run")
            // And the definition, for the corner elements.
            for (i, j) in [(0, 0), (m - 1, n - 1)] {
                XCTAssertEqual(theirs[i * n + j], (0..<k).reduce(Int32(0)) { $0 + Int32(a[i * k4 + $1]) * Int32(w[j * k + $1]) })
            }
        }
    }

    /// The weights are reordered once per layout: a second product of the same shape reuses them.
    func testWeightsArePreparedOncePerLayout() throws {
        try skipWithoutOneDNN()
        let dnnl = try XCTUnwrap(DNNL.shared)
        let w = [Int8](repeating: 3, count: 100 * 784)
        let weights = w.withUnsafeBufferPointer { DNNLInt8Weights(values: $0.baseAddress!, n: 100, k: 784) }
        let first = try DNNLInt8Matmul(dnnl: dnnl, m: 64, n: 100, k: 784).prepare(weights)
        let second = try DNNLInt8Matmul(dnnl: dnnl, m: 64, n: 100, k: 784).prepare(weights)
        XCTAssertEqual(first, second)
    }

    /// The pointer `prepare` returns stays valid when the caller lets go of its weights: the
    /// product keeps them (bench int8 once ran a 784x512 product on weights it had dropped).
    func testTheProductKeepsTheWeightsItPrepared() throws {
        try skipWithoutOneDNN()
        let dnnl = try XCTUnwrap(DNNL.shared)
        let (m, k, n) = (2, 784, 512)
        let product = try DNNLInt8Matmul(dnnl: dnnl, m: m, n: n, k: k)
        weak var dropped: DNNLInt8Weights?
        let prepared: UnsafeRawPointer = try {
            let w = [Int8](repeating: 1, count: n * k)
            let weights = w.withUnsafeBufferPointer { DNNLInt8Weights(values: $0.baseAddress!, n: n, k: k) }
            dropped = weights
            return try product.prepare(weights)
        }()
        XCTAssertNotNil(dropped, "the product no longer holds the weights its prepared pointer is into")
        let a = [UInt8](repeating: 2, count: m * DNNLInt8Matmul.paddedK(k))
        var c = [Int32](repeating: 0, count: m * n)
        product.run(a: a, weights: prepared, c: &c)
        XCTAssertEqual(Set(c), [Int32(2 * k)])
    }

    /// An int8 Linear layer gives the same floats on either backend, for batches of 1, an odd size and 64.
    func testInt8LinearIsTheSameOnBothBackends() throws {
        try skipWithoutOneDNN()
        var rng = RandomStream(seed: 16)
        let layer = Linear(97, 37)
        rng.fillUniform(layer.weight.value, -1, 1)
        rng.fillUniform(layer.bias!.value, -0.5, 0.5)
        let (q, scales) = Int8Quantization.quantize(layer.weight.value.pointer, rows: 37, columns: 97)
        layer.int8 = Int8Weights(values: q, scales: scales, outFeatures: 37, inFeatures: 97)
        for batch in [1, 5, 64] {
            let x = Tensor(zeros: [batch, 97])
            rng.fillUniform(x, -2, 3)
            var outputs: [Int8Backend: [Float]] = [:]
            for backend in Int8Backend.allCases {
                Int8Weights.backendOverride = backend
                XCTAssertEqual(Int8Weights.backend(batch: batch, inFeatures: 97, outFeatures: 37), backend)
                let tape = Tape(recording: false)
                tape.reset()
                outputs[backend] = try layer.forward(Var(x), ForwardContext(tape: tape, training: false)).value.scalars
            }
            XCTAssertEqual(outputs[.cohort], outputs[.oneDNN], "batch \(batch)")
        }
    }

    /// Without an override the size of the product chooses: oneDNN for large products, Cohort's
    /// kernel for single images of the student and narrow layers; an override fixes one backend for all.
    func testMeasuredChoicePerShape() throws {
        try skipWithoutOneDNN()
        try XCTSkipIf(Int8Weights.environmentBackend != nil, "COHORT_INT8_BACKEND fixes the backend for this process")
        Int8Weights.backendOverride = nil
        let choice = { (m: Int, k: Int, n: Int) in Int8Weights.backend(batch: m, inFeatures: k, outFeatures: n) }
        XCTAssertEqual(choice(256, 784, 100), .oneDNN)
        XCTAssertEqual(choice(1, 784, 512), .oneDNN)
        XCTAssertEqual(choice(64, 512, 10), .oneDNN)
        XCTAssertEqual(choice(1 << 10, 16, 16), .oneDNN)    // exactly 2^18 multiply-adds
        XCTAssertEqual(choice(1, 784, 100), .cohort)
        XCTAssertEqual(choice(256, 100, 10), .cohort)
        XCTAssertEqual(choice(16, 512, 10), .cohort)
        XCTAssertEqual(choice(1023, 16, 16), .cohort)
        XCTAssertTrue(Int8Weights.kernelDescription.contains("oneDNN"), Int8Weights.kernelDescription)
        Int8Weights.backendOverride = .cohort
        XCTAssertEqual(choice(256, 784, 100), .cohort)
        XCTAssertFalse(Int8Weights.kernelDescription.contains("oneDNN"), Int8Weights.kernelDescription)
        Int8Weights.backendOverride = .oneDNN
        XCTAssertEqual(choice(1, 100, 10), .oneDNN)
    }
}
