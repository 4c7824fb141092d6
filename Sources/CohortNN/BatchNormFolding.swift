import Cohort

/// Batch norm folded into the convolution or linear layer before it, for inference and export
/// (what PyTorch's `fuse_conv_bn_eval` and onnxruntime's graph optimiser do). In evaluation mode
/// BatchNorm is an affine map per channel, y = s (z - mean) + beta with s = gamma / sqrt(var + eps),
/// so after z = W x + b it is the layer W' = s W, b' = s (b - mean) + beta: one pass over the
/// activations fewer, and an int8 model quantises W' (per output channel, so the int8 values are
/// W's, the scales s times W's) and needs no float layer between its integer products.
public enum BatchNormFolding {
    /// `spec` with every conv2d or linear layer that a batchnorm directly follows (in the same list:
    /// the model's layers or a residual body) given a bias and that batchnorm removed; nil when no
    /// batchnorm follows such a layer (nothing to fold).
    public static func folded(_ spec: ModelSpec) -> ModelSpec? {
        let (layers, changed) = folded(spec.layers)
        return changed ? ModelSpec(layers: layers) : nil
    }

    /// `model` as inference measures and deploys it: folded when it has batch norms to fold. An int8
    /// model stays as its file computes it (files written since folding came in have no batch norm
    /// after an int8 layer; an older one keeps its float batch norm rather than lose its int8 products).
    public static func deployed(_ model: Model) throws -> Model {
        if Model.int8Layers(model.network).contains(where: { $0.int8 != nil }) { return model }
        return try model.foldingBatchNorm() ?? model
    }

    static func folded(_ specs: [LayerSpec]) -> ([LayerSpec], Bool) {
        var out: [LayerSpec] = []
        var changed = false
        var i = 0
        while i < specs.count {
            var spec = specs[i]
            let followedByNorm = i + 1 < specs.count && specs[i + 1].kind == .batchnorm
            switch spec.kind {
            case let .conv2d(outChannels, kernel, stride, padding, _) where followedByNorm:
                spec.kind = .conv2d(out: outChannels, kernel: kernel, stride: stride, padding: padding, bias: true)
                i += 1
                changed = true
            case let .linear(outFeatures, _) where followedByNorm:
                spec.kind = .linear(out: outFeatures, bias: true)
                i += 1
                changed = true
            case let .residual(body, projection):
                let (inner, bodyChanged) = folded(body)
                spec.kind = .residual(layers: inner, projection: projection)
                changed = changed || bodyChanged
            default: break
            }
            out.append(spec)
            i += 1
        }
        return (out, changed)
    }
}

extension Model {
    /// This model with its batch norms folded (`BatchNormFolding`), built from the folded form of
    /// the spec it was built from, or nil when there is nothing to fold (or no spec). Its outputs
    /// are this model's in evaluation mode up to float rounding. The copy is float: an int8 model's
    /// weights come as their values q * scale (quantise the copy again, `quantizeInt8Layers`).
    public func foldingBatchNorm() throws -> Model? {
        guard let spec, let foldedSpec = BatchNormFolding.folded(spec) else { return nil }
        let copy = try Model(spec: foldedSpec, inputShape: inputShape)
        try Self.fold(network, into: copy.network)
        return copy
    }

    /// Fills `target`'s layers (the folded form of `source`'s) from `source`'s values.
    static func fold(_ source: Sequential, into target: Sequential) throws {
        var i = 0
        for layer in target.layers {
            guard i < source.layers.count else { throw foldMismatch(source, target) }
            let from = source.layers[i]
            let norm = i + 1 < source.layers.count ? source.layers[i + 1] as? BatchNorm : nil
            switch (from, layer, norm) {
            case let (c as Conv2d, t as Conv2d, norm?):
                try foldAffine(weight: c.weight, bias: c.bias, norm, into: t.weight, t.bias)
                i += 2
            case let (l as Linear, t as Linear, norm?):
                try foldAffine(weight: l.weight, bias: l.bias, norm, into: t.weight, t.bias)
                i += 2
            case let (r as Residual, t as Residual, _):
                try fold(r.body, into: t.body)
                if let p = r.projection, let q = t.projection { try copyValues(p, into: q) }
                i += 1
            default:
                try copyValues(from, into: layer)
                i += 1
            }
        }
        guard i == source.layers.count else { throw foldMismatch(source, target) }
    }

    /// W' = s W and b' = s (b - mean) + beta per output channel, s = gamma / sqrt(var + eps), in
    /// double precision before the one rounding to float.
    static func foldAffine(weight: Parameter, bias: Parameter?, _ norm: BatchNorm, into target: Parameter, _ targetBias: Parameter?) throws {
        let channels = weight.shape[0]
        guard norm.features == channels, target.shape == weight.shape, let targetBias, targetBias.shape == [channels] else {
            throw CohortError.invalid("batch norm folding: \(norm.summary) does not fit a weight of shape \(shapeString(weight.shape))")
        }
        let perChannel = weight.value.count / channels
        let w = weight.value.pointer, tw = target.value.pointer, tb = targetBias.value.pointer
        let gamma = norm.scale.value.pointer, beta = norm.shift.value.pointer
        let mean = norm.runningMean.value.pointer, variance = norm.runningVar.value.pointer
        for o in 0..<channels {
            let s = Double(gamma[o]) / (Double(variance[o]) + Double(norm.epsilon)).squareRoot()
            for k in 0..<perChannel { tw[o * perChannel + k] = Float(s * Double(w[o * perChannel + k])) }
            let b = bias.map { Double($0.value.pointer[o]) } ?? 0
            tb[o] = Float(s * (b - Double(mean[o])) + Double(beta[o]))
        }
    }

    /// Copies every parameter and buffer of `source` into `target`, a layer of the same kind and shapes.
    static func copyValues(_ source: Layer, into target: Layer) throws {
        let from = source.namedParameters() + source.namedBuffers(), to = target.namedParameters() + target.namedBuffers()
        guard from.count == to.count, zip(from, to).allSatisfy({ $0.0 == $1.0 && $0.1.shape == $1.1.shape }) else {
            throw CohortError.invalid("batch norm folding: \(source.summary) does not match \(target.summary)")
        }
        for ((_, p), (_, q)) in zip(from, to) { try q.value.assign(p.value) }
    }

    static func foldMismatch(_ source: Sequential, _ target: Sequential) -> CohortError {
        .invalid("batch norm folding: \(source.summary) does not fold into \(target.summary)")
    }
}
