import ArgumentParser
import CBLASReference
import Cohort
import Foundation

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks, reported as ratios to a limit measured in the same run.",
        subcommands: [BenchBLAS.self, BenchTrain.self, BenchInference.self, BenchAllreduce.self, BenchScaling.self])
}

struct BenchBLAS: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blas",
        abstract: "sgemm GFLOP/s through Cohort's tensors against a plain C call of cblas_sgemm.")

    @Option(help: "OpenBLAS threads (default: OpenBLAS's own choice).")
    var threads: Int?

    @Option(help: "Seconds to spend on each size and caller (approximately).")
    var seconds: Double = 0.5

    func run() throws {
        try failOnError {
            if let threads {
                guard threads > 0 else { throw CohortError.invalid("bench blas: --threads must be positive, got \(threads)") }
                BLAS.setThreads(threads)
            }
            guard seconds > 0 else { throw CohortError.invalid("bench blas: --seconds must be positive") }
            let env = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"].map { " (OPENBLAS_CORETYPE=\($0))" } ?? ""
            print("openblas core: \(BLAS.coreName)\(env), threads: \(BLAS.threads)")
            // (m, n, k): square sizes, and the MLP's own layers at batch 128 (forward and weight gradient).
            let sizes = [(256, 256, 256), (512, 512, 512), (1024, 1024, 1024), (128, 512, 784), (784, 512, 128)]
            print("   m     n     k   cohort GFLOP/s   C GFLOP/s   ratio")
            var worst = Double.infinity
            for (m, n, k) in sizes {
                let flops = 2.0 * Double(m * n * k)
                let reps = max(3, Int(seconds * 50e9 / flops))  // ~50 GFLOP/s: a rough guess, refined below
                let c = cohort_reference_sgemm_gflops(Int32(m), Int32(n), Int32(k), Int32(reps))
                let s = try swiftGflops(m: m, n: n, k: k, reps: reps)
                // Interleave a second round so a burst of noise does not decide the ratio.
                let c2 = cohort_reference_sgemm_gflops(Int32(m), Int32(n), Int32(k), Int32(reps))
                let s2 = try swiftGflops(m: m, n: n, k: k, reps: reps)
                let (cb, sb) = (max(c, c2), max(s, s2))
                worst = min(worst, sb / cb)
                print(String(format: "%4d  %4d  %4d   %14.1f   %9.1f   %5.2f", m, n, k, sb, cb, sb / cb))
            }
            print(String(format: "worst ratio cohort/C: %.2f", worst))
        }
    }

    /// The same product through Cohort's Tensor and BLAS wrapper.
    func swiftGflops(m: Int, n: Int, k: Int, reps: Int) throws -> Double {
        let a = Tensor(zeros: [m, k]), b = Tensor(zeros: [k, n]), c = Tensor(zeros: [m, n])
        for i in 0..<a.count { a.pointer[i] = Float((i * 7) % 13) * 0.01 - 0.06 }
        for i in 0..<b.count { b.pointer[i] = Float((i * 5) % 11) * 0.01 - 0.05 }
        let shape = try MatmulShape(a.shape, b.shape, transposeA: false, transposeB: false)
        Matmul.run(shape, a: a.pointer, transposeA: false, b: b.pointer, transposeB: false, out: c.pointer, accumulate: false)
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<reps {
            Matmul.run(shape, a: a.pointer, transposeA: false, b: b.pointer, transposeB: false, out: c.pointer, accumulate: false)
        }
        let dt = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        return 2.0 * Double(m * n * k) * Double(reps) / dt * 1e-9
    }
}
