import XCTest
import CBFloat16
@testable import Cohort

/// The kernel layer's products: every backend computes the same C for every transpose and for
/// accumulation, and bf16 rounds as the AVX-512 BF16 instruction does.
final class GEMMTests: XCTestCase {
    func random(_ count: Int, seed: UInt64) -> Tensor {
        var rng = RandomStream(seed: seed)
        let t = Tensor(zeros: [count])
        rng.fillUniform(t, -1, 1)
        return t
    }

    /// C = op(A) op(B) (+ C0) in Float64 from the given operand values.
    func reference(m: Int, n: Int, k: Int, ta: Bool, tb: Bool, a: [Float], b: [Float], c0: [Float]?) -> [Double] {
        var c = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var s = Double(c0?[i * n + j] ?? 0)
                for p in 0..<k {
                    s += Double(ta ? a[p * m + i] : a[i * k + p]) * Double(tb ? b[j * k + p] : b[p * n + j])
                }
                c[i * n + j] = s
            }
        }
        return c
    }

    func testBackendsAgreeForEveryTransposeAndAccumulation() throws {
        let (m, n, k) = (7, 19, 33)
        let bf16: MatmulPrecision = CPUFeatures.avx512BF16 ? .bf16 : .bf16Emulated
        for ta in [false, true] {
            for tb in [false, true] {
                for accumulate in [false, true] {
                    let a = random(m * k, seed: 1), b = random(k * n, seed: 2), c0 = random(m * n, seed: 3)
                    let exact = reference(m: m, n: n, k: k, ta: ta, tb: tb, a: a.scalars, b: b.scalars, c0: accumulate ? c0.scalars : nil)
                    let what = "ta \(ta) tb \(tb) accumulate \(accumulate)"
                    for backend in GEMMBackend.allCases {
                        GEMM.fp32Override = backend
                        defer { GEMM.fp32Override = nil }
                        let product = try GEMM(m: m, n: n, k: k, transposeA: ta, transposeB: tb, accumulate: accumulate, precision: .fp32)
                        XCTAssertEqual(product.backend, backend)
                        let c = c0.copy()
                        product.run(a: a.pointer, b: b.pointer, c: c.pointer)
                        for (x, y) in zip(c.scalars, exact) { XCTAssertEqual(Double(x), y, accuracy: 1e-5, "fp32 \(backend) \(what)") }
                    }
                    // bf16: exact products of the rounded operands, summed in fp32.
                    let a16 = BF16Buffer(count: a.count), b16 = BF16Buffer(count: b.count)
                    a16.fill(from: a.pointer); b16.fill(from: b.pointer)
                    let rounded = reference(m: m, n: n, k: k, ta: ta, tb: tb, a: a.scalars.map(BFloat16.rounded),
                                            b: b.scalars.map(BFloat16.rounded), c0: accumulate ? c0.scalars : nil)
                    for precision in Set([bf16, .bf16Emulated]) {
                        let product = try GEMM(m: m, n: n, k: k, transposeA: ta, transposeB: tb, accumulate: accumulate, precision: precision)
                        let c = c0.copy()
                        product.run(a: a16.pointer, b: b16.pointer, c: c.pointer)
                        for (x, y) in zip(c.scalars, rounded) { XCTAssertEqual(Double(x), y, accuracy: 1e-5, "\(precision) \(what)") }
                        // ... and within bf16's rounding of the fp32 product: about 2^-8 of the terms' size (k/4 here).
                        for (x, y) in zip(c.scalars, exact) { XCTAssertEqual(Double(x), y, accuracy: 0.1, "\(precision) vs fp32 \(what)") }
                    }
                }
            }
        }
    }

    func testEmptyInnerDimensionZeroesOrKeeps() throws {
        let c = Tensor(shape: [2, 3], repeating: 5)
        let none = Tensor(zeros: [1])
        try GEMM(m: 2, n: 3, k: 0, accumulate: true, precision: .fp32).run(a: none.pointer, b: none.pointer, c: c.pointer)
        XCTAssertEqual(c.scalars, [Float](repeating: 5, count: 6))
        try GEMM(m: 2, n: 3, k: 0, accumulate: false, precision: .fp32).run(a: none.pointer, b: none.pointer, c: c.pointer)
        XCTAssertEqual(c.scalars, [Float](repeating: 0, count: 6))
    }

    func testBF16RoundsToNearestEven() {
        XCTAssertEqual(BFloat16.rounded(1 + 0x1p-8), 1)  // a tie: to the even mantissa (1.0)
        XCTAssertEqual(BFloat16.rounded(1 + 0x1p-7 + 0x1p-8), 1 + 0x1p-6)  // a tie: up to the even one
        XCTAssertEqual(BFloat16.rounded(1 + 0x1p-8 + 0x1p-20), 1 + 0x1p-7)  // past the tie: up
        XCTAssertEqual(BFloat16.rounded(-3.0), -3.0)
        XCTAssertEqual(BFloat16.rounded(.infinity), .infinity)
        XCTAssertEqual(BFloat16.rounded(.greatestFiniteMagnitude), .infinity)  // rounds past the largest bf16
        XCTAssertTrue(BFloat16.rounded(.nan).isNaN)
    }

    /// The AVX-512 BF16 instruction (where the CPU has it) and the portable loop give the same bits,
    /// for random values, ties, infinities and NaN, and for lengths that end in every tail.
    func testInstructionAndPortableLoopAgree() {
        var values = random(1000, seed: 4).scalars.map { $0 * 1e3 }
        values += [0, -0, 1 + 0x1p-8, 1 + 0x1p-7 + 0x1p-8, .infinity, -.infinity, .nan, .greatestFiniteMagnitude,
                   .leastNonzeroMagnitude, .leastNormalMagnitude, 65504, -1e-30]
        for count in [values.count, 1, 15, 16, 17, 31, 33] {
            var fast = [UInt16](repeating: 0, count: count), portable = fast
            cohort_f32_to_bf16(values, &fast, count)
            cohort_f32_to_bf16_portable(values, &portable, count)
            XCTAssertEqual(fast, portable, "count \(count)")
        }
    }

    func testBF16IsRefusedWithoutTheCPUFeatureUnlessEmulationIsAllowed() throws {
        XCTAssertThrowsError(try MatmulPrecision.resolve(.bf16, allowEmulation: false, cpuHasBF16: false)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("avx512_bf16"), message)
            XCTAssertFalse(message.contains("\n"), message)
        }
        XCTAssertEqual(try MatmulPrecision.resolve(.bf16, allowEmulation: true, cpuHasBF16: false), .bf16Emulated)
        XCTAssertEqual(try MatmulPrecision.resolve(.bf16, allowEmulation: false, cpuHasBF16: true), .bf16)
        XCTAssertEqual(try MatmulPrecision.resolve(.fp32, allowEmulation: false, cpuHasBF16: false), .fp32)
    }
}
