import CCPU
import CDNNL

/// The CPU the kernels run on: the one probe (Sources/CCPU) every kernel family chooses its path
/// from, and the COHORT_CPU cap that makes a stronger CPU take a weaker one's paths (the CI passes
/// capped to `portable` and `avx2` test on an AVX-512 machine what an AVX2 user runs). The cap
/// applies to Cohort's own kernels and, as oneDNN's maximal ISA, to oneDNN's.
public enum CPU {
    /// A feature a kernel path needs: one of the probe's bits (Sources/CCPU/include/cohort_cpu.h),
    /// taken from the header so the two cannot drift apart.
    public struct Feature: Hashable, Sendable {
        public let bit: UInt32
        init(_ bit: Int) { self.bit = UInt32(bit) }

        public static let avx2 = Feature(COHORT_CPU_AVX2), avx512 = Feature(COHORT_CPU_AVX512)
        public static let avx512VNNI = Feature(COHORT_CPU_AVX512_VNNI), avxVNNI = Feature(COHORT_CPU_AVX_VNNI)
        public static let avx512BF16 = Feature(COHORT_CPU_AVX512_BF16), amx = Feature(COHORT_CPU_AMX)
        public static let neon = Feature(COHORT_CPU_NEON), dotProduct = Feature(COHORT_CPU_DOTPROD)
        public static let i8mm = Feature(COHORT_CPU_I8MM), armBF16 = Feature(COHORT_CPU_ARM_BF16)
        public static let all: [Feature] = [.avx2, .avx512, .avx512VNNI, .avxVNNI, .avx512BF16, .amx, .neon, .dotProduct, .i8mm, .armBF16]

        public var name: String { String(cString: cohort_cpu_feature_name(bit)) }
    }

    /// What the processor and the OS support, uncapped.
    public static var detected: [Feature] { Feature.all.filter { cohort_cpu_detected() & $0.bit != 0 } }
    /// What the kernels may use: detected, within the cap.
    public static var features: [Feature] { Feature.all.filter { has($0) } }
    public static func has(_ feature: Feature) -> Bool { cohort_cpu_features() & feature.bit != 0 }

    /// COHORT_CPU's level ("native" when unset). An unknown value ends the process with one line
    /// naming it and the accepted values (exit status 2), the first time any kernel asks.
    public static var cap: String { String(cString: cohort_cpu_level_name(cohort_cpu_cap())) }
    public static var isCapped: Bool { cohort_cpu_cap() != COHORT_CPU_LEVEL_NATIVE }

    /// The processor's name from /proc/cpuinfo ("AMD EPYC 7B13"), or the architecture's.
    public static var modelName: String {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        for line in info.split(separator: "\n") where line.hasPrefix("model name") || line.hasPrefix("CPU part") {
            if let value = line.split(separator: ":", maxSplits: 1).last { return value.trimmingCharacters(in: .whitespaces) }
        }
        #if arch(arm64)
        return "aarch64"
        #else
        return "x86-64"
        #endif
    }

    /// oneDNN's ISA ceiling for the cap, nil where no cap is set (then DNNL_MAX_CPU_ISA, if the
    /// user set it, still applies). oneDNN has no portable level: its lowest is SSE4.1.
    static var oneDNNCeiling: dnnl_cpu_isa_t? {
        switch cohort_cpu_cap() {
        case COHORT_CPU_LEVEL_NATIVE: return nil
        case COHORT_CPU_LEVEL_AVX2: return dnnl_cpu_isa_avx2
        case COHORT_CPU_LEVEL_AVX2_VNNI: return dnnl_cpu_isa_avx2_vnni
        case COHORT_CPU_LEVEL_AVX512: return dnnl_cpu_isa_avx512_core
        case COHORT_CPU_LEVEL_AVX512_VNNI: return dnnl_cpu_isa_avx512_core_vnni
        case COHORT_CPU_LEVEL_AVX512_BF16: return dnnl_cpu_isa_avx512_core_bf16
        default: return dnnl_cpu_isa_sse41
        }
    }
}
