import CBFloat16
#if canImport(Glibc)
import Glibc
#endif

/// The precision of the matrix products of Linear and Conv2d while training (`training.precision`).
/// Everything else (parameters, gradients, optimizer state, losses, normalisation, softmax) stays fp32.
public enum Precision: String, ConfigChoice {
    /// fp32 operands and accumulation.
    case fp32
    /// bf16 operands rounded to nearest even, fp32 accumulation and output.
    case bf16
}

/// How the products actually run: `Precision` resolved against the CPU.
public enum MatmulPrecision: String, Sendable, Codable {
    case fp32
    /// bf16 products on the CPU's AVX-512 BF16 units (oneDNN).
    case bf16
    /// The same bf16-rounded operands widened back to fp32 and multiplied by sgemm: the products
    /// of two bf16 values are exact in fp32, so only the order of the fp32 sums differs from `bf16`.
    /// Any CPU runs it; it is slower than fp32 (the widening copies).
    case bf16Emulated = "bf16-emulated"

    public var usesBF16Operands: Bool { self != .fp32 }

    /// `precision` on this CPU: bf16 needs AVX-512 BF16 unless `allowEmulation`. `cpuHasBF16` is the
    /// CPU's answer (tests pass false to see the refusal).
    public static func resolve(_ precision: Precision, allowEmulation: Bool,
                               cpuHasBF16: Bool = CPUFeatures.avx512BF16) throws -> MatmulPrecision {
        switch precision {
        case .fp32: return .fp32
        case .bf16:
            if cpuHasBF16 { return .bf16 }
            if allowEmulation { return .bf16Emulated }
            throw CohortError.invalid("precision bf16 needs the CPU feature avx512_bf16 (AVX-512 BF16), which this CPU lacks; use fp32, or allow the slow emulation (training.allow_emulated_bf16: true, or --allow-emulated-bf16)")
        }
    }
}

public enum CPUFeatures {
    /// AVX-512 BF16 (cpuid leaf 7 subleaf 1, EAX bit 5), with the OS saving AVX-512 state, within
    /// the COHORT_CPU cap: COHORT_CPU=avx512_vnni (or lower) makes Cohort behave as on a CPU without
    /// it (the tests of the refusal and of the emulated path run on CPUs that have it).
    public static let avx512BF16 = CPU.has(.avx512BF16)
}
