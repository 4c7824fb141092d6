import XCTest
import Cohort
import CohortFormats
import CohortNN
import CohortTrain
@testable import CohortDistill

final class CompressionTests: XCTestCase {
    func testInt8RoundTripIsWithinHalfAScalePerChannel() {
        var r = RandomStream(seed: 1)
        let rows = 7, cols = 33
        let w = Tensor(zeros: [rows, cols])
        for i in 0..<w.count { w.pointer[i] = r.normal() * Float(1 + i / cols) }  // rows of different ranges
        for j in 0..<cols { w.pointer[3 * cols + j] = 0 }  // an all-zero row
        w.pointer[5] = 0
        let (q, scales) = Int8Quantization.quantize(w.pointer, rows: rows, columns: cols)
        let back = Tensor(zeros: [rows, cols])
        Int8Quantization.dequantize(q, scales: scales, rows: rows, columns: cols, into: back.pointer)
        for rIndex in 0..<rows {
            var largest: Float = 0
            for j in 0..<cols { largest = max(largest, abs(w.pointer[rIndex * cols + j])) }
            if largest > 0 { XCTAssertEqual(scales[rIndex], largest / 127, accuracy: 1e-7 * largest) }
            for j in 0..<cols {
                let i = rIndex * cols + j
                XCTAssertLessThanOrEqual(abs(back.pointer[i] - w.pointer[i]), scales[rIndex] / 2 * 1.0001, "row \(rIndex) col \(j)")
            }
            // The largest magnitude of each row is exactly +-127 steps: the full int8 range is used.
            if largest > 0 { XCTAssertEqual(q[rIndex * cols..<(rIndex + 1) * cols].map { abs(Int($0)) }.max(), 127) }
        }
        XCTAssertEqual(back.pointer[5], 0)
        XCTAssertTrue((0..<cols).allSatisfy { back.pointer[3 * cols + $0] == 0 })
    }

    /// A small model with weights and non-zero biases (no optimizer: compression only reads and writes weights).
    func session() throws -> Model {
        let s = try Model(network: Sequential([Flatten(), Linear(12, 8), Activation(.relu), Linear(8, 3)]), inputShape: [3, 4])
        s.initialize(rng: RandomStream(seed: 9))
        for e in s.parameters.entries where !e.decays {  // non-zero biases, to see they are kept
            for i in 0..<e.count { s.parameters.values.pointer[e.offset + i] = 0.1 * Float(i + 1) }
        }
        return s
    }

    func testQuantisedExportLoadsBackWithinTheBound() throws {
        let s = try session()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cohort-q-\(UUID().uuidString).safetensors")
        let written = try ModelExport.save(s, configYAML: "x", to: dir, quantize: true)
        let file = try Safetensors.read(from: dir)
        XCTAssertEqual(file.tensors["1.weight"]?.dtype, .i8)
        XCTAssertEqual(file.tensors["1.weight.scale"]?.shape, [8])
        XCTAssertEqual(file.tensors["1.bias"]?.dtype, .f32)
        XCTAssertEqual(written.weightBytes, 12 * 8 + 8 * 3 + 4 * (8 + 3))
        let copy = try session()
        copy.parameters.values.zero()
        try copy.load(file)
        for e in s.parameters.entries {
            let scales: [Float]? = e.decays ? try file.tensor(e.path + ".scale").values() : nil
            for i in 0..<e.count {
                let a = s.parameters.values.pointer[e.offset + i], b = copy.parameters.values.pointer[e.offset + i]
                if let scales { XCTAssertLessThanOrEqual(abs(a - b), scales[i / (e.count / e.shape[0])] / 2 * 1.0001) }
                else { XCTAssertEqual(a, b) }
            }
        }
        // Scales missing or not positive: one line naming the file and the tensor.
        var tensors = file.tensors
        tensors["1.weight.scale"] = nil
        let broken = dir.deletingPathExtension().appendingPathExtension("broken.safetensors")
        try Safetensors.write(tensors, metadata: file.metadata, to: broken)
        XCTAssertThrowsError(try copy.load(try Safetensors.read(from: broken))) {
            XCTAssertTrue("\($0)".contains("1.weight.scale"), "\($0)")
        }
    }

    func testGlobalPruningRemovesTheSmallestWeightsAndKeepsThemPruned() throws {
        let s = try session()
        let pruner = MagnitudePruner(arena: s.parameters)
        XCTAssertEqual(pruner.prunableCount, 12 * 8 + 8 * 3)
        let magnitudes = pruner.weights.flatMap { e in (0..<e.count).map { abs(s.parameters.values.pointer[e.offset + $0]) } }.sorted()
        pruner.prune(to: 0.5, global: true)
        XCTAssertEqual(pruner.sparsity, 0.5, accuracy: 1e-9)
        let threshold = magnitudes[magnitudes.count / 2 - 1]
        for e in pruner.weights {
            for i in 0..<e.count {
                let v = s.parameters.values.pointer[e.offset + i]
                if v != 0 { XCTAssertGreaterThanOrEqual(abs(v), threshold) }
            }
        }
        // Biases are never pruned.
        for e in s.parameters.entries where !e.decays { XCTAssertNotEqual(s.parameters.values.pointer[e.offset], 0) }
        // An update moves pruned weights; apply() zeroes them again, and the next round only adds to the mask.
        let before = pruner.masks
        for i in 0..<s.parameters.count { s.parameters.values.pointer[i] += 0.5 }
        pruner.apply()
        pruner.prune(to: 0.75, global: true)
        XCTAssertEqual(pruner.sparsity, 0.75, accuracy: 0.01)
        for (a, b) in zip(before, pruner.masks) { for (x, y) in zip(a, b) where x == 0 { XCTAssertEqual(y, 0) } }
    }

    func testLayerScopePrunesEveryLayerToTheTarget() throws {
        let s = try session()
        let pruner = MagnitudePruner(arena: s.parameters)
        pruner.prune(to: 0.8, global: false)
        for (e, mask) in zip(pruner.weights, pruner.masks) {
            let zeros = mask.filter { $0 == 0 }.count
            XCTAssertEqual(zeros, Int(0.8 * Double(e.count)), e.path)
        }
    }

    /// In a residual network the 1x1 projection is a weight like any other (pruned, stored as int8
    /// with its scales); LayerNorm's scale [C, H, W] has rank >= 2 but takes no decay: never touched.
    func testResidualProjectionsArePrunedAndQuantisedAndLayerNormIsNot() throws {
        let spec = ModelSpec(layers: [
            LayerSpec(.conv2d(out: 3, kernel: 3, padding: 1)),
            LayerSpec(.residual(layers: [LayerSpec(.conv2d(out: 6, kernel: 3, stride: 2, padding: 1))])),
            LayerSpec(.layernorm()), LayerSpec(.globalavgpool), LayerSpec(.linear(out: 2)),
        ])
        let model = try Model(spec: spec, inputShape: [1, 6, 6])
        model.initialize(rng: RandomStream(seed: 3))
        let pruner = MagnitudePruner(arena: model.parameters)
        XCTAssertEqual(pruner.weights.map(\.path), ["0.weight", "1.layers.0.weight", "1.projection.weight", "4.weight"])
        pruner.prune(to: 0.5, global: false)
        for (e, mask) in zip(pruner.weights, pruner.masks) { XCTAssertEqual(mask.filter { $0 == 0 }.count, e.count / 2, e.path) }
        XCTAssertFalse(model.parameters.values.scalars[model.parameters.entry("2.weight")!.offset...].prefix(6 * 3 * 3).contains(0))

        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cohort-resnet-q-\(UUID().uuidString).safetensors")
        _ = try ModelExport.save(model, configYAML: "x", to: url, quantize: true)
        let file = try Safetensors.read(from: url)
        XCTAssertEqual(file.tensors["1.projection.weight"]?.dtype, .i8)
        XCTAssertEqual(file.tensors["1.projection.weight.scale"]?.shape, [6])
        XCTAssertEqual(file.tensors["2.weight"]?.dtype, .f32)
        let copy = try Model(spec: spec, inputShape: [1, 6, 6])
        try copy.load(file)
        let e = model.parameters.entry("1.projection.weight")!
        let scales: [Float] = try file.tensor("1.projection.weight.scale").values()
        for i in 0..<e.count {
            let a = model.parameters.values.pointer[e.offset + i], b = copy.parameters.values.pointer[e.offset + i]
            XCTAssertLessThanOrEqual(abs(a - b), scales[i / 3] / 2 * 1.0001)  // 3 inputs per output channel
        }
    }

    func testCubicScheduleEndsAtTheTarget() {
        XCTAssertEqual(MagnitudePruner.sparsity(round: 4, of: 4, final: 0.8), 0.8, accuracy: 1e-6)
        XCTAssertEqual(MagnitudePruner.sparsity(round: 1, of: 4, final: 0.8), 0.8 * (1 - 0.421875), accuracy: 1e-6)
        let steps = (1...4).map { MagnitudePruner.sparsity(round: $0, of: 4, final: 0.8) }
        XCTAssertEqual(steps, steps.sorted())
    }
}

