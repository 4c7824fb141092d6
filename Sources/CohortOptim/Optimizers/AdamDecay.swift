/// What tells `Adam` from `AdamW`: where the weight decay goes, the name in messages, and
/// PyTorch's default decay. Everything else (moments, kernel, state, checks) is one class.
public protocol AdamDecay {
    /// true: `p = p * (1 - lr * wd)` before the update (AdamW); false: `wd * p` added to the gradient (Adam).
    static var decoupled: Bool { get }
    static var name: String { get }
    static var defaultWeightDecay: Float { get }
}

/// Adam's coupled L2 decay, as `torch.optim.Adam` (default 0).
public enum CoupledDecay: AdamDecay {
    public static let decoupled = false
    public static let name = "adam"
    public static let defaultWeightDecay: Float = 0
}

/// AdamW's decoupled decay, as `torch.optim.AdamW` (default 0.01): the kernel then sees the raw gradient.
public enum DecoupledDecay: AdamDecay {
    public static let decoupled = true
    public static let name = "adamw"
    public static let defaultWeightDecay: Float = 0.01
}

public typealias Adam = AdamOptimizer<CoupledDecay>
public typealias AdamW = AdamOptimizer<DecoupledDecay>
