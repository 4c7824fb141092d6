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

    /// The optimizer and its own options (nil: PyTorch's default for it).
    public enum Kind: Sendable, Equatable {
        case sgd(momentum: Float? = nil, dampening: Float? = nil, nesterov: Bool? = nil)
        case adagrad(eps: Float? = nil, lrDecay: Float? = nil, initialAccumulator: Float? = nil)
        case rmsprop(alpha: Float? = nil, eps: Float? = nil, momentum: Float? = nil, centered: Bool? = nil)
        /// betas: [beta1, beta2].
        case adam(betas: [Float]? = nil, eps: Float? = nil)
        case adamw(betas: [Float]? = nil, eps: Float? = nil)

        public var name: String {
            switch self {
            case .sgd: return "sgd"
            case .adagrad: return "adagrad"
            case .rmsprop: return "rmsprop"
            case .adam: return "adam"
            case .adamw: return "adamw"
            }
        }

        /// Every optimizer with its defaults, in the order of `names`.
        public static let withDefaults: [Kind] = [.sgd(), .adagrad(), .rmsprop(), .adam(), .adamw()]
    }

    public var kind: Kind
    /// nil: PyTorch's default for the optimizer (see `learningRate`).
    public var lr: Float?
    public var weightDecay: Float?

    public init(_ kind: Kind, lr: Float? = nil, weightDecay: Float? = nil) {
        self.kind = kind
        self.lr = lr
        self.weightDecay = weightDecay
    }

    public var name: String { kind.name }

    /// The base learning rate: `lr`, or PyTorch's default for the optimizer.
    public var learningRate: Float {
        if let lr { return lr }
        switch kind {
        case .adagrad, .rmsprop: return 0.01
        case .sgd, .adam, .adamw: return 0.001
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

    /// Throws an `OptionIssue` naming the config key; checks the values.
    func resolve() throws -> Resolved {
        if let lr { try OptionCheck.positive(lr, "lr") }
        let decay = weightDecay ?? 0
        switch kind {
        case let .sgd(momentum, dampening, nesterov):
            let o = SGD.Options(momentum: momentum ?? 0, dampening: dampening ?? 0, nesterov: nesterov ?? false, weightDecay: decay)
            try o.check()
            return .sgd(o)
        case let .adagrad(eps, lrDecay, initialAccumulator):
            let o = Adagrad.Options(eps: eps ?? Adagrad.Options().eps, initialAccumulator: initialAccumulator ?? 0, lrDecay: lrDecay ?? 0,
                                    weightDecay: decay)
            try o.check()
            return .adagrad(o)
        case let .rmsprop(alpha, eps, momentum, centered):
            let d = RMSProp.Options()
            let o = RMSProp.Options(alpha: alpha ?? d.alpha, eps: eps ?? d.eps, momentum: momentum ?? 0, centered: centered ?? false,
                                    weightDecay: decay)
            try o.check()
            return .rmsprop(o)
        case let .adam(betas, eps):
            let (beta1, beta2) = try Self.checked(betas)
            let o = Adam.Options(beta1: beta1, beta2: beta2, eps: eps ?? 1e-8, weightDecay: decay)
            try o.check()
            return .adam(o)
        case let .adamw(betas, eps):
            let (beta1, beta2) = try Self.checked(betas)
            let o = AdamW.Options(beta1: beta1, beta2: beta2, eps: eps ?? 1e-8, weightDecay: weightDecay ?? 0.01)
            try o.check()
            return .adamw(o)
        }
    }

    private static func checked(_ betas: [Float]?) throws -> (Float, Float) {
        guard let betas else { return (0.9, 0.999) }
        guard betas.count == 2 else {
            throw OptionIssue(key: "betas", reason: "must be two numbers [beta1, beta2], got \(betas.count)")
        }
        return (betas[0], betas[1])
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
        let lr: Float? = try c.optional("lr")
        let applicable: [String]
        do {
            guard let keys = Self.applicableKeys(name) else {
                throw OptionIssue(key: "name", reason: "unknown optimizer '\(name)' (known: \(Self.names.joined(separator: ", ")))")
            }
            applicable = keys
            if let lr { try OptionCheck.positive(lr, "lr") }
            if let extra = Self.keys.dropFirst(3).first(where: { c.contains(AnyCodingKey($0)) && !applicable.contains($0) }) {
                throw OptionIssue(key: extra, reason: "not used by \(name) (it takes: \(applicable.joined(separator: ", ")))")
            }
        } catch let issue as OptionIssue { throw c.failure(issue.key, issue.reason) }
        let kind: Kind
        switch name {
        case "sgd": kind = .sgd(momentum: try c.optional("momentum"), dampening: try c.optional("dampening"), nesterov: try c.optional("nesterov"))
        case "adagrad": kind = .adagrad(eps: try c.optional("eps"), lrDecay: try c.optional("lr_decay"),
                                        initialAccumulator: try c.optional("initial_accumulator"))
        case "rmsprop": kind = .rmsprop(alpha: try c.optional("alpha"), eps: try c.optional("eps"), momentum: try c.optional("momentum"),
                                        centered: try c.optional("centered"))
        case "adam": kind = .adam(betas: try c.optional("betas"), eps: try c.optional("eps"))
        default: kind = .adamw(betas: try c.optional("betas"), eps: try c.optional("eps"))
        }
        self.init(kind, lr: lr, weightDecay: try c.optional("weight_decay"))
        do { _ = try resolve() } catch let issue as OptionIssue { throw c.failure(issue.key, issue.reason) }
    }

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

    /// Writes the resolved values (defaults filled in) of the keys the optimizer uses, so a run
    /// folder's config says exactly what ran.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: AnyCodingKey.self)
        try c.encode(name, forKey: AnyCodingKey("name"))
        try c.encode(learningRate, forKey: AnyCodingKey("lr"))
        func put<T: Encodable>(_ value: T?, _ key: String) throws { try c.encodeIfPresent(value, forKey: AnyCodingKey(key)) }
        guard let resolved = try? resolve() else {
            // Not valid: write what was given, so the problem stays visible.
            try put(weightDecay, "weight_decay")
            switch kind {
            case let .sgd(momentum, dampening, nesterov):
                try put(momentum, "momentum"); try put(dampening, "dampening"); try put(nesterov, "nesterov")
            case let .adagrad(eps, lrDecay, initialAccumulator):
                try put(eps, "eps"); try put(lrDecay, "lr_decay"); try put(initialAccumulator, "initial_accumulator")
            case let .rmsprop(alpha, eps, momentum, centered):
                try put(alpha, "alpha"); try put(eps, "eps"); try put(momentum, "momentum"); try put(centered, "centered")
            case let .adam(betas, eps), let .adamw(betas, eps):
                try put(betas, "betas"); try put(eps, "eps")
            }
            return
        }
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
