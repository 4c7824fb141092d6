import ArgumentParser
import CInt8
import Cohort
import CohortNN
import Foundation

struct BenchInt8: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "int8",
        abstract: "Int8 products of the student's (784-100-10) and configs/fashion-mlp.yaml's (784-512-512-10) Linear layers: Cohort's kernel against oneDNN's int8 matmul, alternated round by round in the same run, as products and as whole int8 Linear layers.")

    @Option(help: "Rounds: each backend is measured once per round, in turn (the first of the two alternates).") var rounds: Int = 5
    @Option(help: "oneDNN threads of the second table (the first is on 1 thread; Cohort's kernel is single-threaded).") var threads: Int = 2
    @Option(help: "Seconds per backend, case and round (approximately).") var seconds: Double = 0.1
    @Option(help: "Batch sizes (comma-separated).") var batches: String = "1,64,256"

    /// A Linear layer's product: y[batch x n] = x[batch x k] W^T.
    struct Shape {
        let k: Int, n: Int, what: String
    }

    static let shapes = [
        Shape(k: 784, n: 100, what: "student fc1"), Shape(k: 100, n: 10, what: "student fc2"),
        Shape(k: 784, n: 512, what: "mlp fc1"), Shape(k: 512, n: 512, what: "mlp fc2"), Shape(k: 512, n: 10, what: "mlp fc3"),
    ]

    func run() throws {
        setvbuf(stdout, nil, _IOLBF, 0)  // a row as soon as it is measured
        try failOnError {
            let sizes = try batches.split(separator: ",").map { s -> Int in
                guard let b = Int(s.trimmingCharacters(in: .whitespaces)), b > 0 else { throw CohortError.invalid("bench int8: bad --batches \(batches)") }
                return b
            }
            guard rounds > 0, threads > 0, seconds > 0, !sizes.isEmpty else {
                throw CohortError.invalid("bench int8: --rounds, --threads and --seconds must be positive")
            }
            guard Int8Weights.oneDNNAvailable, let dnnl = DNNL.shared else {
                throw CohortError.invalid("bench int8: oneDNN has no engine or no VNNI on this CPU (isa \(DNNL.isa)): only Cohort's kernel runs here")
            }
            print("cohort kernel: \(Int8Weights.cohortKernelName), 1 thread; onednn \(DNNL.version) isa \(DNNL.isa); "
                  + "int8 products by default: \(Int8Weights.kernelDescription)")
            print("GOPS = 2 m k n / s; each cell: median [min-max] over \(rounds) rounds; ratio = onednn / cohort within a round")
            for t in Array(Set([1, threads])).sorted() {
                GEMM.setThreads(t)
                print("\n\(t) thread\(t == 1 ? "" : "s") for oneDNN")
                print("layer          batch     k     n  | gemm cohort           gemm onednn           ratio             | layer cohort          layer onednn          ratio             | onednn impl")
                for shape in Self.shapes {
                    for batch in sizes {
                        let result = try measure(shape, batch: batch, dnnl: dnnl)
                        print(shape.what.padding(toLength: 13, withPad: " ", startingAt: 0)
                              + String(format: "%6d %5d %5d", batch, shape.k, shape.n)
                              + "  | " + Self.cell(result.gemm.0) + Self.cell(result.gemm.1) + Self.ratioCell(result.gemm)
                              + " | " + Self.cell(result.layer.0) + Self.cell(result.layer.1) + Self.ratioCell(result.layer)
                              + " | " + result.implementation)
                    }
                }
            }
            Int8Weights.backendOverride = nil
        }
    }

    typealias Series = ([Double], [Double])

    /// GOPS of each backend per round: the bare integer products, then whole int8 Linear layers
    /// (quantisation, product, rescaling) through `Linear.forward` on a tape that does not record.
    func measure(_ shape: Shape, batch m: Int, dnnl: DNNL) throws -> (gemm: Series, layer: Series, implementation: String) {
        let (k, n) = (shape.k, shape.n), k4 = DNNLInt8Matmul.paddedK(k)
        var rng = RandomStream(seed: UInt64(m * 7919 + k * 31 + n))
        var a = [UInt8](repeating: 0, count: m * k4)
        for i in 0..<m { for j in 0..<k { a[i * k4 + j] = UInt8(rng.below(256)) } }
        let w = (0..<(n * k)).map { _ in Int8(rng.below(255) - 127) }
        let path = Int8Weights.defaultPath
        var packed = [Int8](repeating: 0, count: cohort_int8_packed_size(Int32(n), Int32(k), path))
        var sums = [Int32](repeating: 0, count: n)
        cohort_int8_pack(w, Int32(n), Int32(k), &packed, &sums, path)
        let weights = w.withUnsafeBufferPointer { DNNLInt8Weights(values: $0.baseAddress!, n: n, k: k) }
        let product = try DNNLInt8Matmul(dnnl: dnnl, m: m, n: n, k: k)
        let prepared = try product.prepare(weights)
        var own = [Int32](repeating: 0, count: m * n), theirs = own
        let cohortGEMM = { cohort_int8_gemm(a, Int32(m), Int32(k), k4, packed, Int32(n), &own, n, path) }
        let onednnGEMM = { product.run(a: a, weights: prepared, c: &theirs) }
        cohortGEMM(); onednnGEMM()
        guard own == theirs else { throw CohortError.invalid("bench int8: the backends' int32 products differ at \(m)x\(k)x\(n)") }

        // The layer: one Linear, one tape per backend (each keeps its backend's node for this batch).
        let layer = Linear(k, n)
        rng.fillUniform(layer.weight.value, -0.1, 0.1)
        let (q, scales) = Int8Quantization.quantize(layer.weight.value.pointer, rows: n, columns: k)
        layer.int8 = Int8Weights(values: q, scales: scales, outFeatures: n, inFeatures: k)
        let x = Tensor(zeros: [m, k])
        rng.fillUniform(x, -1, 3)
        let input = Var(x)
        let tapes = [Tape(recording: false), Tape(recording: false)]
        let contexts = tapes.map { ForwardContext(tape: $0, training: false) }
        func layerForward(_ i: Int) -> () -> Void {
            let backend: Int8Backend = i == 0 ? .cohort : .oneDNN
            return {
                Int8Weights.backendOverride = backend
                tapes[i].reset()
                _ = try! layer.forward(input, contexts[i])
            }
        }
        let layers = [layerForward(0), layerForward(1)]
        layers[0](); layers[1]()

        let ops = 2.0 * Double(m * k * n)
        var gemm: Series = ([], []), whole: Series = ([], [])
        let gemmReps = [reps(cohortGEMM), reps(onednnGEMM)], layerReps = [reps(layers[0]), reps(layers[1])]
        for round in 0..<rounds {
            // Alternate which backend goes first, so that neither always follows the other.
            for i in (round % 2 == 0 ? [0, 1] : [1, 0]) {
                let g = ops / time(i == 0 ? cohortGEMM : onednnGEMM, gemmReps[i]) * 1e-9
                let l = ops / time(layers[i], layerReps[i]) * 1e-9
                if i == 0 { gemm.0.append(g); whole.0.append(l) } else { gemm.1.append(g); whole.1.append(l) }
            }
        }
        return (gemm, whole, product.implementation)
    }

    /// Repetitions that take about `seconds`, from a short calibration.
    func reps(_ body: () -> Void) -> Int {
        var count = 1
        while true {
            let perCall = time(body, count)
            if perCall * Double(count) > 0.01 || count >= 1 << 24 { return max(1, Int(seconds / perCall)) }
            count *= 4
        }
    }

    /// Seconds per call over `reps` calls.
    func time(_ body: () -> Void, _ reps: Int) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<reps { body() }
        return Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 / Double(reps)
    }

    static func median(_ v: [Double]) -> Double {
        let s = v.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    static func cell(_ v: [Double]) -> String {
        String(format: "%6.1f [%5.1f-%5.1f]  ", median(v), v.min()!, v.max()!)
    }

    static func ratioCell(_ s: Series) -> String {
        let r = zip(s.1, s.0).map { $0 / $1 }
        return String(format: "%5.2f [%4.2f-%4.2f]", median(r), r.min()!, r.max()!)
    }
}
