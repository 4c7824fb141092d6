import Cohort
import CohortData
import CohortFormats
import CohortNN
import Foundation

/// `cohort export CHECKPOINT --onnx FILE`: the network of a checkpoint or model file as an ONNX
/// graph (opset 17) that takes raw inputs (the saved normalisation is the graph's first two nodes)
/// and gives logits, or regression values. Int8 files export their Linear layers as dynamic quantisation
/// row by row (each row's range, scale and zero point written out in float ops, MatMulInteger with
/// the stored int8 weights, the zero point's correction and the scales applied after), which is
/// also how Cohort computes them; int8 convolutions likewise image by image, with ConvInteger.
public enum ONNXExport {
    public static let opset = 17

    public static func model(_ saved: SavedRun) throws -> ONNXModel {
        // Batch norms folded into the layers before them, as torch.onnx.export does in eval mode
        // (int8 files are written folded already: `deployed` leaves them as they are).
        let model = try BatchNormFolding.deployed(try saved.model())
        let d = saved.data
        var graph = ONNXModel(name: saved.config.name, opset: opset)
        graph.inputs = [ONNXModel.Value(name: "input", type: .float, shape: [nil] + d.sampleShape)]
        // Raw values to the network's inputs: x * scale + bias per value (bytes divided by 255 too).
        let (scale, bias) = try d.normalization.affine(sampleShape: d.sampleShape, bytes: d.byteFeatures)
        var x = graph.add("Mul", ["input", graph.constant("normalization.scale", scale, dims: d.sampleShape)], hint: "scaled")
        x = graph.add("Add", [x, graph.constant("normalization.bias", bias, dims: d.sampleShape)], hint: "normalized")
        let paths = Dictionary(uniqueKeysWithValues: model.parameters.entries.enumerated().map {
            (ObjectIdentifier(model.parameters.parameters[$0.offset]), $0.element.path)
        } + model.buffers.entries.enumerated().map { (ObjectIdentifier(model.buffers.parameters[$0.offset]), $0.element.path) })
        var writer = LayerWriter(graph: graph, file: saved.file, paths: paths)
        for (i, layer) in model.network.layers.enumerated() {
            x = try writer.write(layer, x, at: "model.layers[\(i)]")
        }
        graph = writer.graph
        let output = d.task == .regression ? "prediction" : "logits"
        graph.add("Identity", [x], named: [output])
        graph.outputs = [ONNXModel.Value(name: output, type: .float, shape: [nil, d.outputCount])]
        return graph
    }

    public static func write(_ saved: SavedRun, to path: String) throws {
        let bytes = try model(saved).encoded()
        do { try AtomicFile.write(Data(bytes), to: URL(fileURLWithPath: path)) } catch {
            throw CohortError.invalid("\(path): cannot write the ONNX model: \(error)")
        }
    }
}

/// Appends the nodes of one layer after another, naming constants by the parameters' paths.
struct LayerWriter {
    var graph: ONNXModel
    let file: SafetensorsFile
    let paths: [ObjectIdentifier: String]

    func path(_ p: Parameter) -> String { paths[ObjectIdentifier(p)]! }

    /// The parameter as a float constant (its values in the model, dequantised if stored as int8).
    mutating func constant(_ p: Parameter) -> String {
        graph.constant(path(p), p.value.scalars, dims: p.shape)
    }

    /// The int8 values and per-output-channel scales of a weight the file stores as I8, else nil.
    func int8(_ p: Parameter) throws -> (values: [Int8], scales: [Float])? {
        let name = path(p)
        guard let stored = file.tensors[name], stored.dtype == .i8, let scale = file.tensors[name + ".scale"] else { return nil }
        return (try stored.values(), try scale.values())
    }

    mutating func write(_ layer: Layer, _ x: String, at place: String) throws -> String {
        switch layer {
        case let l as Linear: return try linear(l, x)
        case let c as Conv2d: return try conv(c, x)
        case let p as Pool2d:
            return graph.add(p.kind == .max ? "MaxPool" : "AveragePool", [x],
                             attributes: [.ints("kernel_shape", [Int64(p.window.0), Int64(p.window.1)]),
                                          .ints("strides", [Int64(p.stride.0), Int64(p.stride.1)])])
        case let b as BatchNorm:
            return graph.add("BatchNormalization", [x, constant(b.scale), constant(b.shift), constant(b.runningMean), constant(b.runningVar)],
                             attributes: [.float("epsilon", b.epsilon)])
        case let a as Activation:
            switch a.kind {
            case .relu: return graph.add("Relu", [x])
            case let .leakyRelu(slope): return graph.add("LeakyRelu", [x], attributes: [.float("alpha", slope)])
            case .sigmoid: return graph.add("Sigmoid", [x])
            case .tanh: return graph.add("Tanh", [x])
            case .softplus: return graph.add("Softplus", [x])
            }
        case let n as LayerNorm:
            // Normalised over every axis after the batch's, as the layer is.
            return graph.add("LayerNormalization", [x, constant(n.scale), constant(n.shift)],
                             attributes: [.int("axis", 1), .float("epsilon", n.epsilon)])
        case is GlobalAvgPool:
            // [B, C, H, W] -> [B, C, 1, 1] -> [B, C].
            return graph.add("Flatten", [graph.add("GlobalAveragePool", [x])], attributes: [.int("axis", 1)])
        case let r as Residual:
            let body = try write(r.body, x, at: "\(place).layers")
            let shortcut = try r.projection.map { try write($0, x, at: "\(place).projection") } ?? x
            return graph.add("Add", [body, shortcut])
        case is SoftmaxLayer: return graph.add("Softmax", [x], attributes: [.int("axis", -1)])
        case is Flatten: return graph.add("Flatten", [x], attributes: [.int("axis", 1)])
        case is Dropout: return x  // evaluation mode: the identity
        case let m as Maxout:
            // Linear to out x pieces, grouped as [batch, out, pieces], the maximum of each group.
            let z = try linear(m.linear, x)
            let shape = graph.constant(path(m.linear.weight) + ".groups", int64: [0, Int64(m.outFeatures), Int64(m.pieces)], dims: [3])
            let grouped = graph.add("Reshape", [z, shape])
            return graph.add("ReduceMax", [grouped], attributes: [.ints("axes", [2]), .int("keepdims", 0)])
        case let s as Sequential:
            var h = x
            for (i, child) in s.layers.enumerated() { h = try write(child, h, at: "\(place).layers[\(i)]") }
            return h
        default:
            throw CohortError.invalid("\(place) (\(layer.summary)): ONNX export does not know this layer")
        }
    }

    mutating func linear(_ l: Linear, _ x: String) throws -> String {
        let bias = l.bias.map { constant($0) }
        guard let (q, scales) = try int8(l.weight) else {
            return graph.add("Gemm", [x, constant(l.weight)] + (bias.map { [$0] } ?? []), attributes: [.int("transB", 1)])
        }
        // Each input row quantised by its own range, the integer product with the int8 weights
        // [in, out], then the zero point's correction and the scales (`dequantized`).
        let (out, inputs) = (l.outFeatures, l.inFeatures)
        var transposed = [Int8](repeating: 0, count: q.count)
        for o in 0..<out { for i in 0..<inputs { transposed[i * out + o] = q[o * inputs + i] } }
        let name = path(l.weight)
        let w = graph.constant(name + ".int8", int8: transposed, dims: [inputs, out])
        let input = quantizedPerSample(x, axes: [1], name: name)
        let product = graph.add("MatMulInteger", [input.quantized, w], hint: "product")
        return dequantized(product, input, q, scales, bias, outputs: out, dims: [out], name: name)
    }

    /// Dynamic quantisation sample by sample, as Cohort's int8 inference computes it
    /// (cohort_int8_quantize_rows): each sample (its values along `axes`) to uint8 by its own
    /// range, so a sample's output does not depend on its batch. DynamicQuantizeLinear takes one
    /// range for the whole tensor, so the rule is written out: lo = min(0, sample min), hi =
    /// max(0, sample max), scale = (hi - lo) / 255 (1 for a sample of zeros), zero point =
    /// clip(round(-lo / scale)), q = clip(round(x / scale) + zero point).
    mutating func quantizedPerSample(_ x: String, axes: [Int64], name: String) -> (quantized: String, scale: String, zero: String) {
        let zero = graph.constant(name + ".q.zero", [0], dims: []), one = graph.constant(name + ".q.one", [1], dims: [])
        let top = graph.constant(name + ".q.255", [255], dims: [])
        let rowMin = graph.add("ReduceMin", [x], attributes: [.ints("axes", axes), .int("keepdims", 1)], hint: "row_min")
        let rowMax = graph.add("ReduceMax", [x], attributes: [.ints("axes", axes), .int("keepdims", 1)], hint: "row_max")
        let lo = graph.add("Min", [rowMin, zero]), hi = graph.add("Max", [rowMax, zero])
        let rangeScale = graph.add("Div", [graph.add("Sub", [hi, lo]), top], hint: "range_scale")
        let xScale = graph.add("Where", [graph.add("Equal", [rangeScale, zero]), one, rangeScale], hint: "row_scale")
        let xZero = graph.add("Clip", [graph.add("Round", [graph.add("Div", [graph.add("Neg", [lo]), xScale])]), zero, top], hint: "row_zero_point")
        let scaled = graph.add("Add", [graph.add("Round", [graph.add("Div", [x, xScale])]), xZero])
        let quantized = graph.add("Cast", [graph.add("Clip", [scaled, zero, top])], attributes: [.int("to", ONNXModel.ElementType.uint8.rawValue)],
                                  hint: "quantized")
        return (quantized, xScale, xZero)
    }

    /// The int32 products back to floats, as cohort_int8_dequantize computes them: minus the zero
    /// point x each output's weight sum (in int32), times sample scale x weight scale (multiplied
    /// first), plus the bias (shaped `dims`). `dims` shapes the per-output constants to broadcast along the
    /// product's output axis ([out] after MatMulInteger, [out, 1, 1] after ConvInteger).
    mutating func dequantized(_ product: String, _ input: (quantized: String, scale: String, zero: String), _ q: [Int8], _ scales: [Float],
                              _ bias: String?, outputs out: Int, dims: [Int], name: String) -> String {
        let per = q.count / out
        let weightSums = (0..<out).map { o in (0..<per).reduce(Int32(0)) { $0 + Int32(q[o * per + $1]) } }
        let zeroAsInt = graph.add("Cast", [input.zero], attributes: [.int("to", ONNXModel.ElementType.int32.rawValue)])
        let correction = graph.add("Mul", [zeroAsInt, graph.constant(name + ".sums", int32: weightSums, dims: dims)], hint: "correction")
        let asFloat = graph.add("Cast", [graph.add("Sub", [product, correction])], attributes: [.int("to", ONNXModel.ElementType.float.rawValue)])
        let scale = graph.add("Mul", [input.scale, graph.constant(name + ".scale", scales, dims: dims)], hint: "scale")
        let y = graph.add("Mul", [asFloat, scale], hint: "dequantized")
        return bias.map { graph.add("Add", [y, $0]) } ?? y
    }

    mutating func conv(_ c: Conv2d, _ x: String) throws -> String {
        let (ph, pw) = c.padding
        let kernel = [Int64(c.kernel.0), Int64(c.kernel.1)], strides = [Int64(c.stride.0), Int64(c.stride.1)]
        guard let (q, scales) = try int8(c.weight) else {
            return graph.add("Conv", [x, constant(c.weight)] + (c.bias.map { [constant($0)] } ?? []),
                             attributes: [.ints("kernel_shape", kernel), .ints("strides", strides),
                                          .ints("pads", [Int64(ph), Int64(pw), Int64(ph), Int64(pw)])])
        }
        // The padding in float first (zeros, which quantise to the zero point exactly as Cohort pads
        // the quantised image), so ConvInteger needs no zero point of its own (it takes one per
        // tensor; here each image has its own). Then each image quantised by its own range, the
        // integer convolution with the int8 weights, the correction and the scales per channel.
        let name = path(c.weight)
        var padded = x
        if ph > 0 || pw > 0 {
            let pads = graph.constant(name + ".pads", int64: [0, 0, Int64(ph), Int64(pw), 0, 0, Int64(ph), Int64(pw)], dims: [8])
            padded = graph.add("Pad", [x, pads], hint: "padded")
        }
        let input = quantizedPerSample(padded, axes: [1, 2, 3], name: name)
        let w = graph.constant(name + ".int8", int8: q, dims: c.weight.shape)
        let product = graph.add("ConvInteger", [input.quantized, w], attributes: [.ints("kernel_shape", kernel), .ints("strides", strides)],
                                hint: "product")
        return dequantized(product, input, q, scales, c.bias.map { graph.constant(path($0), $0.value.scalars, dims: [c.outChannels, 1, 1]) }, outputs: c.outChannels, dims: [c.outChannels, 1, 1], name: name)
    }
}
