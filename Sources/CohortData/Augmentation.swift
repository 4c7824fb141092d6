/// Random changes applied to each image while it is converted into a batch; all off by default.
///
/// Shifts and flips need image-shaped samples ([C, H, W] or [H, W]); noise works on any sample.
public struct Augmentation: Sendable, Equatable {
    /// Moves each image by dx, dy drawn uniformly from -maxShift...maxShift, filling the uncovered
    /// border with raw zero (black), as torchvision's RandomCrop(size, padding: maxShift) does
    /// before Normalize.
    public var maxShift: Int
    /// Chance that an image is mirrored left to right.
    public var horizontalFlipProbability: Float
    /// Standard deviation of Gaussian noise added to every value after normalisation.
    public var noiseStd: Float

    public init(maxShift: Int = 0, horizontalFlipProbability: Float = 0, noiseStd: Float = 0) {
        self.maxShift = maxShift
        self.horizontalFlipProbability = horizontalFlipProbability
        self.noiseStd = noiseStd
    }

    public static let none = Augmentation()

    /// Whether images need the per-row path (shift or flip).
    var movesPixels: Bool { maxShift > 0 || horizontalFlipProbability > 0 }
}
