import XCTest
import Cohort
@testable import CohortNN

/// oneDNN's convolution against im2col (the reference) on every convolution of the shipped configs,
/// at their batch of 64: the output and the gradients of the input, weight and bias agree to
/// `tolerance(_:)` of each tensor's largest value. The gradients start non-zero, so a path that
/// overwrote instead of adding (+=) would fail.
final class ConvPathTests: XCTestCase {
    struct Shape {
        let name: String, inC: Int, outC: Int, size: Int, kernel: Int, stride: Int, padding: Int, bias: Bool
    }

    /// configs/bench-cnn.yaml and fashion-cnn.yaml (the same two convolutions), configs/fashion-resnet.yaml
    /// (its body convolutions and the 1x1 stride-2 projections `projection: auto` makes).
    static let shipped = [
        Shape(name: "cnn conv 1", inC: 1, outC: 32, size: 28, kernel: 3, stride: 1, padding: 0, bias: true),
        Shape(name: "cnn conv 2", inC: 32, outC: 64, size: 13, kernel: 3, stride: 1, padding: 0, bias: true),
        Shape(name: "resnet stem", inC: 1, outC: 32, size: 28, kernel: 3, stride: 1, padding: 1, bias: false),
        Shape(name: "resnet block 1", inC: 32, outC: 32, size: 14, kernel: 3, stride: 1, padding: 1, bias: false),
        Shape(name: "resnet block 2, stride 2", inC: 32, outC: 64, size: 14, kernel: 3, stride: 2, padding: 1, bias: false),
        Shape(name: "resnet projection 2", inC: 32, outC: 64, size: 14, kernel: 1, stride: 2, padding: 0, bias: false),
        Shape(name: "resnet block 2", inC: 64, outC: 64, size: 7, kernel: 3, stride: 1, padding: 1, bias: false),
        Shape(name: "resnet block 3, stride 2", inC: 64, outC: 128, size: 7, kernel: 3, stride: 2, padding: 1, bias: false),
        Shape(name: "resnet projection 3", inC: 64, outC: 128, size: 7, kernel: 1, stride: 2, padding: 0, bias: false),
        Shape(name: "resnet block 3", inC: 128, outC: 128, size: 4, kernel: 3, stride: 1, padding: 1, bias: false),
    ]

    /// Both paths sum the same fp32 products in different orders, so they differ by rounding, which
    /// grows with the terms per sum: up to 1,152 per output and input-gradient element (measured
    /// worst 1.5e-6 of the tensor's largest value over these shapes), 50,176 per weight-gradient
    /// element (worst 7.8e-6; a random walk of 50,176 roundings of 2^-24 is 1.3e-5). A wrong index,
    /// a lost term or an overwritten gradient is off by 1e-2 or more.
    static let tolerance: Float = 1e-5
    static let weightGradientTolerance: Float = 3e-5

    static func tolerance(_ what: String) -> Float { what == "weight gradient" ? weightGradientTolerance : tolerance }

    struct Run { let y: Tensor, dx: Tensor, dw: Tensor, db: Tensor? }

    func run(_ s: Shape, _ path: ConvolutionPath, batch: Int = 64) throws -> Run {
        var rng = RandomStream(seed: 11)
        let layer = Conv2d(s.inC, s.outC, kernel: (s.kernel, s.kernel), stride: (s.stride, s.stride),
                           padding: (s.padding, s.padding), bias: s.bias)
        for (_, p) in layer.namedParameters() {
            rng.fillUniform(p.value, -0.5, 0.5)
            p.variable.grad!.fill(0.25)
        }
        let input = Tensor(zeros: [batch, s.inC, s.size, s.size])
        rng.fillUniform(input, -1, 1)
        let x = Var(input, requiresGrad: true)
        x.grad!.fill(0.25)
        let tape = Tape()
        tape.reset()
        let ctx = ForwardContext(tape: tape, training: true)
        ctx.convolution = path
        // im2col's products on OpenBLAS, so that only the oneDNN path executes oneDNN primitives.
        GEMM.fp32Override = .openBLAS
        defer { GEMM.fp32Override = nil }
        let executions = DNNL.shared?.executions ?? 0
        let y = try layer.forward(x, ctx)
        let seed = Tensor(zeros: y.shape)
        rng.fillUniform(seed, -1, 1)
        try tape.backward(y, seed: seed)
        let geometry = try layer.geometry(input.shape)
        let winograd = path == .cohortWinograd && WinogradConvolution.pays(geometry)
        let ranOneDNN = (DNNL.shared?.executions ?? 0) > executions
        XCTAssertEqual(ranOneDNN, path.usesOneDNN && !winograd, "\(s.name): the path asked for, \(path.rawValue), ran")
        return Run(y: y.value.copy(), dx: x.grad!.copy(), dw: layer.weight.variable.grad!.copy(), db: layer.bias?.variable.grad!.copy())
    }

    static func relativeError(_ a: Tensor, _ b: Tensor) -> Float {
        var worst: Float = 0, scale: Float = 0
        for i in 0..<b.count {
            worst = max(worst, abs(a.pointer[i] - b.pointer[i]))
            scale = max(scale, abs(b.pointer[i]))
        }
        return worst / max(scale, .leastNormalMagnitude)
    }

    func testOneDNNMatchesIm2colOnEveryShippedConvolution() throws {
        try XCTSkipIf(DNNL.shared == nil, "oneDNN has no CPU engine here")
        for s in Self.shipped {
            let reference = try run(s, .im2col), onednn = try run(s, .oneDNN)
            var pairs = [("output", onednn.y, reference.y), ("input gradient", onednn.dx, reference.dx), ("weight gradient", onednn.dw, reference.dw)]
            if let a = onednn.db, let b = reference.db { pairs.append(("bias gradient", a, b)) }
            for (what, a, b) in pairs {
                XCTAssertEqual(a.shape, b.shape, "\(s.name) \(what)")
                XCTAssertLessThan(Self.relativeError(a, b), Self.tolerance(what), "\(s.name) \(what)")
            }
        }
    }

    /// Winograd where oneDNN has it (AVX-512): the 3x3 stride-1 layers in blocks of 16 channels run
    /// it, the rest stay direct, and every shipped convolution still matches im2col to the same
    /// tolerances (measured worst on a Zen 4: 2.2e-6 of the largest value, output of resnet block 3).
    func testWinogradMatchesIm2colOnEveryShippedConvolution() throws {
        guard let dnnl = DNNL.shared, ConvolutionPath.available.contains(.winograd) else {
            throw XCTSkip("needs AVX-512: oneDNN 2.6 has Winograd convolutions only there (isa \(DNNL.isa))")
        }
        for s in Self.shipped {
            let layer = Conv2d(s.inC, s.outC, kernel: (s.kernel, s.kernel), stride: (s.stride, s.stride), padding: (s.padding, s.padding), bias: s.bias)
            let conv = try DNNLConvolution(dnnl: dnnl, batch: 64, geometry: try layer.geometry([64, s.inC, s.size, s.size]),
                                           outChannels: s.outC, bias: s.bias, training: true, winograd: true)
            XCTAssertEqual(conv.usesWinograd, s.kernel == 3 && s.stride == 1 && s.inC % 16 == 0, "\(s.name): \(conv.implementation)")
            XCTAssertEqual(conv.usesWinograd, conv.implementation.contains("wino"), "\(s.name): \(conv.implementation)")
            let reference = try run(s, .im2col), winograd = try run(s, .winograd)
            var pairs = [("output", winograd.y, reference.y), ("input gradient", winograd.dx, reference.dx), ("weight gradient", winograd.dw, reference.dw)]
            if let a = winograd.db, let b = reference.db { pairs.append(("bias gradient", a, b)) }
            for (what, a, b) in pairs {
                XCTAssertLessThan(Self.relativeError(a, b), Self.tolerance(what), "\(s.name) \(what)")
            }
        }
    }

    /// Cohort's Winograd F(4x4, 3x3): the 3x3 stride-1 layers run it (on the transforms' fastest
    /// path here), the rest stay direct, and every shipped convolution matches im2col. Winograd's
    /// transforms add rounding (their coefficients reach 8 and 1/24, and a tile's 36 terms mix
    /// inputs of both signs), so the tolerances are 3x the direct paths'.
    func testCohortWinogradMatchesIm2colOnEveryShippedConvolution() throws {
        for s in Self.shipped {
            let reference = try run(s, .im2col), winograd = try run(s, .cohortWinograd)
            var pairs = [("output", winograd.y, reference.y), ("input gradient", winograd.dx, reference.dx), ("weight gradient", winograd.dw, reference.dw)]
            if let a = winograd.db, let b = reference.db { pairs.append(("bias gradient", a, b)) }
            for (what, a, b) in pairs {
                let error = Self.relativeError(a, b)
                print("\(s.name) \(what): cohort-winograd within \(error) of im2col")
                XCTAssertLessThan(error, 3 * Self.tolerance(what), "\(s.name) \(what)")
            }
        }
    }

    /// The transforms' vector path (AVX2) gives the portable C loops' results bit for bit, through
    /// the same products, on the shipped 3x3 stride-1 shapes.
    func testCohortWinogradVectorPathMatchesPortable() throws {
        let best = try WinogradConvolution(batch: 1, geometry: try ConvGeometry(channels: 8, height: 6, width: 6, kernel: (3, 3), padding: (1, 1)), outChannels: 8)
        try XCTSkipIf(best.path == "portable", "the transforms' only vector path needs AVX2 (COHORT_CPU=\(CPU.cap))")
        for s in Self.shipped where s.kernel == 3 && s.stride == 1 {
            let g = try ConvGeometry(channels: s.inC, height: s.size, width: s.size, kernel: (3, 3), padding: (s.padding, s.padding))
            var results: [[Tensor]] = []
            for portable in [true, false] {
                var rng = RandomStream(seed: 5)
                let x = Tensor(zeros: [8, s.inC, s.size, s.size]), w = Tensor(zeros: [s.outC, s.inC, 3, 3]), b = Tensor(zeros: [s.outC])
                let y = Tensor(zeros: [8, s.outC, g.outH, g.outW]), dy = Tensor(zeros: y.shape)
                for t in [x, w, b, dy] { rng.fillUniform(t, -1, 1) }
                let dx = Tensor(zeros: x.shape), dw = Tensor(zeros: w.shape), db = Tensor(zeros: b.shape)
                let conv = try WinogradConvolution(batch: 8, geometry: g, outChannels: s.outC, portable: portable)
                XCTAssertEqual(conv.path == "portable", portable, s.name)
                try conv.prepareBackward(data: true, weights: true)
                conv.forward(x: x.pointer, weight: w.pointer, bias: b.pointer, y: y.pointer)
                conv.backward(x: x.pointer, weight: w.pointer, dy: dy.pointer, dx: dx.pointer, dweight: dw.pointer, dbias: db.pointer)
                results.append([y, dx, dw, db])
            }
            for (what, (a, b)) in zip(["output", "input gradient", "weight gradient", "bias gradient"], zip(results[0], results[1])) {
                XCTAssertEqual(Array(UnsafeBufferPointer(start: a.pointer, count: a.count)), Array(UnsafeBufferPointer(start: b.pointer, count: b.count)),
                               "\(s.name) \(what): \(best.path) against portable")
            }
        }
    }

    /// No shipped convolution's weight gradient runs oneDNN's gemm fallback (5.4 GFLOP/s on the cnn's
    /// 1-channel first layer on AVX2): there it is Cohort's im2col + sgemm, which the test above
    /// compares with the im2col path.
    func testNoWeightGradientRunsOneDNNsGemmConvolution() throws {
        guard let dnnl = DNNL.shared else { throw XCTSkip("oneDNN has no CPU engine here") }
        for s in Self.shipped {
            let layer = Conv2d(s.inC, s.outC, kernel: (s.kernel, s.kernel), stride: (s.stride, s.stride), padding: (s.padding, s.padding), bias: s.bias)
            let conv = try DNNLConvolution(dnnl: dnnl, batch: 64, geometry: try layer.geometry([64, s.inC, s.size, s.size]),
                                           outChannels: s.outC, bias: s.bias, training: true)
            try conv.prepareBackward(data: false, weights: true)
            let implementation = try XCTUnwrap(conv.weightGradientImplementation, s.name)
            print("\(s.name): weight gradient by \(implementation)")
            XCTAssertTrue(implementation == "im2col+sgemm" || !implementation.contains("gemm"), "\(s.name): \(implementation)")
        }
    }

    /// A convolution whose input rows are partly never read (floor division of the output size, so
    /// oneDNN's right padding is negative), with channels that fill no whole 8- or 16-channel block.
    func testOddShapesMatch() throws {
        try XCTSkipIf(DNNL.shared == nil, "oneDNN has no CPU engine here")
        for s in [Shape(name: "7x7, 2x2 stride 2", inC: 3, outC: 5, size: 7, kernel: 2, stride: 2, padding: 0, bias: true),
                  Shape(name: "9 -> 12, 5x5, stride 3, pad 2", inC: 9, outC: 12, size: 10, kernel: 5, stride: 3, padding: 2, bias: true)] {
            let reference = try run(s, .im2col, batch: 3), onednn = try run(s, .oneDNN, batch: 3)
            for (what, a, b) in [("output", onednn.y, reference.y), ("input gradient", onednn.dx, reference.dx),
                                 ("weight gradient", onednn.dw, reference.dw), ("bias gradient", onednn.db!, reference.db!)] {
                XCTAssertLessThan(Self.relativeError(a, b), Self.tolerance(what), "\(s.name) \(what)")
            }
        }
    }

    /// The node is made once and reused: a second step on the same tape makes no new node, and sees
    /// a changed weight (its reorder is redone every forward).
    func testStepsReuseTheNodeAndSeeNewWeights() throws {
        try XCTSkipIf(DNNL.shared == nil, "oneDNN has no CPU engine here")
        let layer = Conv2d(4, 8, kernel: (3, 3), padding: (1, 1))
        var rng = RandomStream(seed: 3)
        let input = Tensor(zeros: [2, 4, 6, 6])
        rng.fillUniform(input, -1, 1)
        let tape = Tape(recording: false)
        let ctx = ForwardContext(tape: tape, training: false)
        ctx.convolution = .oneDNN
        tape.reset()
        let first = try layer.forward(Var(input), ctx)
        let before = first.value.copy()
        layer.weight.value.pointer[0] += 1
        tape.reset()
        let second = try layer.forward(Var(input), ctx)
        XCTAssertTrue(first === second, "the node (which owns its output) was made again")
        ctx.convolution = .im2col
        tape.reset()
        let reference = try layer.forward(Var(input), ctx)
        XCTAssertLessThan(Self.relativeError(second.value, reference.value), Self.tolerance)
        XCTAssertGreaterThan(Self.relativeError(before, reference.value), 1e-3)
    }
}
