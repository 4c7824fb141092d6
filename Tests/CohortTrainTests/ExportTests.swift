import XCTest
import Cohort
import CohortData
import CohortFormats
import CohortNN
@testable import CohortTrain

/// The model taken out: `cohort predict` on new inputs, `cohort export --onnx` run by onnxruntime,
/// and int8 models computed with integer products, on the Fashion-MNIST test set.
final class ExportTests: XCTestCase {
    static let images = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"

    /// onnxruntime runs the exported float model on the raw test images (ONNX does the
    /// normalisation) in batches of 256; prints the float logits' largest difference from Cohort's
    /// and the number of images (all, or the first argv[6]). Given an int8 graph and Cohort's int8 logits, it adds: the largest
    /// relative difference (the CSV holds 6 significant digits) of onnx's reference evaluator's
    /// logits on all the images at once (exact by construction: numpy int32 products, float ops
    /// as the spec defines them) from Cohort's, the share of their argmaxes that agree, and whether
    /// onnxruntime's int8 logits are finite and of the right shape. onnxruntime is not the int8
    /// reference: without VNNI its u8s8 kernel saturates 16-bit pair sums (vpmaddubsw).
    static let script = #"""
    import gzip, sys
    import numpy as np, onnx, onnxruntime as ort
    from onnx.reference import ReferenceEvaluator

    def run(path, x):
        onnx.checker.check_model(onnx.load(path), full_check=True)
        options = ort.SessionOptions(); options.intra_op_num_threads = 1
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        return np.concatenate([session.run(None, {"input": x[i:i + 256]})[0] for i in range(0, len(x), 256)])

    with gzip.open(sys.argv[1]) as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28).astype(np.float32)
    count = int(sys.argv[6]) if len(sys.argv) > 6 else len(x)
    x = x[:count]
    ours = np.loadtxt(sys.argv[3], delimiter=",", skiprows=1, usecols=range(1, 11))[:count]
    figures = [float(np.abs(run(sys.argv[2], x) - ours).max()), len(x)]
    if len(sys.argv) > 4:
        ours8 = np.loadtxt(sys.argv[5], delimiter=",", skiprows=1, usecols=range(1, 11))[:count]
        theirs8 = run(sys.argv[4], x)
        exact8 = ReferenceEvaluator(sys.argv[4]).run(None, {"input": x})[0]
        runs8 = theirs8.shape == exact8.shape and bool(np.isfinite(theirs8).all())
        relative = np.abs(exact8 - ours8) / np.maximum(np.abs(exact8), 1e-6)
        figures += [float(relative.max()), float((exact8.argmax(1) == ours8.argmax(1)).mean()), int(runs8)]
    print(*figures)
    """#

    override func setUpWithError() throws {
        try XCTSkipUnless(CLI.hasFashionMNIST, "Fashion-MNIST is not installed (launch/setup installs it)")
    }

    /// A small MLP (or the run `config` describes) trained for `steps` steps, and its int8 model from `cohort compress`.
    func trained(_ dir: URL, name: String = "mlp", config text: String? = nil, steps: Int = 200) throws -> (float: String, int8: String) {
        let config = dir.appendingPathComponent("\(name).yaml")
        try (text ?? CLI.smallConfig(name: name, extra: "output: {directory: \(dir.path)}\n")).write(to: config, atomically: true, encoding: .utf8)
        let r = try CLI.run(["cohort", "train", config.path, "--set", "training.max_steps=\(steps)", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let checkpoint = dir.appendingPathComponent("\(name)/checkpoints/latest.safetensors").path
        let c = try CLI.run(["cohort", "compress", checkpoint, "--sparsity", "0", "--quiet", "--output", dir.appendingPathComponent("compressed").path])
        XCTAssertEqual(c.status, 0, c.stderr)
        return (checkpoint, dir.appendingPathComponent("compressed/models/int8.safetensors").path)
    }

    /// `script` on the first `images` test images: onnxruntime's float logits are Cohort's (1e-4),
    /// onnx's reference evaluator's int8 logits are Cohort's int8 ones (the CSV's 6 digits: %.6g
    /// rounds by at most half a unit of the 6th digit, 5e-6 of the value) with every argmax the
    /// same, and onnxruntime runs the int8 graph.
    func assertExportsAgree(float onnx: String, _ logits: String, int8 onnx8: String, _ logits8: String, images: Int) throws {
        let r = try CLI.run(["/usr/bin/env", "python3", "-c", Self.script, Self.images, onnx, logits, onnx8, logits8, "\(images)"], timeout: 300)
        XCTAssertEqual(r.status, 0, r.stderr)
        let figures = r.stdout.split(separator: " ").map { Double($0.trimmingCharacters(in: .whitespacesAndNewlines))! }
        XCTAssertEqual(figures.count, 5, r.stdout)
        guard figures.count == 5 else { return }
        XCTAssertLessThan(figures[0], 1e-4, "float logits, onnxruntime against cohort predict")
        XCTAssertEqual(figures[1], Double(images))
        XCTAssertLessThan(figures[2], 6e-6, "int8 logits, onnx's reference evaluator on one batch against cohort predict (relative)")
        XCTAssertEqual(figures[3], 1, "int8 argmax agreement with the reference evaluator")
        XCTAssertEqual(figures[4], 1, "onnxruntime runs the int8 graph (finite logits of the right shape)")
    }

    func testPredictMatchesEvalAndOnnxruntimeRunsTheExportedModels() throws {
        let dir = try CLI.temporaryDirectory()
        let (float, int8) = try trained(dir)
        // predict on the raw IDX images gives eval's classes (eval prepares the test split itself).
        let eval = try CLI.run(["cohort", "eval", float, "--predictions", dir.appendingPathComponent("eval.txt").path])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let predicted = dir.appendingPathComponent("predicted.csv").path
        let p = try CLI.run(["cohort", "predict", float, Self.images, "--output", predicted, "--batch", "300"])
        XCTAssertEqual(p.status, 0, p.stderr)
        let rows = try String(contentsOfFile: predicted, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rows.first, "class,T-shirt/top,Trouser,Pullover,Dress,Coat,Sandal,Shirt,Sneaker,Bag,Ankle boot")
        XCTAssertEqual(rows.count, 10_001)
        let names = FashionMNIST.classNames
        let fromEval = try String(contentsOf: dir.appendingPathComponent("eval.txt"), encoding: .utf8).split(separator: "\n").map { names[Int($0)!] }
        let fromPredict = rows.dropFirst().map { String($0.split(separator: ",")[0]) }
        XCTAssertEqual(fromPredict, fromEval)
        let probabilities = rows[1].split(separator: ",").dropFirst().map { Double($0)! }
        XCTAssertEqual(probabilities.reduce(0, +), 1, accuracy: 1e-4)

        // The exported graphs in onnxruntime against Cohort's own logits and int8 predictions.
        let probe = try CLI.run(["/usr/bin/env", "python3", "-c", "import numpy, onnx, onnxruntime"])
        try XCTSkipUnless(probe.status == 0, "python3 with onnx and onnxruntime is not available (launch/test installs them)")
        let logits = dir.appendingPathComponent("logits.csv").path, logits8 = dir.appendingPathComponent("logits8.csv").path
        for (model, out) in [(float, logits), (int8, logits8)] {
            let r = try CLI.run(["cohort", "predict", model, Self.images, "--logits", "--output", out])
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        let onnx = dir.appendingPathComponent("mlp.onnx").path, onnx8 = dir.appendingPathComponent("mlp-int8.onnx").path
        for (model, out) in [(float, onnx), (int8, onnx8)] {
            let r = try CLI.run(["cohort", "export", model, "--onnx", out])
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        try assertExportsAgree(float: onnx, logits, int8: onnx8, logits8, images: 10_000)

        // An int8 prediction does not depend on its batch: one image at a time gives the same logits.
        let single = dir.appendingPathComponent("logits8-batch1.csv").path
        let b = try CLI.run(["cohort", "predict", int8, Self.images, "--logits", "--batch", "1", "--output", single])
        XCTAssertEqual(b.status, 0, b.stderr)
        XCTAssertEqual(try String(contentsOfFile: single, encoding: .utf8), try String(contentsOfFile: logits8, encoding: .utf8),
                       "int8 logits at --batch 1 and at the default batch")
    }

    /// A convolutional int8 model (padding, stride 2, a batch norm after a convolution, folded into
    /// it) computes its convolutions in integers as its ONNX export does (Pad, per-image quantisation,
    /// ConvInteger): onnx's reference evaluator gives Cohort's int8 logits on 300 test images, and
    /// onnxruntime runs the graph. (Int8ConvTests checks that an image's outputs do not depend on its batch.)
    func testInt8ConvolutionalModelsExportTheirIntegerConvolutions() throws {
        let probe = try CLI.run(["/usr/bin/env", "python3", "-c", "import numpy, onnx, onnxruntime"])
        try XCTSkipUnless(probe.status == 0, "python3 with onnx and onnxruntime is not available (launch/test installs them)")
        let dir = try CLI.temporaryDirectory()
        let (float, int8) = try trained(dir, name: "cnn", config: """
        name: cnn
        seed: 3
        data: {validation: 1000}
        model:
          layers:
            - {type: conv2d, out: 6, kernel: 3, padding: 1}
            - {type: batchnorm}
            - {type: relu}
            - {type: maxpool, size: 2}
            - {type: conv2d, out: 8, kernel: 3, stride: 2}
            - {type: relu}
            - {type: flatten}
            - {type: linear, out: 10}
        optimizer: {name: sgd, lr: 0.05, momentum: 0.9}
        training: {epochs: 1, batch_size: 64, log_every: 10}
        output: {directory: \(dir.path)}
        """, steps: 80)
        let logits = dir.appendingPathComponent("logits.csv").path, logits8 = dir.appendingPathComponent("logits8.csv").path
        let onnx = dir.appendingPathComponent("cnn.onnx").path, onnx8 = dir.appendingPathComponent("cnn-int8.onnx").path
        for (model, out, graph) in [(float, logits, onnx), (int8, logits8, onnx8)] {
            let p = try CLI.run(["cohort", "predict", model, Self.images, "--logits", "--output", out])
            XCTAssertEqual(p.status, 0, p.stderr)
            let e = try CLI.run(["cohort", "export", model, "--onnx", graph])
            XCTAssertEqual(e.status, 0, e.stderr)
        }
        let nodes = try CLI.run(["/usr/bin/env", "python3", "-c", "import onnx, sys; print(' '.join(n.op_type for n in onnx.load(sys.argv[1]).graph.node))", onnx8])
        XCTAssertEqual(nodes.stdout.split(separator: " ").filter { $0 == "ConvInteger" }.count, 2, nodes.stdout)
        // The batch norm is folded into the first convolution, in the int8 file and in the float export.
        XCTAssertFalse(nodes.stdout.contains("BatchNormalization"), nodes.stdout)
        let floatNodes = try CLI.run(["/usr/bin/env", "python3", "-c", "import onnx, sys; print(' '.join(n.op_type for n in onnx.load(sys.argv[1]).graph.node))", onnx])
        XCTAssertFalse(floatNodes.stdout.contains("BatchNormalization"), floatNodes.stdout)
        XCTAssertTrue(floatNodes.stdout.contains("Conv"), floatNodes.stdout)
        try assertExportsAgree(float: onnx, logits, int8: onnx8, logits8, images: 300)
    }

    /// A residual network (a projection shortcut, BatchNorm, LayerNorm, global average pooling)
    /// exports too: onnxruntime's logits on the test images are Cohort's.
    func testResidualNetworksExport() throws {
        let probe = try CLI.run(["/usr/bin/env", "python3", "-c", "import numpy, onnx, onnxruntime"])
        try XCTSkipUnless(probe.status == 0, "python3 with onnx and onnxruntime is not available (launch/test installs them)")
        let dir = try CLI.temporaryDirectory()
        let config = dir.appendingPathComponent("res.yaml")
        try """
        name: res
        seed: 3
        data: {validation: 1000}
        model:
          layers:
            - {type: conv2d, out: 4, kernel: 3, padding: 1, bias: false}
            - {type: batchnorm}
            - {type: relu}
            - {type: maxpool, size: 2}
            - type: residual
              layers:
                - {type: conv2d, out: 8, kernel: 3, stride: 2, padding: 1}
                - {type: relu}
                - {type: conv2d, out: 8, kernel: 3, padding: 1, bias: false}
                - {type: batchnorm}
            - {type: layernorm}
            - {type: relu}
            - {type: globalavgpool}
            - type: residual
              projection: always
              layers: [{type: linear, out: 12}, {type: relu}]
            - {type: linear, out: 10}
        optimizer: {name: sgd, lr: 0.05, momentum: 0.9}
        training: {epochs: 1, batch_size: 64, log_every: 10}
        output: {directory: \(dir.path)}
        """.write(to: config, atomically: true, encoding: .utf8)
        let r = try CLI.run(["cohort", "train", config.path, "--set", "training.max_steps=30", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let model = dir.appendingPathComponent("res/checkpoints/latest.safetensors").path
        let logits = dir.appendingPathComponent("logits.csv").path, onnx = dir.appendingPathComponent("res.onnx").path
        let p = try CLI.run(["cohort", "predict", model, Self.images, "--logits", "--output", logits])
        XCTAssertEqual(p.status, 0, p.stderr)
        let e = try CLI.run(["cohort", "export", model, "--onnx", onnx])
        XCTAssertEqual(e.status, 0, e.stderr)
        let o = try CLI.run(["/usr/bin/env", "python3", "-c", Self.script, Self.images, onnx, logits], timeout: 120)
        XCTAssertEqual(o.status, 0, o.stderr)
        let figures = o.stdout.split(separator: " ").map { Double($0.trimmingCharacters(in: .whitespacesAndNewlines))! }
        XCTAssertLessThan(figures[0], 1e-4, "residual network logits, onnxruntime against cohort predict")
        XCTAssertEqual(figures[1], 10_000)
    }

    /// bench inference --onnxruntime times each model in Cohort and, right after, its export in
    /// onnxruntime, and prints their ratio per round.
    func testBenchInferenceTimesOnnxruntimeInTheSameRun() throws {
        let probe = try CLI.run(["/usr/bin/env", "python3", "-c", "import numpy, onnxruntime"])
        try XCTSkipUnless(probe.status == 0, "python3 with onnxruntime is not available (launch/test installs them)")
        let dir = try CLI.temporaryDirectory()
        let (float, int8) = try trained(dir)
        let r = try CLI.run(["cohort", "bench", "inference", float, int8, "--onnxruntime", "--seconds", "0.05", "--rounds", "2"], timeout: 120)
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n")
        XCTAssertTrue(lines.contains { $0.hasPrefix("onnxruntime ") && $0.hasSuffix("intra-op threads: 1") }, r.stdout)
        let peers = lines.filter { $0.hasPrefix("  onnxruntime: ") }
        XCTAssertEqual(peers.count, 2, r.stdout)
        for line in peers {
            let ratios = line.components(separatedBy: "per round: ")[1].components(separatedBy: ", ").compactMap(Double.init)
            XCTAssertEqual(ratios.count, 2, String(line))
            XCTAssertTrue(ratios.allSatisfy { $0 > 0 && $0.isFinite }, String(line))
        }
    }

    /// Bad inputs to predict and export are one line naming the file and what is wrong.
    func testBadInputsAreOneLine() throws {
        let dir = try CLI.temporaryDirectory()
        let (float, _) = try trained(dir)
        let wrongShape = dir.appendingPathComponent("wrong.npy").path
        try NPYArray(shape: [3, 5], values: .float32([Float](repeating: 0, count: 15))).write(to: wrongShape)
        let truncated = dir.appendingPathComponent("truncated.npy").path
        var bytes = NPYArray(shape: [4, 1, 28, 28], values: .uint8([UInt8](repeating: 7, count: 4 * 784))).fileBytes
        bytes.removeLast(100)
        try Data(bytes).write(to: URL(fileURLWithPath: truncated))
        let cases: [([String], String)] = [
            (["predict", float, wrongShape], "\(wrongShape): samples of shape [5], but \(float) was trained on [1, 28, 28]"),
            (["predict", float, truncated], "\(truncated): truncated"),
            (["predict", float, dir.appendingPathComponent("absent.npy").path], "absent.npy: cannot open: no such file"),
            (["predict", float, Self.images, "--output", "/nonexistent/p.csv"], "/nonexistent/p.csv: cannot write the predictions"),
            (["export", float, "--onnx", "/nonexistent/m.onnx"], "/nonexistent/m.onnx: cannot write the ONNX model"),
        ]
        for (arguments, expected) in cases {
            let r = try CLI.run(["cohort"] + arguments)
            XCTAssertNotEqual(r.status, 0, "\(arguments)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains(expected), "\(arguments): \(r.stderr)")
        }
    }

    /// A layer ONNX export does not know (one written in Swift by a user) is named, with its place.
    func testAnUnknownLayerIsNamed() throws {
        final class Doubling: Layer {
            var summary: String { "Doubling" }
            func outputShape(for input: [Int]) throws -> [Int] { input }
            func forward(_ x: Var, _ ctx: ForwardContext) throws -> Var { ctx.tape.affine(x, scale: 2) }
        }
        let model = try Model(network: Sequential([Flatten(), Doubling(), Linear(4, 2)]), inputShape: [4])
        let empty = try Safetensors.decode(Data([2, 0, 0, 0, 0, 0, 0, 0]) + Data("{}".utf8), source: "empty")
        var writer = LayerWriter(graph: ONNXModel(name: "probe", opset: ONNXExport.opset), file: empty, paths: [:])
        XCTAssertThrowsError(try writer.write(model.network.layers[1], "x", at: "model.layers[1]")) {
            XCTAssertEqual("\($0)", "model.layers[1] (Doubling): ONNX export does not know this layer")
        }
    }
}
