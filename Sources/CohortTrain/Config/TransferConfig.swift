import Cohort

/// Which examples the student learns the teacher's outputs on (`distill.transfer.set`).
public enum TransferSetKind: String, ConfigChoice {
    /// The training set.
    case train
    /// The training set plus (multiplier - 1) copies with random shifts, flips and pixel noise.
    case augmented
    /// The training set plus (multiplier - 1) MUNGE copies (Bucilua et al. 2006), unlabelled.
    case munge
    /// Like augmented, but no example keeps its label (alpha = 1 everywhere).
    case unlabeled
    /// The training set plus (multiplier - 1) training sets' worth of images sampled from a
    /// variational autoencoder trained on the training images (`generator`), unlabelled.
    case generated
}

/// The examples the student learns the teacher's outputs on: a `TransferSetKind`;
/// `images` adds unlabelled images from an IDX file (N x H x W bytes) to any of them.
/// With a cached teacher the set is drawn once, from the run's seed, and the teacher labels each
/// example once; with an online teacher (`distill.teacher_mode: online`) every batch is augmented
/// afresh (shift, flip, noise, then mixup or cutmix) and the teacher labels that very batch.
public struct TransferConfig: Codable, Sendable, Equatable {
    public var set: TransferSetKind = .train
    /// Size of the transfer set in training sets (an integer >= 1).
    public var multiplier: Int = 1
    /// Shifts of up to `shift` pixels, mirroring with probability `flip`, Gaussian noise of `noise`
    /// (in [0, 1] pixel units): baked into the copies of a cached augmented set, or applied to every
    /// batch with an online teacher.
    public var shift: Int = 2
    public var flip: Float = 0
    public var noise: Float = 0
    /// MUNGE: each pixel is swapped with the nearest neighbour's with probability p, resampled
    /// from a normal of standard deviation |a - b| / s around the neighbour's value.
    public var mungeP: Float = 0.5
    public var mungeS: Float = 2
    /// Extra unlabelled images (IDX, plain or gzip), taught with alpha = 1.
    public var images: String?
    /// Mixup (Zhang et al. 2018) of each batch with an online teacher: every example is blended
    /// with a random partner of its batch by a weight drawn from Beta(mixup, mixup); 0: off.
    public var mixup: Float = 0
    /// CutMix (Yun et al. 2019): a box of the partner pasted in, its area drawn from Beta(cutmix,
    /// cutmix); 0: off. With both on, each example takes one of the two with equal chance.
    public var cutmix: Float = 0
    /// The variational autoencoder of a `generated` set.
    public var generator: GeneratorConfig?

    public var mixes: Bool { mixup > 0 || cutmix > 0 }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case set, multiplier, shift, flip, noise, mungeP = "munge_p", mungeS = "munge_s", images, mixup, cutmix, generator
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        try rejectUnknownKeys(decoder, known: Set(CodingKeys.allKeys))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        set = try c.decodeIfPresent(TransferSetKind.self, forKey: .set) ?? set
        multiplier = try c.decodeIfPresent(Int.self, forKey: .multiplier) ?? multiplier
        shift = try c.decodeIfPresent(Int.self, forKey: .shift) ?? shift
        flip = try c.decodeIfPresent(Float.self, forKey: .flip) ?? flip
        noise = try c.decodeIfPresent(Float.self, forKey: .noise) ?? noise
        mungeP = try c.decodeIfPresent(Float.self, forKey: .mungeP) ?? mungeP
        mungeS = try c.decodeIfPresent(Float.self, forKey: .mungeS) ?? mungeS
        images = try c.decodeIfPresent(String.self, forKey: .images)
        mixup = try c.decodeIfPresent(Float.self, forKey: .mixup) ?? mixup
        cutmix = try c.decodeIfPresent(Float.self, forKey: .cutmix) ?? cutmix
        generator = try c.decodeIfPresent(GeneratorConfig.self, forKey: .generator)
        func fail(_ key: CodingKeys, _ why: String) -> DecodingError { DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: why) }
        if multiplier < 1 { throw fail(.multiplier, "must be at least 1, got \(multiplier)") }
        if set == .train && multiplier != 1 {
            throw fail(.multiplier, "the 'train' transfer set is the training set once; use 'augmented', 'munge' or 'generated' for more")
        }
        if shift < 0 { throw fail(.shift, "must be non-negative, got \(shift)") }
        if !(flip >= 0 && flip <= 1) { throw fail(.flip, "must be in [0, 1], got \(flip)") }
        if !(noise >= 0 && noise.isFinite) { throw fail(.noise, "must be non-negative, got \(noise)") }
        if !(mungeP >= 0 && mungeP <= 1) { throw fail(.mungeP, "must be in [0, 1], got \(mungeP)") }
        if !(mungeS > 0 && mungeS.isFinite) { throw fail(.mungeS, "must be positive, got \(mungeS)") }
        if !(mixup >= 0 && mixup.isFinite) { throw fail(.mixup, "must be a non-negative Beta parameter (0: off), got \(mixup)") }
        if !(cutmix >= 0 && cutmix.isFinite) { throw fail(.cutmix, "must be a non-negative Beta parameter (0: off), got \(cutmix)") }
        if set == .generated && multiplier < 2 {
            throw fail(.multiplier, "a 'generated' set adds (multiplier - 1) training sets' worth of generated images: use 2 or more, got \(multiplier)")
        }
        if set == .generated && generator == nil { generator = GeneratorConfig() }
        if set != .generated && generator != nil { throw fail(.generator, "is for set: generated (this set is '\(set.rawValue)')") }
    }
}
