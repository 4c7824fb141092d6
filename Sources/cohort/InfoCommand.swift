import ArgumentParser
import Cohort
import CohortDistributed
import CohortNN
import Foundation

/// `cohort info`: the CPU, the COHORT_CPU cap, and the path every kernel family takes here and why,
/// so a user (or a bug report) can tell which code ran.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "The CPU, its features, the COHORT_CPU cap, and the path each kernel family (int8, bf16, wire codec, fp32 products, pooling) takes here.")

    func run() throws {
        try failOnError {
            let names = { (features: [CPU.Feature]) in features.isEmpty ? "none" : features.map(\.name).joined(separator: " ") }
            print("cpu: \(CPU.modelName)")
            print("detected: \(names(CPU.detected))")
            print("COHORT_CPU: \(CPU.cap)\(CPU.isCapped ? "" : " (unset)"); kernels may use: \(names(CPU.features))")
            let env = ProcessInfo.processInfo.environment
            print("openblas \(BLAS.coreName) core\(env["OPENBLAS_CORETYPE"].map { " (OPENBLAS_CORETYPE=\($0))" } ?? ""); "
                  + "onednn \(DNNL.version) isa \(DNNL.isa)\(CPU.isCapped ? " (capped by COHORT_CPU)" : env["DNNL_MAX_CPU_ISA"].map { " (DNNL_MAX_CPU_ISA=\($0))" } ?? "")")
            let int8 = Int8Weights.defaultPath, available = Int8Weights.availablePaths
            let rows: [(String, String, String)] = [
                ("fp32 products", GEMM.fp32Backend.rawValue, GEMM.fp32BackendReason),
                ("convolutions", ConvolutionPath.chosen(for: .fp32).rawValue, ConvolutionPath.reason),
                ("int8 products", Int8Weights.name(of: int8),
                 "fastest this CPU runs; also runs: \(available.filter { $0 != int8 }.map(Int8Weights.name(of:)).joined(separator: ", ")); "
                 + "not here: \(Int8Weights.allPaths.filter { !available.contains($0) }.map(Int8Weights.name(of:)).joined(separator: ", "))"),
                ("int8 on onednn", Int8Weights.oneDNNAvailable ? "yes" : "no",
                 Int8Weights.oneDNNAvailable ? "large products (\(Int8Weights.kernelDescription))" : "oneDNN's int8 is exact only with VNNI (isa \(DNNL.isa))"),
                ("int8 convolution", Int8Weights.oneDNNAvailable && Int8Weights.fixedBackend != .cohort ? "onednn" : Int8Weights.name(of: int8),
                 Int8Weights.convolutionDescription),
                ("bf16 rounding", BFloat16.roundingPath.path, BFloat16.roundingPath.why),
                ("bf16 products", CPUFeatures.avx512BF16 ? "onednn" : "refused",
                 CPUFeatures.avx512BF16 ? "avx512_bf16" : "needs avx512_bf16 (emulated in fp32 on request: allow_emulated_bf16)"),
                ("wire fp16/bf16", WireCodec.path.path, WireCodec.path.why),
                ("max pooling", Pool2d.pathName, Pool2d.path.rawValue == 0 ? "no vector path on this CPU (or under COHORT_CPU)"
                    : "2x2 windows of stride 2; other windows in the C loops"),
                ("batch norm", BatchNorm.pathName, BatchNorm.path.rawValue == 0 ? "no vector path on this CPU (or under COHORT_CPU)"
                    : "8 floats a step, sums in double, the portable loops' results"),
            ]
            print("kernel family    path             why")
            for (family, path, why) in rows {
                print(family.padding(toLength: 17, withPad: " ", startingAt: 0) + path.padding(toLength: 17, withPad: " ", startingAt: 0) + why)
            }
        }
    }
}
