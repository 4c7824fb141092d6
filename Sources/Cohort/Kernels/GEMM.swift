import CDNNL

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
            let choice = GEMM.fp32Backend(m: m, n: n, k: k)
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

    /// The fp32 backend of an m x n x k product, by the implementation oneDNN 2.6.3's f32 matmul
    /// takes on this CPU (its ISA, within COHORT_CPU). Where it is brgemm (AVX-512), `cohort bench
    /// blas --threads 1` found it faster than OpenBLAS on every product the MLP and CNN run
    /// (1.11-1.51x on a Cooperlake Xeon): every product goes to oneDNN. Where it is gemm:jit (AVX2),
    /// on an AVX2 EPYC (docs/benchmarks.md): small products ran much faster on oneDNN (256^3 at
    /// 3.6-4.0x OpenBLAS's Zen kernels in bench blas; the 784-100-10 model's inference 1.3-1.6x
    /// in bench inference), large ones were a tie in bench blas but whole training steps were
    /// faster on OpenBLAS (cnn 1.09-1.13x): products below `gemmJitOneDNNLimit` multiply-adds go to
    /// oneDNN, larger ones to OpenBLAS. `cohort info` and the benches print the rule.
    static func measuredFP32Backend(m: Int, n: Int, k: Int) -> GEMMBackend {
        oneDNNRunsBrgemm || m * n * k < gemmJitOneDNNLimit ? .oneDNN : .openBLAS
    }
    /// 2^25: above the 784-100-10 model's 256 x 784 x 100 inference product, at the MLP's 128 x 512 x 512.
    static let gemmJitOneDNNLimit = 1 << 25

    /// Whether oneDNN's f32 matmul is brgemm here (AVX-512 and above), rather than gemm:jit.
    static let oneDNNRunsBrgemm = DNNL.runsAVX512

    /// Why fp32 products run where they do (`cohort info`).
    public static var fp32BackendReason: String {
        if let fp32Override { return "forced to \(fp32Override.rawValue)" }
        if DNNL.shared == nil { return "oneDNN has no CPU engine" }
        return oneDNNRunsBrgemm ? "oneDNN's f32 matmul is brgemm on \(DNNL.isa)"
            : "oneDNN's f32 matmul is gemm:jit on \(DNNL.isa): oneDNN below 2^25 multiply-adds, OpenBLAS \(BLAS.coreName) from there"
    }

    /// Where fp32 products made now run: the override, else the measured choice.
    public static func fp32Backend(m: Int, n: Int, k: Int) -> GEMMBackend { fp32Override ?? measuredFP32Backend(m: m, n: n, k: k) }
    /// The backend named in reports: the override, else the rule for large products.
    public static var fp32Backend: GEMMBackend { fp32Override ?? (oneDNNRunsBrgemm ? .oneDNN : .openBLAS) }

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
