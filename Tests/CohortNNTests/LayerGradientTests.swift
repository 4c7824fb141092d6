import CPooling
import XCTest
import Cohort
@testable import CohortNN

final class LayerGradientTests: XCTestCase {
    func testEveryLayerAndLossMatchesFiniteDifferences() throws {
        for check in LayerChecks.all() {
            let r = try check.run()
            XCTAssertLessThan(r.worstRelativeError, 1e-2, r.name)
        }
    }

    func testLogSoftmaxRowInPlace() throws {
        let x = try Tensor(shape: [1, 3], scalars: [1, 2, 3])
        let expected = try x.logSoftmax().scalars
        Softmax.row(x.pointer, x.pointer, 3, log: true)
        for (a, b) in zip(x.scalars, expected) { XCTAssertEqual(a, b, accuracy: 1e-6) }
    }

    func testCrossEntropyValueAndLabelErrors() throws {
        let t = Tape()
        t.reset()
        let logits = Var(try Tensor(shape: [2, 3], scalars: [0, 0, 0, 1, 2, 3]), requiresGrad: true)
        let loss = try t.softmaxCrossEntropy(logits, labels: [0, 2])
        let expected = (log(3.0) + (log(exp(1.0) + exp(2.0) + exp(3.0)) - 3)) / 2
        XCTAssertEqual(Double(loss.value.item), expected, accuracy: 1e-5)
        XCTAssertThrowsError(try t.softmaxCrossEntropy(logits, labels: [0, 3])) { error in
            XCTAssertEqual("\(error)", "softmaxCrossEntropy: label 3 outside 0..<3")
        }
        XCTAssertThrowsError(try t.softmaxCrossEntropy(logits, labels: [0]))
    }

    func testKLIsZeroForIdenticalDistributionsAndScalesWithTemperature() throws {
        let t = Tape()
        t.reset()
        let z = try Tensor(shape: [1, 3], scalars: [0.5, -1, 2])
        let p = Tensor(zeros: [1, 3])
        try Tape.softTargets(logits: z, temperature: 4, into: p)
        let s = Var(z.copy(), requiresGrad: true)
        let kl = try t.klDivergence(studentLogits: s, teacherProbabilities: p, temperature: 4)
        XCTAssertEqual(kl.value.item, 0, accuracy: 1e-6)
        try t.backward(kl)
        XCTAssertTrue(s.grad!.scalars.allSatisfy { abs($0) < 1e-6 })
    }

    func testArenaLaysOutAlignedViewsAndKeepsValues() throws {
        let model = Sequential([Linear(3, 5), Activation(.relu), Linear(5, 2)])
        model.layers.compactMap { $0 as? Linear }.first!.weight.value.fill(0.5)
        let named = model.namedParameters()
        XCTAssertEqual(named.map(\.0), ["0.weight", "0.bias", "2.weight", "2.bias"])
        let arena = ParameterArena(named)
        XCTAssertEqual(arena.parameterCount, 15 + 5 + 10 + 2)
        for e in arena.entries { XCTAssertEqual(e.offset % 16, 0, e.path) }
        XCTAssertEqual(named[0].1.value.scalars, [Float](repeating: 0.5, count: 15))
        XCTAssertEqual(named[0].1.value.pointer, arena.values.pointer)
        // The layer's gradient lands in the gradient arena of the same layout.
        let gradients = GradientArena(for: arena)
        let tape = Tape()
        tape.reset()
        let ctx = ForwardContext(tape: tape, training: true)
        let y = try model.forward(Var(Tensor(shape: [4, 3], repeating: 1)), ctx)
        try tape.backward(try tape.sum(y))
        let bias2 = arena.entry("2.bias")!
        XCTAssertEqual(gradients.values.pointer[bias2.offset], 4)
        XCTAssertEqual(arena.decayRanges.count, 2)
    }

    func testShapeErrorsNameTheLayer() {
        let model = Sequential([Flatten(), Linear(784, 10)])
        XCTAssertThrowsError(try model.outputShape(for: [8, 1, 28, 27])) { error in
            XCTAssertEqual("\(error)", "layers[1] Linear(784 -> 10): expects input [batch, 784], got [8, 756]")
        }
    }
}

/// bf16 products: autodiff in bf16 against finite differences of the fp32 function, each error
/// relative to its tensor's largest gradient (`LayerChecks.bf16Tolerance` says why).
final class BF16GradientTests: XCTestCase {
    var bf16: MatmulPrecision { CPUFeatures.avx512BF16 ? .bf16 : .bf16Emulated }

    func testLinearAndConvolutionGradientsInBF16() throws {
        for check in LayerChecks.products(precision: bf16) + LayerChecks.products(precision: .bf16Emulated) {
            let r = try check.run()
            XCTAssertLessThan(r.worstRelativeError, LayerChecks.bf16Tolerance, r.name)
        }
    }

    /// The checks really ran in bf16: the same check with an fp32 autodiff pass is two orders of
    /// magnitude closer, and the bf16 one is not.
    func testTheBF16PassIsBF16() throws {
        var fp32 = LayerChecks.products(precision: .fp32)[2], low = LayerChecks.products(precision: bf16)[2]
        fp32.tensorScaledFloor = true
        low.tensorScaledFloor = true
        let exact = try fp32.run().worstRelativeError, rounded = try low.run().worstRelativeError
        XCTAssertLessThan(exact, 1e-4)
        XCTAssertGreaterThan(rounded, 10 * exact)
    }
}

/// Max pooling in inference (no argmax kept) gives the training path's maxima, for overlapping,
/// strided and non-square windows, ties and NaN included.
final class MaxPoolInferenceTests: XCTestCase {
    func testInferenceGivesTheTrainingMaxima() throws {
        var rng = RandomStream(seed: 4)
        for (window, step, size) in [((2, 2), (2, 2), (9, 8)), ((3, 3), (2, 2), (7, 7)), ((3, 3), (1, 1), (5, 6)), ((2, 3), (1, 2), (6, 9))] {
            let pool = Pool2d(.max, window: window, stride: step)
            let x = Tensor(zeros: [2, 3, size.0, size.1])
            rng.fillUniform(x, -1, 1)
            for i in stride(from: 0, to: x.count, by: 7) { x.pointer[i] = x.pointer[i + 1] }  // ties
            x.pointer[5] = .nan
            let inference = Tape(recording: false), training = Tape()
            inference.reset(); training.reset()
            let a = try pool.forward(Var(x), ForwardContext(tape: inference, training: false)).value.scalars
            let b = try pool.forward(Var(x, requiresGrad: true), ForwardContext(tape: training, training: true)).value.scalars
            XCTAssertEqual(a.map(\.bitPattern), b.map(\.bitPattern), pool.summary)
        }
    }

    /// The layer gives the same maxima and gradients on every pooling path this CPU runs
    /// (the C test, Tests/CKernelTests/pooling_paths_test.c, compares the kernels on harder inputs).
    func testEveryPathGivesThePortableMaximaAndGradients() throws {
        let paths = Pool2d.availablePaths
        if paths.count == 1 { print("max pooling: only the portable path runs on this CPU (or under COHORT_CPU)") }
        var rng = RandomStream(seed: 6)
        let saved = Pool2d.path
        defer { Pool2d.path = saved }
        let pool = Pool2d(.max, window: (2, 2))
        let x = Tensor(zeros: [3, 4, 11, 13])
        rng.fillUniform(x, -1, 1)
        func run(_ path: cohort_pool_path) throws -> (y: [Float], gx: [Float]) {
            Pool2d.path = path
            let tape = Tape()
            tape.reset()
            let input = Var(x, requiresGrad: true)
            let y = try pool.forward(input, ForwardContext(tape: tape, training: true))
            let seed = Tensor(zeros: y.shape)
            for i in 0..<seed.count { seed.pointer[i] = Float(i % 7) - 3 }
            try tape.backward(y, seed: seed)
            return (y.value.scalars, input.grad!.scalars)
        }
        let portable = try run(COHORT_POOL_PORTABLE)
        for path in paths {
            let r = try run(path)
            XCTAssertEqual(r.y, portable.y, String(cString: cohort_pool_path_name(path)))
            XCTAssertEqual(r.gx, portable.gx, String(cString: cohort_pool_path_name(path)))
        }
    }
}
