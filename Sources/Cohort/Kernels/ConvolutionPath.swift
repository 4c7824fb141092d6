import CDNNL

/// How Conv2d computes: im2col plus one `GEMM` (portable, and the reference in tests), oneDNN's
/// direct convolution primitives (`DNNLConvolution`), those with oneDNN's Winograd F(4x4, 3x3)
/// primitives wherever it has them (3x3 stride 1, channels in blocks of 16; AVX-512 only in
/// oneDNN 2.6), which cut the resnet step's convolutions from 40 to 33 ms on a Zen 4, or Cohort's
/// own Winograd F(4x4, 3x3) (`WinogradConvolution`, any CPU) for the 3x3 stride-1 convolutions
/// and oneDNN's direct primitives for the others (docs/benchmarks.md).
public enum ConvolutionPath: String, Sendable, CaseIterable {
    case im2col
    case oneDNN = "onednn"
    case winograd
    case cohortWinograd = "cohort-winograd"

    /// Whether convolutions on this path run on oneDNN's primitives (cohort-winograd: those that
    /// are not 3x3 stride 1, where oneDNN has vector kernels).
    public var usesOneDNN: Bool {
        switch self {
        case .im2col: return false
        case .oneDNN, .winograd: return true
        case .cohortWinograd: return DNNL.shared != nil && Self.oneDNNHasVectorKernels
        }
    }

    /// Overrides the choice for every Conv2d node made afterwards (`cohort bench train --conv-path`, tests).
    nonisolated(unsafe) public static var override: ConvolutionPath?

    /// Where oneDNN has a CPU engine and COHORT_CPU lets it run its AVX2 (or wider) kernels, in
    /// fp32: oneDNN's Winograd where it has it (AVX-512), else Cohort's (AVX2: on a Zen 4 capped to
    /// AVX2 the cnn's step ran 1.13-1.53x and the resnet's 1.20-1.28x oneDNN's direct path,
    /// docs/benchmarks.md); im2col for `COHORT_CPU=portable`, without oneDNN, and in bf16 (whose
    /// products im2col hands to `GEMM`'s bf16 matmul). `requested` (a forward's own, as gradient checks
    /// ask for each path), else `override`, decides where oneDNN can run.
    public static func chosen(for precision: MatmulPrecision, requested: ConvolutionPath? = nil) -> ConvolutionPath {
        guard precision == .fp32 else { return .im2col }
        guard DNNL.shared != nil else { return (requested ?? override) == .cohortWinograd ? .cohortWinograd : .im2col }
        return requested ?? override ?? (oneDNNHasWinograd ? .winograd : oneDNNHasVectorKernels ? .cohortWinograd : .im2col)
    }

    /// The paths fp32 training takes in this process, which the gradient checks cover: im2col,
    /// oneDNN where it is chosen by default (AVX2 or wider), and Winograd where oneDNN has it. Under the SSE4.1 cap oneDNN runs a
    /// gemm-based convolution nothing chooses; `ConvPathTests` still compares it with im2col there,
    /// but the finite differences of the noisiest check (a residual block with batch norm, whose
    /// rounding noise is about 1e-4 against a floor of 1e-2) went past the tolerance on it.
    public static var available: [ConvolutionPath] {
        guard DNNL.shared != nil, oneDNNHasVectorKernels else { return [.im2col, .cohortWinograd] }
        return oneDNNHasWinograd ? [.im2col, .oneDNN, .winograd, .cohortWinograd] : [.im2col, .oneDNN, .cohortWinograd]
    }

    /// Whether oneDNN dispatches to AVX2 or wider here (under `COHORT_CPU=portable` it is capped to SSE4.1).
    static var oneDNNHasVectorKernels: Bool {
        switch DNNL.effectiveISA {
        case dnnl_cpu_isa_avx2, dnnl_cpu_isa_avx2_vnni, dnnl_cpu_isa_avx512_core, dnnl_cpu_isa_avx512_core_vnni,
             dnnl_cpu_isa_avx512_core_bf16, dnnl_cpu_isa_avx512_core_amx: return true
        default: return false
        }
    }

    /// Whether oneDNN runs Winograd convolutions here: its f32 ones are AVX-512 kernels
    /// (jit_wino_4x3:avx512_core); elsewhere it refuses them and every layer stays direct.
    static var oneDNNHasWinograd: Bool { DNNL.runsAVX512 }

    /// Why fp32 convolutions run where `chosen(for: .fp32)` says (`cohort info`).
    public static var reason: String {
        if DNNL.shared == nil { return "oneDNN has no CPU engine" }
        if let override { return "forced to \(override.rawValue)" }
        if oneDNNHasWinograd { return "oneDNN's primitives on \(DNNL.isa), Winograd for 3x3 stride 1 in blocks of 16 channels; bf16 stays on im2col" }
        return oneDNNHasVectorKernels ? "Cohort's Winograd F(4x4, 3x3) (\(WinogradConvolution.bestPath) transforms) for 3x3 stride 1 of 8+ channels, oneDNN's primitives on \(DNNL.isa) for the rest; bf16 stays on im2col"
            : "oneDNN is capped to \(DNNL.isa) (COHORT_CPU=\(CPU.cap))"
    }
}
