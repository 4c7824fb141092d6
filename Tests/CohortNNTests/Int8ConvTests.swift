import CInt8
import XCTest
import Cohort
@testable import CohortNN

/// Int8 convolutions: against the formula computed by hand in integers, on every kernel path, and
/// for every batch (an image's output does not depend on the other images).
final class Int8ConvTests: XCTestCase {
    /// The shapes: padding, stride, a 1x1 and a non-square kernel, one and several input channels.
    static let shapes: [(channels: Int, out: Int, size: (Int, Int), kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int))] = [
        (1, 8, (28, 28), (3, 3), (1, 1), (0, 0)),
        (3, 5, (9, 7), (3, 3), (1, 1), (1, 1)),
        (4, 6, (8, 8), (3, 3), (2, 2), (1, 1)),
        (5, 3, (6, 5), (1, 1), (1, 1), (0, 0)),
        (2, 7, (7, 9), (3, 1), (1, 2), (1, 0)),
        (16, 32, (13, 13), (3, 3), (1, 1), (0, 0)),
    ]

    /// A convolution of uniform random weights in +-0.3 and biases in +-0.5, quantised, and a batch
    /// of images with ranges of their own (one all zeros, one all negative).
    func layer(_ s: (channels: Int, out: Int, size: (Int, Int), kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int)),
               batch: Int, _ rng: inout RandomStream) -> (Conv2d, [Int8], [Float], Tensor) {
        let conv = Conv2d(s.channels, s.out, kernel: s.kernel, stride: s.stride, padding: s.padding)
        rng.fillUniform(conv.weight.value, -0.3, 0.3)
        rng.fillUniform(conv.bias!.value, -0.5, 0.5)
        let per = conv.weight.value.count / s.out
        let (q, scales) = Int8Quantization.quantize(conv.weight.value.pointer, rows: s.out, columns: per)
        let x = Tensor(zeros: [batch, s.channels, s.size.0, s.size.1])
        rng.fillUniform(x, -1, 3)
        let image = x.count / batch
        for b in 0..<batch { for i in 0..<image { x.pointer[b * image + i] *= Float(b + 1) } }
        if batch > 2 { for i in 0..<image { x.pointer[image + i] = 0; x.pointer[2 * image + i] = -abs(x.pointer[2 * image + i]) } }
        return (conv, q, scales, x)
    }

    func int8Outputs(_ conv: Conv2d, _ q: [Int8], _ scales: [Float], _ x: Tensor, path: cohort_int8_path = Int8Weights.defaultPath,
                     backend: Int8Backend = .cohort) throws -> [Float] {
        Int8Weights.backendOverride = backend
        defer { Int8Weights.backendOverride = nil }
        conv.int8 = Int8Weights(values: q, scales: scales, outFeatures: conv.outChannels, inFeatures: q.count / conv.outChannels, path: path)
        let tape = Tape(recording: false)
        tape.reset()
        return try conv.forward(Var(x), ForwardContext(tape: tape, training: false)).value.scalars
    }

    /// Each image to uint8 by its own range (ONNX's rule, as for an int8 Linear row), then per
    /// output pixel sum (q - zero point) x w over the kernel's positions inside the image (the
    /// padding is the quantised 0), in Int32, times image scale x weight scale, plus the bias.
    func testInt8ConvolutionFollowsTheFormula() throws {
        var rng = RandomStream(seed: 11)
        for s in Self.shapes {
            let batch = 3
            let (conv, q, scales, x) = layer(s, batch: batch, &rng)
            let y = try int8Outputs(conv, q, scales, x)
            let g = try ConvGeometry(channels: s.channels, height: s.size.0, width: s.size.1, kernel: s.kernel, stride: s.stride, padding: s.padding)
            let (H, W, C, kh, kw) = (s.size.0, s.size.1, s.channels, s.kernel.0, s.kernel.1)
            let image = C * H * W, values = x.scalars, bias = conv.bias!.value.scalars
            var wrong = 0
            for b in 0..<batch {
                let sample = values[(b * image)..<((b + 1) * image)]
                let lo = min(sample.min()!, 0), hi = max(sample.max()!, 0)
                var scale = (hi - lo) / 255
                if scale == 0 { scale = 1 }
                let zero = Float(max(0, min(255, (-lo / scale).rounded(.toNearestOrEven))))
                let qx = sample.map { Int32(max(0, min(255, ($0 / scale).rounded(.toNearestOrEven) + zero))) - Int32(zero) }
                for o in 0..<s.out {
                    for oy in 0..<g.outH {
                        for ox in 0..<g.outW {
                            var acc: Int32 = 0
                            for c in 0..<C {
                                for ky in 0..<kh {
                                    for kx in 0..<kw {
                                        let iy = oy * s.stride.0 - s.padding.0 + ky, ix = ox * s.stride.1 - s.padding.1 + kx
                                        guard iy >= 0, iy < H, ix >= 0, ix < W else { continue }
                                        acc += qx[(c * H + iy) * W + ix] * Int32(q[((o * C + c) * kh + ky) * kw + kx])
                                    }
                                }
                            }
                            let expected = Float(acc) * (scale * scales[o]) + bias[o]
                            if y[((b * s.out + o) * g.outH + oy) * g.outW + ox] != expected { wrong += 1 }
                        }
                    }
                }
            }
            XCTAssertEqual(wrong, 0, "outputs that differ from the formula, \(conv.summary) on \(s.size)")
            // And near the float convolution: quantisation error only.
            let tape = Tape(recording: false)
            tape.reset()
            conv.int8 = nil
            let float = try conv.forward(Var(x), ForwardContext(tape: tape, training: false)).value.scalars
            let largest = float.map(abs).max()!
            XCTAssertLessThan(zip(y, float).map { abs($0 - $1) }.max()!, 0.05 * largest, "int8 against float, \(conv.summary)")
        }
    }

    /// Every int8 path this CPU runs gives the portable loop's outputs, and an image alone gives
    /// what it gives in its batch.
    func testEveryPathAndEveryBatchGiveTheSameOutputs() throws {
        var rng = RandomStream(seed: 12)
        let paths = Int8Weights.availablePaths
        let missing = Int8Weights.allPaths.filter { !paths.contains($0) }
        if !missing.isEmpty { print("int8 paths not run on this CPU (or above COHORT_CPU): \(missing.map(Int8Weights.name(of:)))") }
        for s in Self.shapes {
            let batch = 4
            let (conv, q, scales, x) = layer(s, batch: batch, &rng)
            let portable = try int8Outputs(conv, q, scales, x, path: COHORT_INT8_PORTABLE)
            for path in paths {
                XCTAssertEqual(try int8Outputs(conv, q, scales, x, path: path), portable, "\(Int8Weights.name(of: path)), \(conv.summary)")
            }
            let image = x.count / batch, outputs = portable.count / batch
            for b in 0..<batch {
                let one = Tensor(zeros: [1] + Array(x.shape.dropFirst()))
                one.pointer.update(from: x.pointer + b * image, count: image)
                XCTAssertEqual(try int8Outputs(conv, q, scales, one), Array(portable[(b * outputs)..<((b + 1) * outputs)]),
                               "image \(b) alone, \(conv.summary)")
            }
        }
    }

    /// oneDNN's int8 product (where it is exact: VNNI) gives Cohort's outputs.
    func testOneDNNGivesCohortsOutputs() throws {
        try XCTSkipUnless(Int8Weights.oneDNNAvailable, "oneDNN's int8 products are exact only with VNNI, which this CPU (or COHORT_CPU) lacks")
        var rng = RandomStream(seed: 13)
        for s in Self.shapes {
            let (conv, q, scales, x) = layer(s, batch: 3, &rng)
            XCTAssertEqual(try int8Outputs(conv, q, scales, x, backend: .oneDNN), try int8Outputs(conv, q, scales, x), conv.summary)
        }
    }

    /// In a network, an int8 convolution with the ReLU, or ReLU and 2x2 max pooling, after it runs
    /// as one layer (`Conv2d.fusedInt8Forward`): the separate layers' outputs bit for bit, on every
    /// path and backend, with odd sizes (the pooling drops the last row and column) and negatives.
    func testFusedReLUAndPoolingGiveTheSeparateLayersOutputs() throws {
        var rng = RandomStream(seed: 14)
        let backends: [Int8Backend] = Int8Weights.oneDNNAvailable ? [.cohort, .oneDNN] : [.cohort]
        for s in Self.shapes {
            let (conv, q, scales, x) = layer(s, batch: 3, &rng)
            let relu = Activation(.relu), pool = Pool2d(.max, window: (2, 2))
            for path in Int8Weights.availablePaths {
                for backend in backends {
                    Int8Weights.backendOverride = backend
                    defer { Int8Weights.backendOverride = nil }
                    conv.int8 = Int8Weights(values: q, scales: scales, outFeatures: conv.outChannels, inFeatures: q.count / conv.outChannels, path: path)
                    let tape = Tape(recording: false)
                    let ctx = ForwardContext(tape: tape, training: false)
                    tape.reset()
                    let alone = try relu.forward(try conv.forward(Var(x), ctx), ctx)
                    let separate = (alone.value.scalars, try pool.forward(alone, ctx).value.scalars)
                    XCTAssertTrue(separate.0.contains { $0 == 0 } && separate.0.contains { $0 > 0 }, "the ReLU must clip something, \(conv.summary)")
                    tape.reset()
                    let withReLU = try Sequential([conv, relu]).forward(Var(x), ctx).value.scalars
                    tape.reset()
                    let withPool = try Sequential([conv, relu, pool]).forward(Var(x), ctx).value.scalars
                    let what = "\(conv.summary), \(Int8Weights.name(of: path)), \(backend)"
                    // Counted, not listed: a failure would print every output otherwise.
                    XCTAssertEqual(withReLU.count, separate.0.count, what)
                    XCTAssertEqual(zip(withReLU, separate.0).filter { $0.bitPattern != $1.bitPattern }.count, 0, "conv + ReLU, outputs that differ, " + what)
                    XCTAssertEqual(withPool.count, separate.1.count, what)
                    XCTAssertEqual(zip(withPool, separate.1).filter { $0.bitPattern != $1.bitPattern }.count, 0, "conv + ReLU + max pool, outputs that differ, " + what)
                }
            }
        }
    }

    /// An image in nhwc with its border (oneDNN's input): every byte where the formula puts it, for
    /// channel counts in and out of the 16 x 16 blocks, one channel, and several paddings.
    func testPaddedNHWCImagesHoldEveryByte() {
        for (C, H, W, pad) in [(20, 5, 7, 1), (32, 13, 13, 0), (1, 6, 5, 2), (3, 4, 4, 1), (16, 2, 9, 2)] {
            let image = (0..<(C * H * W)).map { UInt8(truncatingIfNeeded: $0 * 7 + 3) }
            let (Hp, Wp) = (H + 2 * pad, W + 2 * pad)
            var out = [UInt8](repeating: 1, count: Hp * Wp * C)
            cohort_int8_pad_nhwc(image, Int32(C), Int32(H), Int32(W), Int32(pad), Int32(pad), 250, &out)
            var wrong = 0
            for y in 0..<Hp {
                for x in 0..<Wp {
                    for c in 0..<C {
                        let (iy, ix) = (y - pad, x - pad)
                        let expected = iy >= 0 && iy < H && ix >= 0 && ix < W ? image[(c * H + iy) * W + ix] : 250
                        if out[(y * Wp + x) * C + c] != expected { wrong += 1 }
                    }
                }
            }
            XCTAssertEqual(wrong, 0, "bytes out of place, \(C) channels, \(H)x\(W), padding \(pad)")
        }
    }

    /// The patch rows of one image: the bytes under the kernel, the zero point over the padding,
    /// zeros after the patch.
    func testPatchRowsHoldTheKernelsBytes() {
        let (C, H, W) = (2, 3, 4)
        let slack = Int(COHORT_INT8_CONV_SLACK)
        let image = (0..<(C * H * W)).map { UInt8($0 + 1) } + [UInt8](repeating: 0, count: slack)
        let ldr = 20  // 2 x 3 x 3 = 18 bytes, padded to 20
        var rows = [UInt8](repeating: 99, count: H * W * ldr + slack)
        cohort_int8_im2row(image, Int32(C), Int32(H), Int32(W), 3, 3, 1, 1, 1, 1, 7, &rows, ldr)
        // Output pixel (0, 0): the kernel's top row and left column lie over the padding.
        let first = Array(rows[0..<ldr])
        XCTAssertEqual(first, [7, 7, 7, 7, 1, 2, 7, 5, 6, 7, 7, 7, 7, 13, 14, 7, 17, 18, 0, 0])
        // Output pixel (1, 2): all inside.
        let p = 1 * W + 2
        XCTAssertEqual(Array(rows[(p * ldr)..<(p * ldr + 9)]), [2, 3, 4, 6, 7, 8, 10, 11, 12])
    }
}
