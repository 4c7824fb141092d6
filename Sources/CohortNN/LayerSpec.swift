import Cohort

/// One layer of a ModelSpec. Keys: type (required), out, kernel, stride, padding, size, p, slope,
/// pieces, bias, init; `layers` and `projection` (auto|always|never) of a residual block, whose
/// `init` is its projection's; `eps` of layernorm.
public struct LayerSpec: Codable, Equatable, Sendable {
    public static let types = ["linear", "conv2d", "maxpool", "avgpool", "flatten", "dropout", "batchnorm",
                               "relu", "leakyrelu", "sigmoid", "tanh", "softplus", "maxout", "softmax",
                               "residual", "globalavgpool", "layernorm"]
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
    /// A residual block's body.
    public var layers: [LayerSpec]?
    public var projection: ShortcutProjection?
    /// LayerNorm's epsilon (1e-5 as in PyTorch).
    public var eps: Float?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case type, out, kernel, stride, padding, size, p, slope, pieces, bias
        case initializer = "init"
        case layers, projection, eps
    }

    public init(type: String, out: Int? = nil, kernel: Int? = nil, stride: Int? = nil, padding: Int? = nil, size: Int? = nil,
                p: Float? = nil, slope: Float? = nil, pieces: Int? = nil, bias: Bool? = nil, initializer: Initializer? = nil,
                layers: [LayerSpec]? = nil, projection: ShortcutProjection? = nil, eps: Float? = nil) {
        self.type = type; self.out = out; self.kernel = kernel; self.stride = stride; self.padding = padding
        self.size = size; self.p = p; self.slope = slope; self.pieces = pieces; self.bias = bias; self.initializer = initializer
        self.layers = layers; self.projection = projection; self.eps = eps
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try rejectUnknownKeys(decoder, known: Set(CodingKeys.allKeys))
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
        // Keys of one type only: on another type they would be silently ignored.
        for (key, owner) in [(CodingKeys.layers, "residual"), (.projection, "residual"), (.eps, "layernorm")] where c.contains(key) && type != owner {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "only a \(owner) layer has '\(key.stringValue)'")
        }
        layers = try c.decodeIfPresent([LayerSpec].self, forKey: .layers)
        projection = try c.decodeIfPresent(ShortcutProjection.self, forKey: .projection)
        eps = try c.decodeIfPresent(Float.self, forKey: .eps)
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
        if type == "residual" {
            guard let layers else {
                throw DecodingError.keyNotFound(CodingKeys.layers, .init(codingPath: c.codingPath, debugDescription: "residual needs 'layers'"))
            }
            if layers.isEmpty { throw DecodingError.dataCorruptedError(forKey: .layers, in: c, debugDescription: "a residual block needs at least one layer") }
        }
        if let eps, !(eps > 0 && eps.isFinite) { throw DecodingError.dataCorruptedError(forKey: .eps, in: c, debugDescription: "must be positive, got \(eps)") }
    }

    /// Layers that pass the scale of their input on (for the choice of the previous layer's initialiser).
    var isShapeOnly: Bool { ["flatten", "dropout", "batchnorm", "layernorm"].contains(type) }
    var wantsHe: Bool { ["relu", "leakyrelu", "softplus"].contains(type) }

    /// The layer for `input`. Not a residual block: `ModelSpec.build` makes those, with their body.
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
        case "layernorm":
            guard input.count >= 2 else {
                throw CohortError.shape(op: "layernorm", detail: "expects [batch, features...], got \(shapeString(input))")
            }
            return LayerNorm(normalizedShape: Array(input.dropFirst()), epsilon: eps ?? 1e-5)
        case "globalavgpool": return GlobalAvgPool()
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
