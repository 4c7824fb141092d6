/// Input normalisation applied while batching: byte features become (x/255 - mean) / std,
/// float features (x - mean) / std. One mean and std for all channels.
public struct Normalization: Sendable, Equatable {
    public var mean: Float
    public var std: Float

    public init(mean: Float, std: Float) {
        self.mean = mean
        self.std = std
    }

    /// No shift or scaling (bytes still become x/255).
    public static let identity = Normalization(mean: 0, std: 1)
    /// Fashion-MNIST's training statistics (mean 0.2860, std 0.3530).
    public static let fashionMNIST = Normalization(mean: 0.2860, std: 0.3530)
}
