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

    public func forward(_ x: Var, _ ctx: ForwardContext) throws -> Var {
        var h = x
        for layer in layers { h = try layer.forward(h, ctx) }
        return h
    }
}
