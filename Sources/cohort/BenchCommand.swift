import ArgumentParser
import CBLASReference
import Cohort
import Foundation

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks, reported as ratios to a limit measured in the same run.",
        subcommands: [BenchBLAS.self, BenchTrain.self, BenchInference.self, BenchInt8.self, BenchAllreduce.self, BenchScaling.self])
}

struct BenchBLAS: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blas",
        abstract: "Matrix products side by side: OpenBLAS sgemm (through Cohort's GEMM, and from plain C), oneDNN f32 and oneDNN bf16, and the fp32 backend Cohort chooses for each.")

    @Option(help: "OpenBLAS and oneDNN threads (default: their own choice).")
    var threads: Int?

    @Option(help: "Seconds to spend on each size and backend (approximately).")
    var seconds: Double = 0.5

    /// A product C[m x n] = op(A) op(B): square sizes, then the MLP's three products per layer at
    /// batch 128 (784 -> 512 and 512 -> 512: forward, input gradient, weight gradient) and the CNN's
    /// second convolution at batch 64 (forward, weight gradient, input gradient of im2col's columns).
    struct Size {
        let m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, what: String
    }

    static let sizes = [
        Size(m: 256, n: 256, k: 256, transposeA: false, transposeB: false, what: "square"),
        Size(m: 512, n: 512, k: 512, transposeA: false, transposeB: false, what: "square"),
        Size(m: 1024, n: 1024, k: 1024, transposeA: false, transposeB: false, what: "square"),
        Size(m: 128, n: 512, k: 784, transposeA: false, transposeB: true, what: "mlp fc1 forward"),
        Size(m: 512, n: 784, k: 128, transposeA: true, transposeB: false, what: "mlp fc1 weight grad"),
        Size(m: 128, n: 512, k: 512, transposeA: false, transposeB: true, what: "mlp fc2 forward"),
        Size(m: 128, n: 512, k: 512, transposeA: false, transposeB: false, what: "mlp fc2 input grad"),
        Size(m: 512, n: 512, k: 128, transposeA: true, transposeB: false, what: "mlp fc2 weight grad"),
        Size(m: 64, n: 7744, k: 288, transposeA: false, transposeB: false, what: "cnn conv2 forward"),
        Size(m: 64, n: 288, k: 7744, transposeA: false, transposeB: true, what: "cnn conv2 weight grad"),
        Size(m: 288, n: 7744, k: 64, transposeA: true, transposeB: false, what: "cnn conv2 input grad"),
    ]

    func run() throws {
        try failOnError {
            if let threads {
                guard threads > 0 else { throw CohortError.invalid("bench blas: --threads must be positive, got \(threads)") }
                GEMM.setThreads(threads)
            }
            guard seconds > 0 else { throw CohortError.invalid("bench blas: --seconds must be positive") }
            let env = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"].map { " (OPENBLAS_CORETYPE=\($0))" } ?? ""
            print("openblas core: \(BLAS.coreName)\(env), threads: \(BLAS.threads)")
            let bf16 = CPUFeatures.avx512BF16
            print("onednn \(DNNL.version) isa: \(DNNL.isa), threads: \(DNNL.threads); avx512_bf16: \(bf16 ? "yes" : "no (bf16 column: emulated)")")
            print("GFLOP/s                    m     n     k  op   openblas f32   C sgemm   onednn f32   onednn bf16   fp32 choice")
            for size in Self.sizes {
                let flops = 2.0 * Double(size.m * size.n * size.k)
                let reps = max(3, Int(seconds * 60e9 / flops))  // ~60 GFLOP/s: a rough guess
                // Two rounds, interleaved, each backend's best kept: a burst of noise from the other
                // engineers on the machine should not decide the comparison.
                var best = [Double](repeating: 0, count: 4)
                for _ in 0..<2 {
                    best[0] = max(best[0], try gflops(size, .fp32, backend: .openBLAS, reps: reps))
                    if !size.transposeA && !size.transposeB {
                        best[1] = max(best[1], cohort_reference_sgemm_gflops(Int32(size.m), Int32(size.n), Int32(size.k), Int32(reps)))
                    }
                    best[2] = max(best[2], try gflops(size, .fp32, backend: .oneDNN, reps: reps))
                    best[3] = max(best[3], try gflops(size, bf16 ? .bf16 : .bf16Emulated, backend: nil, reps: reps))
                }
                let op = (size.transposeA ? "T" : "N") + (size.transposeB ? "T" : "N")
                let choice = try GEMM(m: size.m, n: size.n, k: size.k, transposeA: size.transposeA, transposeB: size.transposeB,
                                      accumulate: false, precision: .fp32).backend
                print(size.what.padding(toLength: 22, withPad: " ", startingAt: 0)
                      + String(format: "%5d %5d %5d  %@  %13.1f   %7@   %10.1f   %11.1f   %@", size.m, size.n, size.k, op, best[0], best[1] > 0 ? String(format: "%.1f", best[1]) : "-",
                             best[2], best[3], choice.rawValue))
            }
        }
    }

    /// GFLOP/s of `reps` products of this size through Cohort's GEMM (the layers' entry point).
    func gflops(_ s: Size, _ precision: MatmulPrecision, backend: GEMMBackend?, reps: Int) throws -> Double {
        GEMM.fp32Override = backend
        defer { GEMM.fp32Override = nil }
        let product = try GEMM(m: s.m, n: s.n, k: s.k, transposeA: s.transposeA, transposeB: s.transposeB, accumulate: false, precision: precision)
        let a = Tensor(zeros: [s.m * s.k]), b = Tensor(zeros: [s.k * s.n]), c = Tensor(zeros: [s.m * s.n])
        for i in 0..<a.count { a.pointer[i] = Float((i * 7) % 13) * 0.01 - 0.06 }
        for i in 0..<b.count { b.pointer[i] = Float((i * 5) % 11) * 0.01 - 0.05 }
        let time: () -> Double
        if precision == .fp32 {
            time = {
                product.run(a: a.pointer, b: b.pointer, c: c.pointer)
                let start = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<reps { product.run(a: a.pointer, b: b.pointer, c: c.pointer) }
                return Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            }
        } else {  // operands rounded once, outside the timing, as the layers do
            let a16 = BF16Buffer(count: a.count), b16 = BF16Buffer(count: b.count)
            a16.fill(from: a.pointer); b16.fill(from: b.pointer)
            time = {
                product.run(a: a16.pointer, b: b16.pointer, c: c.pointer)
                let start = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<reps { product.run(a: a16.pointer, b: b16.pointer, c: c.pointer) }
                return Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            }
        }
        return 2.0 * Double(s.m * s.n * s.k) * Double(reps) / time() * 1e-9
    }
}
