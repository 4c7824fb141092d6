import CInt8
import XCTest
import Cohort
@testable import CohortNN

/// Int8 inference: the integer kernels against each other and against the formula by hand.
final class Int8InferenceTests: XCTestCase {
    /// A Linear layer of uniform random weights in +-`limit` and biases in +-0.5, with its int8 weights and scales.
    func randomLinear(_ inputs: Int, _ outputs: Int, weightsUpTo limit: Float, _ rng: inout RandomStream) -> (Linear, [Int8], [Float]) {
        let layer = Linear(inputs, outputs)
        rng.fillUniform(layer.weight.value, -limit, limit)
        rng.fillUniform(layer.bias!.value, -0.5, 0.5)
        let (q, scales) = Int8Quantization.quantize(layer.weight.value.pointer, rows: outputs, columns: inputs)
        return (layer, q, scales)
    }

    /// The paths other than the portable loop that this CPU runs (within COHORT_CPU); the tests
    /// compare each with the portable loop, and say which they skip.
    func vectorPaths() throws -> [cohort_int8_path] {
        let paths = Int8Weights.availablePaths.filter { $0 != COHORT_INT8_PORTABLE }
        let missing = Int8Weights.allPaths.filter { $0 != COHORT_INT8_PORTABLE && !paths.contains($0) }
        if !missing.isEmpty { print("int8 paths not run on this CPU (or above COHORT_CPU): \(missing.map(Int8Weights.name(of:)))") }
        try XCTSkipIf(paths.isEmpty, "this CPU (or COHORT_CPU=portable) runs only the portable int8 loop")
        return paths
    }

    /// Every vector path gives the portable loop's int32 products, for shapes with ragged row,
    /// input and output tails, activations up to 255 and weights at -128 and 127 (where a
    /// saturating 16-bit pair sum would show).
    func testEveryPathGivesThePortableProducts() throws {
        var rng = RandomStream(seed: 3)
        for path in try vectorPaths() {
            for (m, k, n) in [(7, 13, 37), (4, 784, 100), (9, 100, 10), (1, 3, 16), (5, 64, 65), (256, 784, 512), (3, 512, 10), (17, 1, 9), (2, 5, 8)] {
                let k4 = (k + 3) / 4 * 4
                var a = [UInt8](repeating: 0, count: m * k4)
                for i in 0..<m { for j in 0..<k { a[i * k4 + j] = UInt8(rng.below(256)) } }
                var w = (0..<(n * k)).map { _ in Int8(rng.below(256) - 128) }
                for j in 0..<min(k, 8) { a[j] = 255; w[j] = j % 2 == 0 ? -128 : 127 }
                func product(_ p: cohort_int8_path) -> (c: [Int32], sums: [Int32]) {
                    var packed = [Int8](repeating: 0, count: cohort_int8_packed_size(Int32(n), Int32(k), p))
                    var sums = [Int32](repeating: 0, count: n), c = [Int32](repeating: -1, count: m * n)
                    cohort_int8_pack(w, Int32(n), Int32(k), &packed, &sums, p)
                    cohort_int8_gemm(a, Int32(m), Int32(k), k4, packed, Int32(n), &c, n, p)
                    return (c, sums)
                }
                let (fast, sums) = product(path), (portable, portableSums) = product(COHORT_INT8_PORTABLE)
                let name = Int8Weights.name(of: path)
                XCTAssertEqual(fast, portable, "\(name) \(m)x\(k)x\(n)")
                XCTAssertEqual(sums, portableSums, "\(name) \(m)x\(k)x\(n) weight sums")
                // And the definition, for the corners.
                for (i, j) in [(0, 0), (m - 1, n - 1)] {
                    XCTAssertEqual(fast[i * n + j], (0..<k).reduce(Int32(0)) { $0 + Int32(a[i * k4 + $1]) * Int32(w[j * k + $1]) }, "\(name) \(m)x\(k)x\(n) [\(i), \(j)]")
                }
                XCTAssertEqual(sums[n - 1], (0..<k).reduce(Int32(0)) { $0 + Int32(w[(n - 1) * k + $1]) })
            }
        }
    }

    /// Every vector quantiser (a multiplication by the reciprocal where ties are divided exactly)
    /// writes the bytes, scales and zero points of the portable loop's division, also for quotients
    /// at and next to half-integers, all-zero rows, tiny and huge ranges.
    func testEveryPathQuantisesAsThePortableLoop() throws {
        var rng = RandomStream(seed: 5)
        for path in try vectorPaths() {
            for (rows, per, width) in [(7, 100, 3), (3, 784, 255), (5, 33, 1e-3), (2, 64, 1e6), (4, 1, 2), (6, 17, 1e-30)] as [(Int, Int, Float)] {
                var x = (0..<(rows * per)).map { _ in rng.uniform(-width / 3, width) }
                for r in 0..<rows {
                    // Values whose quotient by the row's scale lands on, or one float beside, a half-integer.
                    let row = x[(r * per)..<((r + 1) * per)]
                    let lo = min(row.min()!, 0), hi = max(row.max()!, 0), scale = (hi - lo) / 255
                    for i in stride(from: r * per, to: (r + 1) * per, by: 5) {
                        let target = (Float(rng.below(200)) - 60.5) * scale
                        x[i] = max(lo, min(hi, [target, target.nextUp, target.nextDown][i % 3]))
                    }
                }
                for i in 0..<per { x[i] = 0 }  // a row of zeros
                let ldq = (per + 3) / 4 * 4 + 4
                func quantised(_ p: cohort_int8_path) -> ([UInt8], [Float], [UInt8]) {
                    var q = [UInt8](repeating: 9, count: rows * ldq), s = [Float](repeating: -1, count: rows), z = [UInt8](repeating: 7, count: rows)
                    cohort_int8_quantize_rows(x, rows, per, per, &q, ldq, &s, &z, p)
                    return (q, s, z)
                }
                let (fast, s1, z1) = quantised(path), (exact, s2, z2) = quantised(COHORT_INT8_PORTABLE)
                let what = "\(Int8Weights.name(of: path)), \(rows) x \(per) values up to \(width)"
                XCTAssertEqual(s1, s2, what); XCTAssertEqual(z1, z2, what)
                XCTAssertEqual(zip(fast, exact).filter { $0 != $1 }.count, 0, "bytes that differ, \(what)")
                XCTAssertEqual(s2[0], 1, "a row of zeros gets scale 1"); XCTAssertEqual(z2[0], 0)
            }
        }
    }

    /// An int8 layer's outputs are the same on every path, and a row's output does not depend on
    /// the rest of its batch (each row is quantised by its own range).
    func testInt8LayerIsTheSameOnEveryPathAndForEveryBatch() throws {
        var rng = RandomStream(seed: 21)
        let (layer, q, scales) = randomLinear(300, 40, weightsUpTo: 0.2, &rng)
        let batch = Tensor(zeros: [9, 300])
        rng.fillUniform(batch, -1, 4)
        for r in 3..<9 { for i in 0..<300 { batch.pointer[r * 300 + i] *= Float(r) } }  // rows of other ranges
        func outputs(_ path: cohort_int8_path, _ x: Tensor) throws -> [Float] {
            Int8Weights.backendOverride = .cohort
            defer { Int8Weights.backendOverride = nil }
            layer.int8 = Int8Weights(values: q, scales: scales, outFeatures: 40, inFeatures: 300, path: path)
            let tape = Tape(recording: false)
            tape.reset()
            return try layer.forward(Var(x), ForwardContext(tape: tape, training: false)).value.scalars
        }
        let all = try outputs(COHORT_INT8_PORTABLE, batch)
        for path in Int8Weights.availablePaths {
            XCTAssertEqual(try outputs(path, batch), all, Int8Weights.name(of: path))
        }
        for r in 0..<9 {
            let one = Tensor(zeros: [1, 300])
            for i in 0..<300 { one.pointer[i] = batch.pointer[r * 300 + i] }
            XCTAssertEqual(try outputs(Int8Weights.defaultPath, one), Array(all[(r * 40)..<((r + 1) * 40)]), "row \(r) alone")
        }
    }

    /// An int8 Linear layer computes ONNX's dynamic quantisation row by row: each input row to
    /// uint8 by its own range, (q - zero point) . w in integers, times row scale x weight scale,
    /// plus the bias.
    func testInt8LinearFollowsTheDynamicQuantisationFormula() throws {
        var rng = RandomStream(seed: 8)
        let (layer, q, scales) = randomLinear(6, 5, weightsUpTo: 1, &rng)
        layer.int8 = Int8Weights(values: q, scales: scales, outFeatures: 5, inFeatures: 6)
        let x = Tensor(zeros: [3, 6])
        rng.fillUniform(x, -2, 3)
        let tape = Tape(recording: false)
        tape.reset()
        let y = try layer.forward(Var(x), ForwardContext(tape: tape, training: false)).value
        let values = x.scalars
        for r in 0..<3 {
            let row = values[(r * 6)..<((r + 1) * 6)]
            let lo = min(row.min()!, 0), hi = max(row.max()!, 0)
            let scale = (hi - lo) / 255, zero = Float(max(0, min(255, (-lo / scale).rounded(.toNearestOrEven))))
            for j in 0..<5 {
                var acc: Int32 = 0
                for i in 0..<6 {
                    let qx = Int32(max(0, min(255, (values[r * 6 + i] / scale).rounded(.toNearestOrEven) + zero)))
                    acc += (qx - Int32(zero)) * Int32(q[j * 6 + i])
                }
                let expected = Float(acc) * (scale * scales[j]) + layer.bias!.value.pointer[j]
                XCTAssertEqual(y.pointer[r * 5 + j], expected, "row \(r), output \(j)")
            }
        }
        // Training (a recording tape) computes with the float weights.
        let training = Tape()
        training.reset()
        let yf = try layer.forward(Var(x), ForwardContext(tape: training, training: true)).value
        let w = layer.weight.value.scalars
        let float = (0..<6).reduce(layer.bias!.value.pointer[0]) { $0 + values[$1] * w[$1] }
        XCTAssertEqual(yf.pointer[0], float, accuracy: 1e-5)
        XCTAssertNotEqual(yf.pointer[0], y.pointer[0], "the int8 result carries quantisation error")
    }
}
