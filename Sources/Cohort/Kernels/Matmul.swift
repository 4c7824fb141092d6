/// Shapes of `matmul`: [m, k] x [k, n] -> [m, n], or batched [b, m, k] x [b, k, n] -> [b, m, n]
/// (a rank-2 operand is shared by every batch entry). Transposes apply to the last two axes.
public struct MatmulShape: Equatable {
    public let batch: Int, m: Int, n: Int, k: Int
    public let aBatched: Bool, bBatched: Bool

    public init(_ a: [Int], _ b: [Int], transposeA: Bool, transposeB: Bool) throws {
        func fail(_ why: String) -> CohortError {
            .shape(op: "matmul", detail: "\(shapeString(a))\(transposeA ? "ᵀ" : "") x \(shapeString(b))\(transposeB ? "ᵀ" : ""): \(why)")
        }
        guard (2...3).contains(a.count), (2...3).contains(b.count) else { throw fail("operands must have rank 2 or 3") }
        aBatched = a.count == 3
        bBatched = b.count == 3
        let ab = aBatched ? a[0] : 1, bb = bBatched ? b[0] : 1
        if aBatched && bBatched && ab != bb { throw fail("batch sizes \(ab) and \(bb) differ") }
        batch = max(ab, bb)
        let (ar, ac) = (a[a.count - 2], a[a.count - 1])
        let (br, bc) = (b[b.count - 2], b[b.count - 1])
        m = transposeA ? ac : ar
        let ka = transposeA ? ar : ac
        let kb = transposeB ? bc : br
        n = transposeB ? br : bc
        guard ka == kb else { throw fail("inner dimensions \(ka) and \(kb) differ") }
        k = ka
    }

    public var outputShape: [Int] { (aBatched || bBatched) ? [batch, m, n] : [m, n] }
}

public enum Matmul {
    /// out = op(a) x op(b) (+ out when accumulate), shapes described by `s`.
    public static func run(_ s: MatmulShape, a: UnsafePointer<Float>, transposeA: Bool,
                           b: UnsafePointer<Float>, transposeB: Bool,
                           out: UnsafeMutablePointer<Float>, accumulate: Bool) {
        let lda = transposeA ? s.m : s.k
        let ldb = transposeB ? s.k : s.n
        let aStride = s.aBatched ? s.m * s.k : 0
        let bStride = s.bBatched ? s.k * s.n : 0
        for i in 0..<s.batch {
            BLAS.sgemm(transA: transposeA, transB: transposeB, m: s.m, n: s.n, k: s.k,
                       a: a + i * aStride, lda: lda, b: b + i * bStride, ldb: ldb,
                       beta: accumulate ? 1 : 0, c: out + i * s.m * s.n, ldc: s.n)
        }
    }
}

extension Tensor {
    /// op(self) x op(other) into a new tensor.
    public func matmul(_ other: Tensor, transposeSelf: Bool = false, transposeOther: Bool = false) throws -> Tensor {
        let s = try MatmulShape(shape, other.shape, transposeA: transposeSelf, transposeB: transposeOther)
        let out = Tensor(zeros: s.outputShape)
        Matmul.run(s, a: pointer, transposeA: transposeSelf, b: other.pointer, transposeB: transposeOther,
                   out: out.pointer, accumulate: false)
        return out
    }
}
