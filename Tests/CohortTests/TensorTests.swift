import XCTest
@testable import Cohort

final class TensorTests: XCTestCase {
    func testStorageIs64ByteAligned() {
        for n in [1, 3, 17, 1000] {
            XCTAssertEqual(Int(bitPattern: Tensor(zeros: [n]).pointer) % 64, 0)
        }
    }

    func testMatmulAgainstHandComputed() throws {
        let a = try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let b = try Tensor(shape: [3, 2], scalars: [7, 8, 9, 10, 11, 12])
        XCTAssertEqual(try a.matmul(b).scalars, [58, 64, 139, 154])
        XCTAssertEqual(try a.matmul(a, transposeOther: true).scalars, [14, 32, 32, 77])
        XCTAssertEqual(try a.matmul(a, transposeSelf: true).shape, [3, 3])
    }

    func testShapeErrorsNameTheOpAndBothShapes() {
        let a = Tensor(zeros: [2, 3]), b = Tensor(zeros: [4, 5])
        XCTAssertThrowsError(try a.matmul(b)) { error in
            XCTAssertEqual("\(error)", "matmul: [2, 3] x [4, 5]: inner dimensions 3 and 4 differ")
        }
        let tape = Tape()
        XCTAssertThrowsError(try tape.add(Var(Tensor(zeros: [2, 3])), Var(Tensor(zeros: [4])))) { error in
            XCTAssertTrue("\(error)".hasPrefix("add: shapes [2, 3] and [4] do not broadcast"), "\(error)")
        }
        XCTAssertThrowsError(try a.reshaped([4, -1])) { error in
            XCTAssertTrue("\(error)".contains("[2, 3]") && "\(error)".contains("[4, -1]"), "\(error)")
        }
        XCTAssertThrowsError(try tape.im2col(Var(Tensor(zeros: [1, 1, 2, 2])), kernel: (3, 3))) { error in
            XCTAssertTrue("\(error)".hasPrefix("im2col:"), "\(error)")
        }
        XCTAssertThrowsError(try Tensor(shape: [2, 2], scalars: [1, 2, 3]))
        XCTAssertThrowsError(try a.sum(axis: 2))
    }

    func testBroadcastingValues() throws {
        let t = Tape(recording: false)
        let a = Var(try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6]))
        let col = Var(try Tensor(shape: [2, 1], scalars: [10, 20]))
        XCTAssertEqual(try t.add(a, col).value.scalars, [11, 12, 13, 24, 25, 26])
        let row = Var(try Tensor(shape: [3], scalars: [1, 0, -1]))
        XCTAssertEqual(try t.mul(a, row).value.scalars, [1, 0, -3, 4, 0, -6])
        XCTAssertEqual(try t.sub(col, row).value.shape, [2, 3])
    }

    func testReductions() throws {
        let x = try Tensor(shape: [2, 3], scalars: [1, 5, 3, 4, 2, 6])
        XCTAssertEqual(try x.sum(axis: 0).scalars, [5, 7, 9])
        XCTAssertEqual(try x.sum(axis: 1, keepDims: true).shape, [2, 1])
        XCTAssertEqual(try x.max(axis: 1).scalars, [5, 6])
        XCTAssertEqual(try x.argmax(axis: 1), [1, 2])
        XCTAssertEqual(try x.argmax(axis: 0), [1, 0, 1])
        XCTAssertEqual(x.sumAll(), 21)
    }

    func testSoftmaxDoesNotOverflow() throws {
        let x = try Tensor(shape: [1, 3], scalars: [1000, 1000, -1000])
        let s = try x.softmax().scalars
        XCTAssertEqual(s[0], 0.5, accuracy: 1e-6)
        XCTAssertEqual(s[2], 0, accuracy: 1e-6)
        let l = try x.logSoftmax().scalars
        XCTAssertEqual(l[0], -Float(log(2.0)), accuracy: 1e-4)  // 1000 + log 2 has a Float32 ulp of 6e-5
        XCTAssertTrue(l.allSatisfy { $0.isFinite })
    }

    func testIm2colMatchesDirectConvolution() throws {
        var rng = RandomStream(seed: 3)
        let x = Tensor(zeros: [1, 2, 5, 4]), w = Tensor(zeros: [3, 2 * 3 * 3])
        rng.fillNormal(x); rng.fillNormal(w)
        let g = try ConvGeometry(channels: 2, height: 5, width: 4, kernel: (3, 3), stride: (2, 1), padding: (1, 1))
        let cols = Tensor(zeros: [g.patchSize, g.outPixels])
        Im2col.forward(x.pointer, g, cols: cols.pointer, ldc: g.outPixels)
        let y = try w.matmul(cols)
        for o in 0..<3 {
            for oy in 0..<g.outH {
                for ox in 0..<g.outW {
                    var s: Float = 0
                    for c in 0..<2 {
                        for ky in 0..<3 {
                            for kx in 0..<3 {
                                let iy = oy * 2 - 1 + ky, ix = ox - 1 + kx
                                if iy >= 0 && iy < 5 && ix >= 0 && ix < 4 { s += x[0, c, iy, ix] * w[o, (c * 3 + ky) * 3 + kx] }
                            }
                        }
                    }
                    XCTAssertEqual(y[o, oy * g.outW + ox], s, accuracy: 1e-4)
                }
            }
        }
    }
}
