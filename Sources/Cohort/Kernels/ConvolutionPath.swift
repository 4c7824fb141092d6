import CDNNL

/// How Conv2d computes: im2col plus one `GEMM` (portable, and the reference in tests), or oneDNN's
/// convolution primitives (`DNNLConvolution`).
public enum ConvolutionPath: String, Sendable, CaseIterable {
    case im2col
    case oneDNN = "onednn"

    /// Overrides the choice for every Conv2d node made afterwards (`cohort bench train --conv-path`, tests).
    nonisolated(unsafe) public static var override: ConvolutionPath?

    /// oneDNN where it has a CPU engine and COHORT_CPU lets it run its AVX2 (or wider) kernels,
    /// in fp32; im2col for `COHORT_CPU=portable`, without oneDNN, and in bf16 (whose products
    /// im2col hands to `GEMM`'s bf16 matmul). `requested` (a forward's own, as gradient checks
    /// ask for each path), else `override`, decides where oneDNN can run.
    public static func chosen(for precision: MatmulPrecision, requested: ConvolutionPath? = nil) -> ConvolutionPath {
        guard precision == .fp32, DNNL.shared != nil else { return .im2col }
        return requested ?? override ?? (oneDNNHasVectorKernels ? .oneDNN : .im2col)
    }

    /// The paths fp32 training takes in this process, which the gradient checks cover: im2col, and
    /// oneDNN where it is chosen by default (AVX2 or wider). Under the SSE4.1 cap oneDNN runs a
    /// gemm-based convolution nothing chooses; `ConvPathTests` still compares it with im2col there,
    /// but the finite differences of the noisiest check (a residual block with batch norm, whose
    /// rounding noise is about 1e-4 against a floor of 1e-2) went past the tolerance on it.
    public static var available: [ConvolutionPath] { DNNL.shared != nil && oneDNNHasVectorKernels ? [.im2col, .oneDNN] : [.im2col] }

    /// Whether oneDNN dispatches to AVX2 or wider here (under `COHORT_CPU=portable` it is capped to SSE4.1).
    static var oneDNNHasVectorKernels: Bool {
        switch DNNL.effectiveISA {
        case dnnl_cpu_isa_avx2, dnnl_cpu_isa_avx2_vnni, dnnl_cpu_isa_avx512_core, dnnl_cpu_isa_avx512_core_vnni,
             dnnl_cpu_isa_avx512_core_bf16, dnnl_cpu_isa_avx512_core_amx: return true
        default: return false
        }
    }

    /// Why fp32 convolutions run where `chosen(for: .fp32)` says (`cohort info`).
    public static var reason: String {
        if DNNL.shared == nil { return "oneDNN has no CPU engine" }
        if let override { return "forced to \(override.rawValue)" }
        return oneDNNHasVectorKernels ? "oneDNN's convolution primitives on \(DNNL.isa); bf16 stays on im2col"
            : "oneDNN is capped to \(DNNL.isa) (COHORT_CPU=\(CPU.cap))"
    }
}
