import Cohort

extension Model {
    /// Quantises every Linear weight to int8, symmetric with one scale per output channel
    /// (`Int8Quantization`, as int8 model files store them): inference then computes those layers
    /// with integer products (`Int8Weights`), and the parameter arena holds q * scale, so a model
    /// read back from its int8 file is this model.
    public func quantizeLinearLayers() {
        for linear in Self.linearLayers(network) {
            let (out, inputs) = (linear.outFeatures, linear.inFeatures)
            let w = linear.weight.value.pointer
            let (q, scales) = Int8Quantization.quantize(w, rows: out, columns: inputs)
            Int8Quantization.dequantize(q, scales: scales, rows: out, columns: inputs, into: w)
            linear.int8 = Int8Weights(values: q, scales: scales, outFeatures: out, inFeatures: inputs)
        }
    }
}
