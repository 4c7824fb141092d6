import CBLAS

/// Thin wrappers over OpenBLAS: the only place the core calls into cblas.
public enum BLAS {
    /// The kernel family OpenBLAS chose at load time (e.g. "SkylakeX", or "Haswell" when forced).
    public static var coreName: String { String(cString: openblas_get_corename()) }
    public static var threads: Int { Int(openblas_get_num_threads()) }
    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(n)) }

    /// C[m x n] = alpha * op(A) * op(B) + beta * C, all row-major with leading dimensions.
    @inline(__always)
    public static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                             beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        if k == 0 {  // sgemm with k = 0 is legal but some builds read the pointers anyway
            if beta == 0 { c.update(repeating: 0, count: (m - 1) * ldc + n) }
            return
        }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
