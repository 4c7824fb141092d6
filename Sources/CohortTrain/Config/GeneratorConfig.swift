import Cohort

/// The variational autoencoder (Kingma & Welling 2014) that makes a `generated` transfer set
/// (`distill.transfer.generator`): an MLP encoder D -> hidden -> (mean, log-variance) of a
/// `latent`-dimensional Gaussian, an MLP decoder latent -> hidden -> D pixel logits, trained with
/// Adam on the training images (Bernoulli likelihood on [0, 1] pixels plus the KL term), then
/// sampled from the N(0, I) prior. `cohort distill` trains it once and keeps it in the run folder
/// (`generator/vae.safetensors`, reused by a later run with the same settings), or loads `checkpoint`.
public struct GeneratorConfig: Codable, Sendable, Equatable {
    /// A VAE written by an earlier `cohort distill` (its `generator/vae.safetensors`): no training.
    public var checkpoint: String?
    public var latent: Int = 20
    public var hidden: Int = 400
    public var epochs: Int = 20
    /// Examples per step on each rank (data-parallel under mpirun, like every training stage).
    public var batchSize: Int = 128
    /// Adam's learning rate.
    public var lr: Float = 0.001

    enum CodingKeys: String, CodingKey, CaseIterable { case checkpoint, latent, hidden, epochs, batchSize = "batch_size", lr }

    public init() {}

    public init(from decoder: Decoder) throws {
        try rejectUnknownKeys(decoder, known: Set(CodingKeys.allKeys))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        checkpoint = try c.decodeIfPresent(String.self, forKey: .checkpoint)
        latent = try c.decodeIfPresent(Int.self, forKey: .latent) ?? latent
        hidden = try c.decodeIfPresent(Int.self, forKey: .hidden) ?? hidden
        epochs = try c.decodeIfPresent(Int.self, forKey: .epochs) ?? epochs
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? batchSize
        lr = try c.decodeIfPresent(Float.self, forKey: .lr) ?? lr
        for (key, value) in [(CodingKeys.latent, latent), (.hidden, hidden), (.epochs, epochs), (.batchSize, batchSize)] where value < 1 {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "must be at least 1, got \(value)")
        }
        if !(lr > 0 && lr.isFinite) { throw DecodingError.dataCorruptedError(forKey: .lr, in: c, debugDescription: "must be positive, got \(lr)") }
    }
}
