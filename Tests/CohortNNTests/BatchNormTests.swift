import CNormalization
import Cohort
import CohortNN
import XCTest

/// Batch normalisation's statistics by hand, on uncentred data, and the same results on every
/// kernel path the CPU runs (the C test, Tests/CKernelTests/batchnorm_paths_test.c, compares the
/// kernels on more shapes; the gradient checks are in LayerChecks).
final class BatchNormTests: XCTestCase {
    /// The layer's output and input gradient (grad: a backward pass with `seed`), read while the tape
    /// that owns their memory is alive.
    private func run(_ bn: BatchNorm, _ x: Tensor, training: Bool, recording: Bool = true, seed: Tensor? = nil) throws -> (y: [Float], gx: [Float]) {
        let tape = Tape(recording: recording)
        tape.reset()
        let input = Var(x, requiresGrad: seed != nil)
        let y = try bn.forward(input, ForwardContext(tape: tape, training: training))
        if let seed { try tape.backward(y, seed: seed) }
        return withExtendedLifetime(tape) { (y.value.scalars, seed != nil ? input.grad!.scalars : []) }
    }

    /// One channel of [1, 2, 3, 4] (batch 2, rows of 2) and one of [10, 10, 10, 14]: the batch's
    /// mean and biased variance normalise; the running statistics move by momentum 0.1 towards the
    /// mean and the unbiased variance, as PyTorch's do.
    func testTrainingNormalisesByTheBatchAndUpdatesRunningStatistics() throws {
        let bn = BatchNorm(features: 2, spatial: true)
        bn.scale.value.fill(1)  // a model's initialisation would; a bare layer's parameters start at 0
        let x = Tensor(zeros: [2, 2, 1, 2])
        for (i, v) in [1, 2, 10, 10, 3, 4, 10, 14].enumerated() { x.pointer[i] = Float(v) }  // [b][c][w]
        let y = try run(bn, x, training: true).y
        let s0 = 1 / (1.25 + 1e-5 as Float).squareRoot(), s1 = 1 / (3 + 1e-5 as Float).squareRoot()
        let expected: [Float] = [(1 - 2.5) * s0, (2 - 2.5) * s0, (10 - 11) * s1, (10 - 11) * s1,
                                 (3 - 2.5) * s0, (4 - 2.5) * s0, (10 - 11) * s1, (14 - 11) * s1]
        for (a, b) in zip(y, expected) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        XCTAssertEqual(bn.runningMean.value.scalars[0], 0.25, accuracy: 1e-6)
        XCTAssertEqual(bn.runningMean.value.scalars[1], 1.1, accuracy: 1e-6)
        XCTAssertEqual(bn.runningVar.value.scalars[0], 0.9 + 0.1 * 5 / 3, accuracy: 1e-6)  // unbiased 5/3
        XCTAssertEqual(bn.runningVar.value.scalars[1], 0.9 + 0.1 * 4, accuracy: 1e-6)      // unbiased 12/3
    }

    /// Values of 10,000 +- 1: a one-pass variance in float would lose it all to cancellation.
    func testUncentredDataKeepTheirVariance() throws {
        let bn = BatchNorm(features: 1, spatial: true)
        let x = Tensor(zeros: [4, 1, 7, 9])
        var rng = RandomStream(seed: 3)
        rng.fillUniform(x, -1, 1)
        var sum = 0.0, squares = 0.0
        for i in 0..<x.count { x.pointer[i] += 10_000; sum += Double(x.pointer[i]) }
        let mean = sum / Double(x.count)
        for i in 0..<x.count { squares += (Double(x.pointer[i]) - mean) * (Double(x.pointer[i]) - mean) }
        let variance = squares / Double(x.count)
        _ = try run(bn, x, training: true)
        let unbiased = variance * Double(x.count) / Double(x.count - 1)
        XCTAssertEqual(Double(bn.runningVar.value.scalars[0]), 0.9 + 0.1 * unbiased, accuracy: 1e-5)
        XCTAssertEqual(Double(bn.runningMean.value.scalars[0]), 0.1 * mean, accuracy: 1e-3)
    }

    /// Training forward and backward, evaluation with and without a backward pass: bit for bit the
    /// portable path's on every path, on rows with a vector part and a tail (7 x 9 = 63).
    func testEveryPathGivesThePortableResults() throws {
        let paths = BatchNorm.availablePaths
        if paths.count == 1 { print("batch norm: only the portable path runs on this CPU (or under COHORT_CPU)") }
        let saved = BatchNorm.path
        defer { BatchNorm.path = saved }
        var rng = RandomStream(seed: 4)
        let x = Tensor(zeros: [3, 4, 7, 9])
        rng.fillUniform(x, -2, 3)
        let seed = Tensor(zeros: x.shape)
        rng.fillUniform(seed, -1, 1)
        func onPath(_ path: cohort_norm_path) throws -> [[Float]] {
            BatchNorm.path = path
            let bn = BatchNorm(features: 4, spatial: true)
            for c in 0..<4 { bn.scale.value.pointer[c] = 0.5 + Float(c) * 0.25; bn.shift.value.pointer[c] = Float(c) - 1 }
            var results: [[Float]] = []
            for training in [true, false] {
                let r = try self.run(bn, x, training: training, seed: seed)
                results += [r.y, r.gx, bn.scale.variable.grad!.scalars, bn.shift.variable.grad!.scalars,
                            bn.runningMean.value.scalars, bn.runningVar.value.scalars]
                bn.scale.variable.grad!.fill(0); bn.shift.variable.grad!.fill(0)
            }
            results.append(try self.run(bn, x, training: false, recording: false).y)  // inference: no x-hat
            return results
        }
        let portable = try onPath(COHORT_NORM_PORTABLE)
        for path in paths {
            let r = try onPath(path)
            XCTAssertEqual(r.count, portable.count)
            for (a, b) in zip(r, portable) {
                XCTAssertTrue(a.contains { $0 != 0 })
                XCTAssertEqual(a.map(\.bitPattern), b.map(\.bitPattern), String(cString: cohort_norm_path_name(path)))
            }
        }
    }
}
