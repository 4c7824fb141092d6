import Cohort

/// An optimizer as written in a run config, e.g. `{name: sgd, lr: 0.1, momentum: 0.9, nesterov: true}`.
///
/// Keys (snake_case): name, lr, weight_decay; sgd: momentum, dampening, nesterov; adagrad: eps,
/// lr_decay, initial_accumulator; rmsprop: alpha, eps, momentum, centered; adam, adamw: betas, eps.
/// Unset values take PyTorch's defaults for the named optimizer. Decoding rejects unknown keys, keys
/// the named optimizer does not use, and out-of-range values, naming the key and the reason.
/// `lr` is the base rate the schedule starts from; the optimizer itself gets a rate every step.
public struct OptimizerConfig: Codable, Sendable, Equatable {
    public static let names = ["sgd", "adagrad", "rmsprop", "adam", "adamw"]
    static let keys = ["name", "lr", "weight_decay", "momentum", "dampening", "nesterov", "betas", "eps",
                       "alpha", "centered", "lr_decay", "initial_accumulator"]

    public var name: String
    /// nil: PyTorch's default for `name` (see `learningRate`).
    public var lr: Float?
    public var weightDecay: Float?
    public var momentum: Float?
    public var dampening: Float?
    public var nesterov: Bool?
    /// [beta1, beta2].
    public var betas: [Float]?
    public var eps: Float?
    public var alpha: Float?
    public var centered: Bool?
    public var lrDecay: Float?
    public var initialAccumulator: Float?

    public init(name: String, lr: Float? = nil, weightDecay: Float? = nil, momentum: Float? = nil, dampening: Float? = nil,
                nesterov: Bool? = nil, betas: [Float]? = nil, eps: Float? = nil, alpha: Float? = nil, centered: Bool? = nil,
                lrDecay: Float? = nil, initialAccumulator: Float? = nil) {
        self.name = name
        self.lr = lr
        self.weightDecay = weightDecay
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.betas = betas
        self.eps = eps
        self.alpha = alpha
        self.centered = centered
        self.lrDecay = lrDecay
        self.initialAccumulator = initialAccumulator
    }

    /// The base learning rate: `lr`, or PyTorch's default for the optimizer.
    public var learningRate: Float { lr ?? (["adagrad", "rmsprop"].contains(name) ? 0.01 : 0.001) }

    /// The keys `name` uses (nil for an unknown name).
    static func applicableKeys(_ name: String) -> [String]? {
        let common = ["name", "lr", "weight_decay"]
        switch name {
        case "sgd": return common + ["momentum", "dampening", "nesterov"]
        case "adagrad": return common + ["eps", "lr_decay", "initial_accumulator"]
        case "rmsprop": return common + ["alpha", "eps", "momentum", "centered"]
        case "adam", "adamw": return common + ["betas", "eps"]
        default: return nil
        }
    }

    /// The named optimizer's options, fully resolved and checked.
    enum Resolved {
        case sgd(SGD.Options)
        case adagrad(Adagrad.Options)
        case rmsprop(RMSProp.Options)
        case adam(Adam.Options)
        case adamw(AdamW.Options)
    }

    /// Throws an `OptionIssue` naming the config key; checks only values, not which keys are set.
    func resolve() throws -> Resolved {
        guard let applicable = Self.applicableKeys(name) else {
            throw OptionIssue(key: "name", reason: "unknown optimizer '\(name)' (known: \(Self.names.joined(separator: ", ")))")
        }
        if let lr { try OptionCheck.positive(lr, "lr") }
        if let extra = setKeys.first(where: { !applicable.contains($0) }) {
            throw OptionIssue(key: extra, reason: "not used by \(name) (it takes: \(applicable.joined(separator: ", ")))")
        }
        let resolved: Resolved
        switch name {
        case "sgd":
            let o = SGD.Options(momentum: momentum ?? 0, dampening: dampening ?? 0, nesterov: nesterov ?? false, weightDecay: weightDecay ?? 0)
            try o.check()
            resolved = .sgd(o)
        case "adagrad":
            let d = Adagrad.Options()
            let o = Adagrad.Options(eps: eps ?? d.eps, initialAccumulator: initialAccumulator ?? 0, lrDecay: lrDecay ?? 0,
                                    weightDecay: weightDecay ?? 0)
            try o.check()
            resolved = .adagrad(o)
        case "rmsprop":
            let d = RMSProp.Options()
            let o = RMSProp.Options(alpha: alpha ?? d.alpha, eps: eps ?? d.eps, momentum: momentum ?? 0, centered: centered ?? false,
                                    weightDecay: weightDecay ?? 0)
            try o.check()
            resolved = .rmsprop(o)
        default:
            let (beta1, beta2) = try checkedBetas()
            if name == "adam" {
                let o = Adam.Options(beta1: beta1, beta2: beta2, eps: eps ?? 1e-8, weightDecay: weightDecay ?? 0)
                try o.check()
                resolved = .adam(o)
            } else {
                let o = AdamW.Options(beta1: beta1, beta2: beta2, eps: eps ?? 1e-8, weightDecay: weightDecay ?? 0.01)
                try o.check()
                resolved = .adamw(o)
            }
        }
        return resolved
    }

    private func checkedBetas() throws -> (Float, Float) {
        guard let betas else { return (0.9, 0.999) }
        guard betas.count == 2 else {
            throw OptionIssue(key: "betas", reason: "must be two numbers [beta1, beta2], got \(betas.count)")
        }
        return (betas[0], betas[1])
    }

    /// Config keys that hold a value.
    private var setKeys: [String] {
        let values: [(String, Any?)] = [("weight_decay", weightDecay), ("momentum", momentum), ("dampening", dampening),
                                        ("nesterov", nesterov), ("betas", betas), ("eps", eps), ("alpha", alpha),
                                        ("centered", centered), ("lr_decay", lrDecay), ("initial_accumulator", initialAccumulator)]
        return values.filter { $0.1 != nil }.map(\.0)
    }

    /// Throws "optimizer.<key>: <reason>" if the config is invalid (for configs built in code).
    public func validate() throws {
        do { _ = try resolve() } catch let issue as OptionIssue { throw issue.error(in: "optimizer") }
    }

    /// The configured optimizer for an arena of `parameterCount` floats; `decayRanges` limits weight
    /// decay (nil: everywhere; `ParameterArena.decayRanges` for weights only).
    public func makeOptimizer(parameterCount: Int, decayRanges: [Range<Int>]? = nil) throws -> any Optimizer {
        let resolved: Resolved
        do { resolved = try resolve() } catch let issue as OptionIssue { throw issue.error(in: "optimizer") }
        switch resolved {
        case let .sgd(o): return try SGD(parameterCount: parameterCount, options: o, decayRanges: decayRanges)
        case let .adagrad(o): return try Adagrad(parameterCount: parameterCount, options: o, decayRanges: decayRanges)
        case let .rmsprop(o): return try RMSProp(parameterCount: parameterCount, options: o, decayRanges: decayRanges)
        case let .adam(o): return try Adam(parameterCount: parameterCount, options: o, decayRanges: decayRanges)
        case let .adamw(o): return try AdamW(parameterCount: parameterCount, options: o, decayRanges: decayRanges)
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        try c.rejectUnknownKeys(known: Self.keys)
        guard let name = try c.optional("name", as: String.self) else {
            throw DecodingError.keyNotFound(AnyCodingKey("name"), .init(codingPath: c.codingPath, debugDescription: "choose one of: \(Self.names.joined(separator: ", "))"))
        }
        self.init(name: name, lr: try c.optional("lr"), weightDecay: try c.optional("weight_decay"), momentum: try c.optional("momentum"),
                  dampening: try c.optional("dampening"), nesterov: try c.optional("nesterov"), betas: try c.optional("betas"),
                  eps: try c.optional("eps"), alpha: try c.optional("alpha"), centered: try c.optional("centered"),
                  lrDecay: try c.optional("lr_decay"), initialAccumulator: try c.optional("initial_accumulator"))
        do { _ = try resolve() } catch let issue as OptionIssue { throw c.failure(issue.key, issue.reason) }
    }

    /// Writes the resolved values (defaults filled in) of the keys the optimizer uses, so a run
    /// folder's config says exactly what ran.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: AnyCodingKey.self)
        try c.encode(name, forKey: AnyCodingKey("name"))
        try c.encode(learningRate, forKey: AnyCodingKey("lr"))
        guard let resolved = try? resolve() else {
            // Not valid: write what was given, so the problem stays visible.
            for (key, value) in [("weight_decay", weightDecay), ("momentum", momentum), ("dampening", dampening), ("eps", eps),
                                 ("alpha", alpha), ("lr_decay", lrDecay), ("initial_accumulator", initialAccumulator)] {
                try c.encodeIfPresent(value, forKey: AnyCodingKey(key))
            }
            try c.encodeIfPresent(nesterov, forKey: AnyCodingKey("nesterov"))
            try c.encodeIfPresent(centered, forKey: AnyCodingKey("centered"))
            try c.encodeIfPresent(betas, forKey: AnyCodingKey("betas"))
            return
        }
        func put<T: Encodable>(_ value: T, _ key: String) throws { try c.encode(value, forKey: AnyCodingKey(key)) }
        switch resolved {
        case let .sgd(o):
            try put(o.weightDecay, "weight_decay"); try put(o.momentum, "momentum")
            try put(o.dampening, "dampening"); try put(o.nesterov, "nesterov")
        case let .adagrad(o):
            try put(o.weightDecay, "weight_decay"); try put(o.eps, "eps")
            try put(o.lrDecay, "lr_decay"); try put(o.initialAccumulator, "initial_accumulator")
        case let .rmsprop(o):
            try put(o.weightDecay, "weight_decay"); try put(o.alpha, "alpha"); try put(o.eps, "eps")
            try put(o.momentum, "momentum"); try put(o.centered, "centered")
        case let .adam(o):
            try put(o.weightDecay, "weight_decay"); try put([o.beta1, o.beta2], "betas"); try put(o.eps, "eps")
        case let .adamw(o):
            try put(o.weightDecay, "weight_decay"); try put([o.beta1, o.beta2], "betas"); try put(o.eps, "eps")
        }
    }
}
