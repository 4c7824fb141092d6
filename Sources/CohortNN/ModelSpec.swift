import Cohort

/// A model described in a config: a list of layers whose input sizes are inferred.
///
///     layers:
///       - {type: conv2d, out: 16, kernel: 3, padding: 1}
///       - {type: relu}
///       - type: residual            # body(x) + x, or + a 1x1 projection when the shape changes
///         layers:
///           - {type: conv2d, out: 32, kernel: 3, stride: 2, padding: 1}
///           - {type: relu}
///           - {type: conv2d, out: 32, kernel: 3, padding: 1}
///       - {type: relu}
///       - {type: globalavgpool}
///       - {type: linear, out: 10}
public struct ModelSpec: Codable, Equatable, Sendable {
    public var layers: [LayerSpec]

    public init(layers: [LayerSpec]) { self.layers = layers }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try rejectUnknownKeys(decoder, known: ["layers"])
        layers = try c.decode([LayerSpec].self, forKey: .layers)
        if layers.isEmpty {
            throw DecodingError.dataCorruptedError(forKey: .layers, in: c, debugDescription: "a model needs at least one layer")
        }
    }

    /// Builds the model for inputs shaped `inputShape` (without the batch axis), checking every
    /// layer's shapes; errors name the layer's path ("model.layers[3].layers[1] (conv2d): ...").
    ///
    /// Weights default to the initialiser the following activation wants: He for the ReLU family,
    /// Glorot for tanh, sigmoid, softmax and for a final layer. Inside a residual block, the last
    /// weighted layers of the body and the projection feed the addition, whose sum goes to the layer
    /// after the block: they take the initialiser that layer wants (He in a ResNet, whose blocks are
    /// followed by ReLU, as torchvision initialises every convolution).
    public func build(inputShape: [Int]) throws -> Sequential {
        var shape = [1] + inputShape
        return Sequential(try ModelSpec.build(layers, path: "model.layers", shape: &shape, followedBy: nil))
    }

    /// The layers of `specs` for input `shape` (updated to their output's); `after` is the first
    /// non-shape-only layer after the list, if any (the successor of an enclosing block).
    static func build(_ specs: [LayerSpec], path: String, shape: inout [Int], followedBy after: LayerSpec?) throws -> [Layer] {
        var built: [Layer] = []
        for (i, spec) in specs.enumerated() {
            let here = "\(path)[\(i)]"
            let next = specs[(i + 1)...].first { !$0.isShapeOnly } ?? after
            let initializer = spec.initializer ?? (next?.wantsHe ?? false ? .heUniform : .glorotUniform)
            if case let .residual(layers, projection) = spec.kind {
                built.append(try residual(layers, projection: projection, path: here, shape: &shape, projectionInitializer: initializer,
                                          followedBy: next))
                continue
            }
            do {
                let layer = try spec.make(input: shape, initializer: initializer)
                shape = try layer.outputShape(for: shape)
                built.append(layer)
            } catch let CohortError.shape(op, detail) {
                throw CohortError.invalid("\(here) (\(spec.type)): \(op): \(detail)")
            } catch let CohortError.invalid(message) {
                throw CohortError.invalid("\(here) (\(spec.type)): \(message)")
            }
        }
        return built
    }

    /// A residual block: its body built at `path`.layers, then the shortcut its shapes call for.
    static func residual(_ layers: [LayerSpec], projection mode: ShortcutProjection?, path: String, shape: inout [Int],
                         projectionInitializer: Initializer, followedBy next: LayerSpec?) throws -> Residual {
        let input = shape
        let body = try build(layers, path: path + ".layers", shape: &shape, followedBy: next)
        do {
            let projection = try Residual.projectionLayer(from: input, to: shape, mode: mode ?? .auto,
                                                          initializer: projectionInitializer)
            return Residual(body: Sequential(body), projection: projection)
        } catch let CohortError.invalid(message) {
            throw CohortError.invalid("\(path) (residual): \(message)")
        }
    }
}
