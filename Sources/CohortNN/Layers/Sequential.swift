import Cohort

/// Layers applied in order; parameters are named "<index>.<name>" (as in PyTorch's nn.Sequential).
public final class Sequential: Layer {
    public let layers: [Layer]

    public init(_ layers: [Layer]) { self.layers = layers }

    public var children: [(String, Layer)] { layers.enumerated().map { (String($0.offset), $0.element) } }
    public var summary: String { "Sequential(" + layers.map(\.summary).joined(separator: ", ") + ")" }

    public func outputShape(for input: [Int]) throws -> [Int] {
        var shape = input
        for (i, layer) in layers.enumerated() {
            do { shape = try layer.outputShape(for: shape) } catch let CohortError.shape(op, detail) {
                throw CohortError.shape(op: "layers[\(i)] \(op)", detail: detail)
            }
        }
        return shape
    }

    /// The layers in order; in an int8 model's inference, an int8 convolution and the ReLU (and
    /// max pooling) after it run as one (`Conv2d.fusedInt8Forward`).
    public func forward(_ x: Var, _ ctx: ForwardContext) throws -> Var {
        var h = x
        var i = 0
        while i < layers.count {
            if let (y, n) = try Conv2d.fusedInt8Forward(layers[i...], h, ctx) {
                h = y
                i += n
            } else {
                h = try layers[i].forward(h, ctx)
                i += 1
            }
        }
        return h
    }
}
