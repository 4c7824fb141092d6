import Cohort
import CohortFormats
import CohortNN
import CohortTrain
import Foundation

/// A model-only safetensors file (no optimizer state) that `cohort eval` reads like a checkpoint:
/// every parameter and buffer by path; with `quantize`, the Linear/Conv weights as I8 with F32
/// per-output-channel scales "<path>.scale"; with masks, "mask.<path>" as U8 (1 kept, 0 pruned).
public enum ModelExport {
    public struct Written {
        public let bytes: Int
        /// Bytes of the Linear/Conv weights as stored (int8 values plus their scales when quantised).
        public let weightBytes: Int
    }

    @discardableResult
    /// `data`: what the model was trained on (task, input shape, classes, normalisation), saved as
    /// the checkpoint's "data" metadata so `cohort eval` prepares inputs the same way.
    public static func save(_ model: Model, configYAML: String, data: DataDescription? = nil, to url: URL, quantize: Bool = false,
                            pruner: MagnitudePruner? = nil) throws -> Written {
        var tensors: [String: SafetensorsTensor] = [:]
        var weightBytes = 0
        for (e, p) in zip(model.parameters.entries, model.parameters.parameters) {
            let isWeight = e.decays && e.shape.count >= 2
            if quantize && isWeight {
                let (q, scales) = Int8Quantization.quantize(p.value.pointer, rows: e.shape[0], columns: e.count / e.shape[0])
                tensors[e.path] = try SafetensorsTensor(shape: e.shape, values: q)
                tensors[e.path + ".scale"] = try SafetensorsTensor(shape: [e.shape[0]], values: scales)
                weightBytes += q.count + 4 * scales.count
            } else {
                tensors[e.path] = SafetensorsTensor(p.value)
                if isWeight { weightBytes += 4 * e.count }
            }
        }
        for (e, p) in zip(model.buffers.entries, model.buffers.parameters) { tensors[e.path] = SafetensorsTensor(p.value) }
        if let pruner {
            for (e, mask) in zip(pruner.weights, pruner.masks) { tensors["mask." + e.path] = try SafetensorsTensor(shape: e.shape, values: mask) }
        }
        var metadata = ["format": Checkpoint.format, "config": configYAML, "contents": "model"]
        if let data { metadata["data"] = try data.json() }
        if quantize { metadata["quantization"] = "int8, symmetric, one scale per output channel" }
        if let pruner { metadata["sparsity"] = String(format: "%.4f", pruner.sparsity) }
        try Safetensors.write(tensors, metadata: metadata, to: url)
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        return Written(bytes: size, weightBytes: weightBytes)
    }
}
