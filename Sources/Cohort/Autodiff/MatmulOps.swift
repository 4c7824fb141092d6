/// y = op(a) x op(b), 2-D or batched (see MatmulShape).
final class MatmulNode: TapeNode {
    var kind: OpKind { .linear }
    var a: Var, b: Var
    let s: MatmulShape
    let ta: Bool, tb: Bool
    let aShape: [Int], bShape: [Int]
    let output: Var

    init(_ a: Var, _ b: Var, transposeA: Bool, transposeB: Bool, requiresGrad: Bool) throws {
        s = try MatmulShape(a.shape, b.shape, transposeA: transposeA, transposeB: transposeB)
        self.a = a; self.b = b; ta = transposeA; tb = transposeB
        aShape = a.shape; bShape = b.shape
        output = Var(output: s.outputShape, requiresGrad: requiresGrad)
    }

    func backward() {
        let gy = output.grad!.pointer
        let (m, n, k) = (s.m, s.n, s.k)
        let aStride = s.aBatched ? m * k : 0, bStride = s.bBatched ? k * n : 0
        // With C = op(A) op(B):  d op(A) = dC op(B)^T,  d op(B) = op(A)^T dC.
        // A stored transposed (ta) gets dA = (d op(A))^T = op(B) dC^T, and likewise for B.
        // A rank-2 operand shared by the batch accumulates over it (its stride is 0, beta = 1).
        for i in 0..<s.batch {
            let g = gy + i * m * n
            let av = a.value.pointer + i * aStride, bv = b.value.pointer + i * bStride
            if a.requiresGrad {
                let ga = a.grad!.pointer + i * aStride
                if !ta {  // dA[m,k] = dC[m,n] x op(B)^T
                    BLAS.sgemm(transA: false, transB: !tb, m: m, n: k, k: n, a: g, lda: n, b: bv, ldb: tb ? k : n,
                               beta: 1, c: ga, ldc: k)
                } else {  // dA[k,m] = op(B)[k,n] x dC^T
                    BLAS.sgemm(transA: tb, transB: true, m: k, n: m, k: n, a: bv, lda: tb ? k : n, b: g, ldb: n,
                               beta: 1, c: ga, ldc: m)
                }
            }
            if b.requiresGrad {
                let gb = b.grad!.pointer + i * bStride
                if !tb {  // dB[k,n] = op(A)^T x dC
                    BLAS.sgemm(transA: !ta, transB: false, m: k, n: n, k: m, a: av, lda: ta ? m : k, b: g, ldb: n,
                               beta: 1, c: gb, ldc: n)
                } else {  // dB[n,k] = dC^T x op(A)
                    BLAS.sgemm(transA: true, transB: ta, m: n, n: k, k: m, a: g, lda: n, b: av, ldb: ta ? m : k,
                               beta: 1, c: gb, ldc: k)
                }
            }
        }
    }
}

extension Tape {
    /// op(a) x op(b): [m, k] x [k, n] -> [m, n], or batched over a leading axis.
    public func matmul(_ a: Var, _ b: Var, transposeA: Bool = false, transposeB: Bool = false) throws -> Var {
        let rg = needsGrad(a, b)
        let n = try node(MatmulNode.self, reusable: {
            $0.aShape == a.shape && $0.bShape == b.shape && $0.ta == transposeA && $0.tb == transposeB && $0.output.requiresGrad == rg
        }) { try MatmulNode(a, b, transposeA: transposeA, transposeB: transposeB, requiresGrad: rg) }
        n.a = a; n.b = b
        Matmul.run(n.s, a: a.value.pointer, transposeA: transposeA, b: b.value.pointer, transposeB: transposeB,
                   out: n.output.value.pointer, accumulate: false)
        noteInput(a); noteInput(b)
        return n.output
    }
}
