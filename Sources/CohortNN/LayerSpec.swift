import Cohort

/// One layer of a ModelSpec: its type with the options that type takes, and the initialiser of its
/// weights. In a config, keys: type (required); out (linear, conv2d, maxout); kernel, stride,
/// padding, bias (conv2d; bias also linear); size, stride (maxpool, avgpool; `kernel` is size's
/// other name there); p (dropout); slope (leakyrelu); pieces (maxout); eps (layernorm); `layers`
/// and `projection` (auto|always|never) of a residual block, whose `init` is its projection's;
/// `init` on layers with weights. A key the type does not take is refused, naming it.
public struct LayerSpec: Codable, Equatable, Sendable {
    public static let types = ["linear", "conv2d", "maxpool", "avgpool", "flatten", "dropout", "batchnorm",
                               "relu", "leakyrelu", "sigmoid", "tanh", "softplus", "maxout", "softmax",
                               "residual", "globalavgpool", "layernorm"]

    /// A layer type and its options (nil: the default the layer documents).
    public enum Kind: Equatable, Sendable {
        case linear(out: Int, bias: Bool? = nil)
        case conv2d(out: Int, kernel: Int, stride: Int? = nil, padding: Int? = nil, bias: Bool? = nil)
        /// `size` (2 by default; `kernel` in a config is the same) and `stride` (the size by default).
        case maxpool(size: Int? = nil, stride: Int? = nil)
        case avgpool(size: Int? = nil, stride: Int? = nil)
        case flatten
        case dropout(p: Float? = nil)
        case batchnorm
        /// LayerNorm's epsilon (1e-5 as in PyTorch).
        case layernorm(eps: Float? = nil)
        case relu
        case leakyrelu(slope: Float? = nil)
        case sigmoid
        case tanh
        case softplus
        case softmax
        case maxout(out: Int, pieces: Int? = nil)
        /// body(x) + x, or + a 1x1 projection when the shape changes (`projection`).
        case residual(layers: [LayerSpec], projection: ShortcutProjection? = nil)
        case globalavgpool

        public var type: String {
            switch self {
            case .linear: return "linear"
            case .conv2d: return "conv2d"
            case .maxpool: return "maxpool"
            case .avgpool: return "avgpool"
            case .flatten: return "flatten"
            case .dropout: return "dropout"
            case .batchnorm: return "batchnorm"
            case .layernorm: return "layernorm"
            case .relu: return "relu"
            case .leakyrelu: return "leakyrelu"
            case .sigmoid: return "sigmoid"
            case .tanh: return "tanh"
            case .softplus: return "softplus"
            case .softmax: return "softmax"
            case .maxout: return "maxout"
            case .residual: return "residual"
            case .globalavgpool: return "globalavgpool"
            }
        }
    }

    public var kind: Kind
    /// The weights' initialiser (nil: the one the next activation wants, `ModelSpec.build`).
    public var initializer: Initializer?

    public init(_ kind: Kind, initializer: Initializer? = nil) {
        self.kind = kind
        self.initializer = initializer
    }

    public var type: String { kind.type }

    /// The output size of a linear, conv2d or maxout layer (nil for the others).
    public var out: Int? {
        switch kind {
        case let .linear(out, _), let .conv2d(out, _, _, _, _), let .maxout(out, _): return out
        default: return nil
        }
    }

    /// A residual block's body and its projection choice (nil for other layers).
    public var layers: [LayerSpec]? {
        if case let .residual(layers, _) = kind { return layers }
        return nil
    }

    public var projection: ShortcutProjection? {
        if case let .residual(_, projection) = kind { return projection }
        return nil
    }

    /// A layernorm's epsilon (nil: the default, or not a layernorm).
    public var eps: Float? {
        if case let .layernorm(eps) = kind { return eps }
        return nil
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case type, out, kernel, stride, padding, size, p, slope, pieces, bias
        case initializer = "init"
        case layers, projection, eps
    }

    /// The keys a type takes besides `type`.
    static func keys(of type: String) -> [CodingKeys] {
        switch type {
        case "linear": return [.out, .bias, .initializer]
        case "conv2d": return [.out, .kernel, .stride, .padding, .bias, .initializer]
        case "maxpool", "avgpool": return [.kernel, .stride, .size]
        case "dropout": return [.p]
        case "layernorm": return [.eps]
        case "leakyrelu": return [.slope]
        case "maxout": return [.out, .pieces, .initializer]
        case "residual": return [.layers, .projection, .initializer]
        default: return []
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try rejectUnknownKeys(decoder, known: Set(CodingKeys.allKeys))
        let type = try c.decode(String.self, forKey: .type).lowercased()
        guard LayerSpec.types.contains(type) else {
            throw DecodingError.dataCorruptedError(forKey: .type, in: c,
                debugDescription: "unknown layer type '\(type)' (known: \(LayerSpec.types.joined(separator: ", ")))")
        }
        // Keys of other types only: on this one they would be silently ignored.
        let takes = Self.keys(of: type)
        for key in CodingKeys.allCases where key != .type && c.contains(key) && !takes.contains(key) {
            let owners = LayerSpec.types.filter { Self.keys(of: $0).contains(key) }
            throw DecodingError.dataCorruptedError(forKey: key, in: c,
                debugDescription: owners.count == 1 ? "only a \(owners[0]) layer has '\(key.stringValue)'"
                    : "a \(type) layer has no '\(key.stringValue)' (\(owners.joined(separator: ", ")) do)")
        }
        func positive(_ key: CodingKeys) throws -> Int? {
            guard let v = try c.decodeIfPresent(Int.self, forKey: key) else { return nil }
            if v <= 0 { throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "must be positive, got \(v)") }
            return v
        }
        func required(_ key: CodingKeys) throws -> Int {
            guard let v = try positive(key) else {
                throw DecodingError.keyNotFound(key, .init(codingPath: c.codingPath, debugDescription: "\(type) needs '\(key.stringValue)'"))
            }
            return v
        }
        let bias = try c.decodeIfPresent(Bool.self, forKey: .bias)
        initializer = try c.decodeIfPresent(Initializer.self, forKey: .initializer)
        switch type {
        case "linear": kind = .linear(out: try required(.out), bias: bias)
        case "conv2d":
            let out = try required(.out), kernel = try required(.kernel), stride = try positive(.stride)
            let padding = try c.decodeIfPresent(Int.self, forKey: .padding)
            if let padding, padding < 0 { throw DecodingError.dataCorruptedError(forKey: .padding, in: c, debugDescription: "must be non-negative, got \(padding)") }
            kind = .conv2d(out: out, kernel: kernel, stride: stride, padding: padding, bias: bias)
        case "maxpool", "avgpool":
            let kernel = try positive(.kernel), stride = try positive(.stride), size = try positive(.size) ?? kernel
            kind = type == "maxpool" ? .maxpool(size: size, stride: stride) : .avgpool(size: size, stride: stride)
        case "dropout":
            let p = try c.decodeIfPresent(Float.self, forKey: .p)
            if let p, !(p >= 0 && p < 1) { throw DecodingError.dataCorruptedError(forKey: .p, in: c, debugDescription: "dropout probability must be in [0, 1), got \(p)") }
            kind = .dropout(p: p)
        case "layernorm":
            let eps = try c.decodeIfPresent(Float.self, forKey: .eps)
            if let eps, !(eps > 0 && eps.isFinite) { throw DecodingError.dataCorruptedError(forKey: .eps, in: c, debugDescription: "must be positive, got \(eps)") }
            kind = .layernorm(eps: eps)
        case "leakyrelu": kind = .leakyrelu(slope: try c.decodeIfPresent(Float.self, forKey: .slope))
        case "maxout": kind = .maxout(out: try required(.out), pieces: try positive(.pieces))
        case "residual":
            guard let layers = try c.decodeIfPresent([LayerSpec].self, forKey: .layers) else {
                throw DecodingError.keyNotFound(CodingKeys.layers, .init(codingPath: c.codingPath, debugDescription: "residual needs 'layers'"))
            }
            if layers.isEmpty { throw DecodingError.dataCorruptedError(forKey: .layers, in: c, debugDescription: "a residual block needs at least one layer") }
            kind = .residual(layers: layers, projection: try c.decodeIfPresent(ShortcutProjection.self, forKey: .projection))
        case "flatten": kind = .flatten
        case "batchnorm": kind = .batchnorm
        case "relu": kind = .relu
        case "sigmoid": kind = .sigmoid
        case "tanh": kind = .tanh
        case "softplus": kind = .softplus
        case "softmax": kind = .softmax
        default: kind = .globalavgpool
        }
    }

    /// The keys that are set, in the order a config lists them.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(type, forKey: .type)
        switch kind {
        case let .linear(out, bias):
            try c.encode(out, forKey: .out)
            try c.encodeIfPresent(bias, forKey: .bias)
        case let .conv2d(out, kernel, stride, padding, bias):
            try c.encode(out, forKey: .out)
            try c.encode(kernel, forKey: .kernel)
            try c.encodeIfPresent(stride, forKey: .stride)
            try c.encodeIfPresent(padding, forKey: .padding)
            try c.encodeIfPresent(bias, forKey: .bias)
        case let .maxpool(size, stride), let .avgpool(size, stride):
            try c.encodeIfPresent(stride, forKey: .stride)
            try c.encodeIfPresent(size, forKey: .size)
        case let .dropout(p): try c.encodeIfPresent(p, forKey: .p)
        case let .leakyrelu(slope): try c.encodeIfPresent(slope, forKey: .slope)
        case let .maxout(out, pieces):
            try c.encode(out, forKey: .out)
            try c.encodeIfPresent(pieces, forKey: .pieces)
        case .residual, .layernorm, .flatten, .batchnorm, .relu, .sigmoid, .tanh, .softplus, .softmax, .globalavgpool: break
        }
        try c.encodeIfPresent(initializer, forKey: .initializer)
        switch kind {
        case let .residual(layers, projection):
            try c.encode(layers, forKey: .layers)
            try c.encodeIfPresent(projection, forKey: .projection)
        case let .layernorm(eps): try c.encodeIfPresent(eps, forKey: .eps)
        default: break
        }
    }

    /// Layers that pass the scale of their input on (for the choice of the previous layer's initialiser).
    var isShapeOnly: Bool {
        switch kind {
        case .flatten, .dropout, .batchnorm, .layernorm: return true
        default: return false
        }
    }

    var wantsHe: Bool {
        switch kind {
        case .relu, .leakyrelu, .softplus: return true
        default: return false
        }
    }

    /// The layer for `input`. Not a residual block: `ModelSpec.build` makes those, with their body.
    func make(input: [Int], initializer: Initializer) throws -> Layer {
        func features() throws -> Int {
            guard input.count == 2 else {
                throw CohortError.shape(op: type, detail: "expects flat input [batch, features], got \(shapeString(input)); add a flatten layer first")
            }
            return input[1]
        }
        switch kind {
        case let .linear(out, bias): return Linear(try features(), out, bias: bias ?? true, initializer: initializer)
        case let .maxout(out, pieces): return Maxout(try features(), out, pieces: pieces ?? 2, initializer: initializer)
        case let .conv2d(out, k, stride, padding, bias):
            guard input.count == 4 else {
                throw CohortError.shape(op: "conv2d", detail: "expects input [batch, channels, height, width], got \(shapeString(input))")
            }
            let s = stride ?? 1, pad = padding ?? 0
            return Conv2d(input[1], out, kernel: (k, k), stride: (s, s), padding: (pad, pad), bias: bias ?? true, initializer: initializer)
        case let .maxpool(size, stride), let .avgpool(size, stride):
            let k = size ?? 2
            let s = stride ?? k
            if case .maxpool = kind { return Pool2d(.max, window: (k, k), stride: (s, s)) }
            return Pool2d(.average, window: (k, k), stride: (s, s))
        case .flatten: return Flatten()
        case let .dropout(p): return Dropout(p ?? 0.5)
        case .batchnorm:
            guard input.count == 2 || input.count == 4 else {
                throw CohortError.shape(op: "batchnorm", detail: "expects [batch, features] or [batch, channels, height, width], got \(shapeString(input))")
            }
            return BatchNorm(features: input[1], spatial: input.count == 4)
        case let .layernorm(eps):
            guard input.count >= 2 else {
                throw CohortError.shape(op: "layernorm", detail: "expects [batch, features...], got \(shapeString(input))")
            }
            return LayerNorm(normalizedShape: Array(input.dropFirst()), epsilon: eps ?? 1e-5)
        case .globalavgpool: return GlobalAvgPool()
        case .relu: return Activation(.relu)
        case let .leakyrelu(slope): return Activation(.leakyRelu(slope: slope ?? 0.01))
        case .sigmoid: return Activation(.sigmoid)
        case .tanh: return Activation(.tanh)
        case .softplus: return Activation(.softplus)
        case .softmax: return SoftmaxLayer()
        case .residual: throw CohortError.invalid("a residual block is built by ModelSpec.build")
        }
    }
}
