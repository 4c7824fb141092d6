import CInt8
import XCTest
import Cohort
@testable import CohortNN

/// Int8 inference: the integer kernels against each other and against the formula by hand.
final class Int8InferenceTests: XCTestCase {
    /// The VNNI kernel and the portable loop give the same int32 products, for shapes with ragged
    /// row, input and output tails.
    func testVNNIAndPortableProductsAgree() throws {
        try XCTSkipUnless(Int8Weights.usesVNNI, "this CPU has no AVX-512 VNNI: only the portable loop runs")
        var rng = RandomStream(seed: 3)
        for (m, k, n) in [(7, 13, 37), (4, 784, 100), (9, 100, 10), (1, 3, 16), (5, 64, 65)] {
            let k4 = (k + 3) / 4 * 4
            var a = [UInt8](repeating: 0, count: m * k4)
            for i in 0..<m { for j in 0..<k { a[i * k4 + j] = UInt8(rng.below(256)) } }
            let w = (0..<(n * k)).map { _ in Int8(rng.below(255) - 127) }
            var packed = [Int8](repeating: 0, count: cohort_int8_packed_size(Int32(n), Int32(k)))
            var sums = [Int32](repeating: 0, count: n)
            cohort_int8_pack(w, Int32(n), Int32(k), &packed, &sums)
            var vnni = [Int32](repeating: -1, count: m * n), portable = vnni
            cohort_int8_gemm(a, Int32(m), Int32(k), k4, packed, Int32(n), &vnni, n, 1)
            cohort_int8_gemm(a, Int32(m), Int32(k), k4, packed, Int32(n), &portable, n, 0)
            XCTAssertEqual(vnni, portable, "\(m)x\(k)x\(n)")
            // And the definition, for one element.
            let (i, j) = (m - 1, n - 1)
            XCTAssertEqual(vnni[i * n + j], (0..<k).reduce(Int32(0)) { $0 + Int32(a[i * k4 + $1]) * Int32(w[j * k + $1]) })
            XCTAssertEqual(sums[j], (0..<k).reduce(Int32(0)) { $0 + Int32(w[j * k + $1]) })
        }
    }

    /// The AVX-512 quantisation (a multiplication by the reciprocal, ties divided exactly) writes
    /// the bytes of the portable loop's division, also for quotients at and next to half-integers.
    func testAVX512AndPortableQuantisationAgree() throws {
        try XCTSkipUnless(Int8Weights.usesVNNI, "this CPU has no AVX-512 VNNI: only the portable loop runs")
        var rng = RandomStream(seed: 5)
        for (rows, per, width) in [(7, 100, 3), (3, 784, 255), (5, 33, 1e-3), (2, 64, 1e6)] as [(Int, Int, Float)] {
            let n = rows * per
            var x = (0..<n).map { _ in rng.uniform(-width / 3, width) }
            // Values whose quotient by the batch's scale lands on, or one float beside, a half-integer.
            let lo = min(x.min()!, 0), hi = max(x.max()!, 0), scale = (hi - lo) / 255
            for i in stride(from: 0, to: n, by: 5) {
                let target = (Float(rng.below(200)) - 60.5) * scale
                x[i] = [target, target.nextUp, target.nextDown][i % 3]
                x[i] = max(lo, min(hi, x[i]))
            }
            let ldq = (per + 3) / 4 * 4
            var fast = [UInt8](repeating: 9, count: rows * ldq), exact = fast
            var s1: Float = 0, s2: Float = 0, z1: UInt8 = 0, z2: UInt8 = 0
            cohort_int8_quantize_u8(x, n, rows, ldq, &fast, &s1, &z1, 1)
            cohort_int8_quantize_u8(x, n, rows, ldq, &exact, &s2, &z2, 0)
            XCTAssertEqual(s1, s2); XCTAssertEqual(z1, z2)
            let differ = zip(fast, exact).filter { $0 != $1 }.count
            XCTAssertEqual(differ, 0, "bytes that differ, of \(rows) x \(per) values up to \(width)")
        }
    }

    /// An int8 Linear layer computes ONNX's dynamic quantisation: inputs to uint8 by the batch's
    /// range, (q - zero point) . w in integers, times input scale x weight scale, plus the bias.
    func testInt8LinearFollowsTheDynamicQuantisationFormula() throws {
        var rng = RandomStream(seed: 8)
        let layer = Linear(6, 5)
        rng.fillUniform(layer.weight.value, -1, 1)
        rng.fillUniform(layer.bias!.value, -0.5, 0.5)
        let (q, scales) = Int8Quantization.quantize(layer.weight.value.pointer, rows: 5, columns: 6)
        layer.int8 = Int8Weights(values: q, scales: scales, outFeatures: 5, inFeatures: 6)
        let x = Tensor(zeros: [3, 6])
        rng.fillUniform(x, -2, 3)
        let tape = Tape(recording: false)
        tape.reset()
        let y = try layer.forward(Var(x), ForwardContext(tape: tape, training: false)).value
        let values = x.scalars
        let lo = min(values.min()!, 0), hi = max(values.max()!, 0)
        let scale = (hi - lo) / 255, zero = Float(max(0, min(255, (-lo / scale).rounded(.toNearestOrEven))))
        for r in 0..<3 {
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
