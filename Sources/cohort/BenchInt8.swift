import ArgumentParser
import CInt8
import Cohort
import CohortNN
import Foundation

struct BenchInt8: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "int8",
        abstract: "Int8 products of the student's (784-100-10) and configs/fashion-mlp.yaml's (784-512-512-10) Linear layers: Cohort's int8 kernel against the fp32 product of the same shape and, where oneDNN's int8 is exact (VNNI), oneDNN's int8 matmul, alternated round by round in the same run, as products and as whole Linear layers; first, this core's ceiling for int8 over fp32.")

    @Option(help: "Rounds: each backend is measured once per round, in an order that rotates.") var rounds: Int = 5
    @Option(help: "Threads of the second table for fp32 and oneDNN (the first is on 1 thread; Cohort's int8 kernel is single-threaded).") var threads: Int = 2
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

    /// What is timed against Cohort's int8 kernel: the fp32 product everywhere, oneDNN's int8 where exact.
    enum Rival: String {
        case fp32, onednn = "onednn int8"
    }

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
            let rivals: [Rival] = Int8Weights.oneDNNAvailable ? [.fp32, .onednn] : [.fp32]
            print("cohort kernel: \(Int8Weights.cohortKernelName), 1 thread; onednn \(DNNL.version) isa \(DNNL.isa)"
                  + (Int8Weights.oneDNNAvailable ? "" : " (its int8 is exact only with VNNI: not timed)")
                  + "; fp32 products: \(GEMM.fp32BackendReason)")
            print(Self.ceilingLine(seconds: max(0.4, seconds * 4)))
            print("GOPS = 2 m k n / s; each cell: median [min-max] over \(rounds) rounds; ratio = cohort int8 / rival within a round")
            for t in Array(Set([1, threads])).sorted() {
                GEMM.setThreads(t)
                print("\n\(t) thread\(t == 1 ? "" : "s") for the rivals")
                var header = "layer          batch     k     n  | gemm int8           "
                for rival in rivals { header += " | gemm \(rival.rawValue.padding(toLength: 15, withPad: " ", startingAt: 0)) ratio            " }
                header += " | layer int8          "
                for rival in rivals { header += " | layer \(rival.rawValue.padding(toLength: 14, withPad: " ", startingAt: 0)) ratio            " }
                print(header + (Int8Weights.oneDNNAvailable ? " | onednn impl" : ""))
                for shape in Self.shapes {
                    for batch in sizes {
                        let result = try measure(shape, batch: batch, rivals: rivals)
                        var row = shape.what.padding(toLength: 13, withPad: " ", startingAt: 0) + String(format: "%6d %5d %5d", batch, shape.k, shape.n)
                        row += "  | " + Self.cell(result.gemm[0])
                        for i in rivals.indices { row += " | " + Self.cell(result.gemm[i + 1]) + Self.ratioCell(result.gemm[0], result.gemm[i + 1]) }
                        row += " | " + Self.cell(result.layer[0])
                        for i in rivals.indices { row += " | " + Self.cell(result.layer[i + 1]) + Self.ratioCell(result.layer[0], result.layer[i + 1]) }
                        print(row + (result.implementation.map { " | " + $0 } ?? ""))
                    }
                }
            }
            Int8Weights.backendOverride = nil
        }
    }

    /// The issue rates of the default path's integer multiply-add and of the fp32 FMA
    /// (`cohort_int8_ceiling`): the most an exact int8 product can gain over sgemm on this core.
    static func ceilingLine(seconds: Double) -> String {
        var integer = 0.0, fp32 = 0.0
        let path = Int8Weights.defaultPath
        guard cohort_int8_ceiling(path, seconds, &integer, &fp32) != 0 else {
            return "ceiling: none measured for the \(Int8Weights.name(of: path)) path (scalar loops)"
        }
        return String(format: "ceiling on this core: the %@ path's multiply-add issues %.1f multiply-adds/ns, the fp32 FMA %.1f: int8 / fp32 at most %.2f",
                      Int8Weights.name(of: path), integer, fp32, integer / fp32)
    }

    /// GOPS per round of Cohort's int8 kernel (index 0) and of each rival, as bare products and as
    /// whole Linear layers (int8: quantisation, product, rescaling; fp32: product and bias) through
    /// `Linear.forward` on a tape that does not record.
    func measure(_ shape: Shape, batch m: Int, rivals: [Rival]) throws -> (gemm: [[Double]], layer: [[Double]], implementation: String?) {
        let (k, n) = (shape.k, shape.n), k4 = DNNLInt8Matmul.paddedK(k)
        var rng = RandomStream(seed: UInt64(m * 7919 + k * 31 + n))
        var a = [UInt8](repeating: 0, count: m * k4)
        for i in 0..<m { for j in 0..<k { a[i * k4 + j] = UInt8(rng.below(256)) } }
        let w = (0..<(n * k)).map { _ in Int8(rng.below(255) - 127) }
        let path = Int8Weights.defaultPath
        var packed = [Int8](repeating: 0, count: cohort_int8_packed_size(Int32(n), Int32(k), path))
        var sums = [Int32](repeating: 0, count: n)
        cohort_int8_pack(w, Int32(n), Int32(k), &packed, &sums, path)
        var own = [Int32](repeating: 0, count: m * n)
        var products: [() -> Void] = [{ cohort_int8_gemm(a, Int32(m), Int32(k), k4, packed, Int32(n), &own, n, path) }]
        var implementation: String?

        // The layer: one Linear, one tape per backend (each keeps its backend's node for this batch).
        let layer = Linear(k, n)
        rng.fillUniform(layer.weight.value, -0.1, 0.1)
        let float = Linear(k, n)
        float.weight.value.pointer.update(from: layer.weight.value.pointer, count: n * k)
        let (q, scales) = Int8Quantization.quantize(layer.weight.value.pointer, rows: n, columns: k)
        layer.int8 = Int8Weights(values: q, scales: scales, outFeatures: n, inFeatures: k)
        let x = Tensor(zeros: [m, k])
        rng.fillUniform(x, -1, 3)
        let input = Var(x)
        func layerForward(_ module: Linear, _ backend: Int8Backend) -> () -> Void {
            let tape = Tape(recording: false), context = ForwardContext(tape: tape, training: false)
            return {
                Int8Weights.backendOverride = backend
                tape.reset()
                _ = try! module.forward(input, context)
            }
        }
        var layers = [layerForward(layer, .cohort)]

        for rival in rivals {
            switch rival {
            case .fp32:
                let xf = (0..<(m * k)).map { Float(a[($0 / k) * k4 + $0 % k]) }, wf = w.map(Float.init)
                var cf = [Float](repeating: 0, count: m * n)
                let sgemm = try GEMM(m: m, n: n, k: k, transposeB: true, accumulate: false, precision: .fp32)
                products.append { sgemm.run(a: xf, b: wf, c: &cf) }
                layers.append(layerForward(float, .cohort))
            case .onednn:
                guard let dnnl = DNNL.shared else { continue }
                let weights = w.withUnsafeBufferPointer { DNNLInt8Weights(values: $0.baseAddress!, n: n, k: k) }
                let product = try DNNLInt8Matmul(dnnl: dnnl, m: m, n: n, k: k)
                let prepared = try product.prepare(weights)
                var theirs = [Int32](repeating: 0, count: m * n)
                products[0](); product.run(a: a, weights: prepared, c: &theirs)
                guard own == theirs else { throw CohortError.invalid("bench int8: the backends' int32 products differ at \(m)x\(k)x\(n)") }
                products.append { product.run(a: a, weights: prepared, c: &theirs) }
                layers.append(layerForward(layer, .oneDNN))
                implementation = product.implementation
            }
        }
        for body in products + layers { body() }

        let ops = 2.0 * Double(m * k * n)
        var gemm = [[Double]](repeating: [], count: products.count), whole = gemm
        let gemmReps = products.map(reps), layerReps = layers.map(reps)
        for round in 0..<rounds {
            // Rotate which backend goes first, so that none always follows another.
            for step in products.indices {
                let i = (step + round) % products.count
                gemm[i].append(ops / time(products[i], gemmReps[i]) * 1e-9)
                whole[i].append(ops / time(layers[i], layerReps[i]) * 1e-9)
            }
        }
        return (gemm, whole, implementation)
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

    static func ratioCell(_ own: [Double], _ rival: [Double]) -> String {
        let r = zip(own, rival).map { $0 / $1 }
        return String(format: "%5.2f [%4.2f-%4.2f]", median(r), r.min()!, r.max()!)
    }
}
