/// Which library computes a product.
public enum GEMMBackend: String, Sendable, Codable, CaseIterable {
    case openBLAS = "openblas"
    case oneDNN = "onednn"
}

/// The matrix products of layers (Linear, Conv2d): C[m x n] = op(A) op(B) (+ C when `accumulate`),
/// row-major and contiguous (leading dimensions are the natural ones), made once per shape by a tape
/// node and run every step. The layers above never learn which library computes it:
///
/// - fp32: a oneDNN f32 matmul primitive, or OpenBLAS sgemm (`measuredFP32Backend` says why).
/// - bf16: a oneDNN bf16 matmul (AVX-512 BF16, fp32 accumulation); the caller passes bf16 operands
///   (`BF16Buffer`), rounded once where they are made.
/// - bf16 emulated: the same bf16 operands widened to fp32 here and multiplied by sgemm.
public final class GEMM {
    public let m: Int, n: Int, k: Int
    public let transposeA: Bool, transposeB: Bool, accumulate: Bool
    public let precision: MatmulPrecision
    public let backend: GEMMBackend
    private let dnnl: DNNLMatmul?
    /// bf16 emulated: the widened operands.
    private let widened: (a: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>)?

    /// Overrides the measured fp32 choice for every GEMM made afterwards (`cohort bench --fp32-backend`).
    nonisolated(unsafe) public static var fp32Override: GEMMBackend?

    public init(m: Int, n: Int, k: Int, transposeA: Bool = false, transposeB: Bool = false, accumulate: Bool,
                precision: MatmulPrecision) throws {
        self.m = m; self.n = n; self.k = k
        self.transposeA = transposeA; self.transposeB = transposeB; self.accumulate = accumulate
        self.precision = precision
        let empty = m == 0 || n == 0 || k == 0
        switch precision {
        case .fp32:
            let choice = GEMM.fp32Backend
            backend = DNNL.shared == nil || empty ? .openBLAS : choice
        case .bf16:
            guard DNNL.shared != nil else {
                throw CohortError.invalid("precision bf16: oneDNN could not make a CPU engine (is libdnnl2 installed?)")
            }
            backend = empty ? .openBLAS : .oneDNN
        case .bf16Emulated:
            backend = .openBLAS
        }
        dnnl = backend == .oneDNN
            ? try DNNLMatmul(dnnl: DNNL.shared!, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
                             accumulate: accumulate, bf16: precision == .bf16)
            : nil
        widened = precision == .bf16Emulated ? (.allocate(capacity: max(m * k, 1)), .allocate(capacity: max(k * n, 1))) : nil
    }

    deinit {
        widened?.a.deallocate()
        widened?.b.deallocate()
    }

    /// oneDNN's implementation name ("brg:avx512_core_bf16"), or "openblas sgemm".
    public var implementation: String { dnnl?.implementation ?? "openblas sgemm" }

    /// The fp32 backend: oneDNN wherever it has a CPU engine. `cohort bench blas --threads 1`
    /// times both through this class on square sizes and on the MLP's and CNN's own products
    /// (docs/benchmarks.md): on a Cooperlake Xeon oneDNN 2.6.3's f32 brgemm beat OpenBLAS on every product
    /// the MLP and CNN run (1.11-1.51x); on an AVX2 EPYC its gemm:jit matched OpenBLAS's Zen kernels
    /// on those products (0.97-1.18x) and was 3.6-4.0x faster at 256 x 256 x 256, and the mlp
    /// training step was within noise of OpenBLAS's (0.98-1.10x, `bench train --fp32-backend`). The
    /// bench prints the choice next to the timings, so a machine where OpenBLAS wins shows it.
    static var measuredFP32Backend: GEMMBackend { .oneDNN }

    /// Why fp32 products run where they do (`cohort info`).
    public static var fp32BackendReason: String {
        if let fp32Override { return "forced to \(fp32Override.rawValue)" }
        if DNNL.shared == nil { return "oneDNN has no CPU engine" }
        return "oneDNN's f32 matmul (\(DNNL.isa)) was at least as fast as OpenBLAS \(BLAS.coreName) in bench blas on AVX2 and AVX-512"
    }

    /// Where fp32 products made now run: the override, else the measured choice.
    public static var fp32Backend: GEMMBackend { fp32Override ?? measuredFP32Backend }

    private var emptyProduct: Bool { m == 0 || n == 0 || k == 0 }

    /// k = 0: the product is zero, so C is zeroed unless accumulating.
    private func zeroProduct(_ c: UnsafeMutablePointer<Float>) {
        if !accumulate && m > 0 && n > 0 { c.update(repeating: 0, count: m * n) }
    }

    /// fp32 operands (`precision` fp32).
    public func run(a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>) {
        precondition(precision == .fp32, "GEMM: fp32 operands for a \(precision.rawValue) product")
        if emptyProduct { return zeroProduct(c) }
        if let dnnl { return dnnl.run(a: a, b: b, c: c) }
        sgemm(a, b, c)
    }

    /// bf16 operands (`precision` bf16 or bf16 emulated), fp32 result.
    public func run(a: UnsafePointer<BFloat16Bits>, b: UnsafePointer<BFloat16Bits>, c: UnsafeMutablePointer<Float>) {
        precondition(precision != .fp32, "GEMM: bf16 operands for an fp32 product")
        if emptyProduct { return zeroProduct(c) }
        if let dnnl { return dnnl.run(a: a, b: b, c: c) }
        let w = widened!
        BFloat16.widen(a, into: w.a, count: m * k)
        BFloat16.widen(b, into: w.b, count: k * n)
        sgemm(w.a, w.b, c)
    }

    private func sgemm(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>) {
        BLAS.sgemm(transA: transposeA, transB: transposeB, m: m, n: n, k: k, a: a, lda: transposeA ? m : k,
                   b: b, ldb: transposeB ? k : n, beta: accumulate ? 1 : 0, c: c, ldc: n)
    }

    /// Sets OpenBLAS's and oneDNN's (OpenMP's) threads.
    public static func setThreads(_ n: Int) {
        BLAS.setThreads(n)
        DNNL.setThreads(n)
    }
}
