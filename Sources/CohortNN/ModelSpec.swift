import Cohort

/// A model described in a config: a list of layers whose input sizes are inferred.
///
///     layers:
///       - {type: conv2d, out: 32, kernel: 3}
///       - {type: relu}
///       - {type: maxpool, size: 2}
///       - {type: flatten}
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
    /// layer's shapes. Weights default to the initialiser the following activation wants: He for the
    /// ReLU family, Glorot for tanh, sigmoid, softmax and for a final layer.
    public func build(inputShape: [Int]) throws -> Sequential {
        var shape = [1] + inputShape
        var built: [Layer] = []
        for (i, spec) in layers.enumerated() {
            let next = layers[(i + 1)...].first { !$0.isShapeOnly }
            let initializer = spec.initializer ?? (next?.wantsHe ?? false ? .heUniform : .glorotUniform)
            let layer: Layer
            do {
                layer = try spec.make(input: shape, initializer: initializer)
                shape = try layer.outputShape(for: shape)
            } catch let CohortError.shape(op, detail) {
                throw CohortError.invalid("model.layers[\(i)] (\(spec.type)): \(op): \(detail)")
            } catch let CohortError.invalid(message) {
                throw CohortError.invalid("model.layers[\(i)] (\(spec.type)): \(message)")
            }
            built.append(layer)
        }
        return Sequential(built)
    }
}

/// One layer of a ModelSpec. Keys: type (required), out, kernel, stride, padding, size, p, slope,
/// pieces, bias, init.
public struct LayerSpec: Codable, Equatable, Sendable {
    public static let types = ["linear", "conv2d", "maxpool", "avgpool", "flatten", "dropout", "batchnorm",
                               "relu", "leakyrelu", "sigmoid", "tanh", "softplus", "maxout", "softmax"]
    public var type: String
    public var out: Int?
    public var kernel: Int?
    public var stride: Int?
    public var padding: Int?
    public var size: Int?
    public var p: Float?
    public var slope: Float?
    public var pieces: Int?
    public var bias: Bool?
    public var initializer: Initializer?

    enum CodingKeys: String, CodingKey {
        case type, out, kernel, stride, padding, size, p, slope, pieces, bias
        case initializer = "init"
    }

    public init(type: String, out: Int? = nil, kernel: Int? = nil, stride: Int? = nil, padding: Int? = nil, size: Int? = nil,
                p: Float? = nil, slope: Float? = nil, pieces: Int? = nil, bias: Bool? = nil, initializer: Initializer? = nil) {
        self.type = type; self.out = out; self.kernel = kernel; self.stride = stride; self.padding = padding
        self.size = size; self.p = p; self.slope = slope; self.pieces = pieces; self.bias = bias; self.initializer = initializer
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try rejectUnknownKeys(decoder, known: ["type", "out", "kernel", "stride", "padding", "size", "p", "slope", "pieces", "bias", "init"])
        type = try c.decode(String.self, forKey: .type).lowercased()
        guard LayerSpec.types.contains(type) else {
            throw DecodingError.dataCorruptedError(forKey: .type, in: c,
                debugDescription: "unknown layer type '\(type)' (known: \(LayerSpec.types.joined(separator: ", ")))")
        }
        out = try c.decodeIfPresent(Int.self, forKey: .out)
        kernel = try c.decodeIfPresent(Int.self, forKey: .kernel)
        stride = try c.decodeIfPresent(Int.self, forKey: .stride)
        padding = try c.decodeIfPresent(Int.self, forKey: .padding)
        size = try c.decodeIfPresent(Int.self, forKey: .size)
        p = try c.decodeIfPresent(Float.self, forKey: .p)
        slope = try c.decodeIfPresent(Float.self, forKey: .slope)
        pieces = try c.decodeIfPresent(Int.self, forKey: .pieces)
        bias = try c.decodeIfPresent(Bool.self, forKey: .bias)
        initializer = try c.decodeIfPresent(Initializer.self, forKey: .initializer)
        func positive(_ v: Int?, _ key: CodingKeys) throws {
            if let v, v <= 0 { throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "must be positive, got \(v)") }
        }
        try positive(out, .out); try positive(kernel, .kernel); try positive(stride, .stride)
        try positive(size, .size); try positive(pieces, .pieces)
        if let padding, padding < 0 { throw DecodingError.dataCorruptedError(forKey: .padding, in: c, debugDescription: "must be non-negative, got \(padding)") }
        if let p, !(p >= 0 && p < 1) { throw DecodingError.dataCorruptedError(forKey: .p, in: c, debugDescription: "dropout probability must be in [0, 1), got \(p)") }
        let needsOut = ["linear", "conv2d", "maxout"]
        if needsOut.contains(type) && out == nil {
            throw DecodingError.keyNotFound(CodingKeys.out, .init(codingPath: c.codingPath, debugDescription: "\(type) needs 'out'"))
        }
        if type == "conv2d" && kernel == nil {
            throw DecodingError.keyNotFound(CodingKeys.kernel, .init(codingPath: c.codingPath, debugDescription: "conv2d needs 'kernel'"))
        }
    }

    var isShapeOnly: Bool { ["flatten", "dropout", "batchnorm"].contains(type) }
    var wantsHe: Bool { ["relu", "leakyrelu", "softplus"].contains(type) }

    func make(input: [Int], initializer: Initializer) throws -> Layer {
        func features() throws -> Int {
            guard input.count == 2 else {
                throw CohortError.shape(op: type, detail: "expects flat input [batch, features], got \(shapeString(input)); add a flatten layer first")
            }
            return input[1]
        }
        switch type {
        case "linear": return Linear(try features(), out!, bias: bias ?? true, initializer: initializer)
        case "maxout": return Maxout(try features(), out!, pieces: pieces ?? 2, initializer: initializer)
        case "conv2d":
            guard input.count == 4 else {
                throw CohortError.shape(op: "conv2d", detail: "expects input [batch, channels, height, width], got \(shapeString(input))")
            }
            let k = kernel!, s = stride ?? 1, pad = padding ?? 0
            return Conv2d(input[1], out!, kernel: (k, k), stride: (s, s), padding: (pad, pad), bias: bias ?? true, initializer: initializer)
        case "maxpool", "avgpool":
            let k = size ?? kernel ?? 2
            let s = stride ?? k
            return Pool2d(type == "maxpool" ? .max : .average, window: (k, k), stride: (s, s))
        case "flatten": return Flatten()
        case "dropout": return Dropout(p ?? 0.5)
        case "batchnorm":
            guard input.count == 2 || input.count == 4 else {
                throw CohortError.shape(op: "batchnorm", detail: "expects [batch, features] or [batch, channels, height, width], got \(shapeString(input))")
            }
            return BatchNorm(features: input[1], spatial: input.count == 4)
        case "relu": return Activation(.relu)
        case "leakyrelu": return Activation(.leakyRelu(slope: slope ?? 0.01))
        case "sigmoid": return Activation(.sigmoid)
        case "tanh": return Activation(.tanh)
        case "softplus": return Activation(.softplus)
        case "softmax": return SoftmaxLayer()
        default: throw CohortError.invalid("unknown layer type '\(type)'")
        }
    }
}
