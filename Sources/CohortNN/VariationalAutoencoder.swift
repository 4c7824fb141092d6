import Cohort
import CohortFormats

/// A small variational autoencoder (Kingma & Welling 2014) over flattened samples of D values in
/// [0, 1]: encoder D -> hidden -> (mean, log-variance) of a Z-dimensional Gaussian, decoder
/// Z -> hidden -> D logits of a Bernoulli per value. `cohort distill` trains one on the training
/// images and samples the prior for a `generated` transfer set. Its parameters live in one arena
/// (paths "encoder.1.weight", "mean.weight", "log_variance.weight", "decoder.2.weight", ...), as a
/// `Model`'s do, so a `TrainingSession`-style loop and safetensors files work on it unchanged.
public final class VariationalAutoencoder: Layer {
    public let valueCount: Int, hidden: Int, latent: Int
    let encoder: Sequential
    let mean: Linear
    let logVariance: Linear
    let decoder: Sequential
    public private(set) var parameters: ParameterArena!

    /// `activation` of the hidden layers: ReLU to train; the gradient check uses tanh, which has no
    /// kink for a finite difference to straddle.
    public init(valueCount: Int, hidden: Int, latent: Int, activation: Activation.Kind = .relu) {
        self.valueCount = valueCount
        self.hidden = hidden
        self.latent = latent
        encoder = Sequential([Flatten(), Linear(valueCount, hidden), Activation(activation)])
        // Small initial means and log-variances: the posterior starts near the prior.
        mean = Linear(hidden, latent, initializer: .glorotUniform)
        logVariance = Linear(hidden, latent, initializer: .glorotUniform)
        decoder = Sequential([Linear(latent, hidden), Activation(activation), Linear(hidden, valueCount, initializer: .glorotUniform)])
        parameters = ParameterArena(namedParameters())
    }

    public var children: [(String, Layer)] { [("encoder", encoder), ("mean", mean), ("log_variance", logVariance), ("decoder", decoder)] }

    public var summary: String { "VariationalAutoencoder(\(valueCount) -> \(hidden) -> \(latent) -> \(hidden) -> \(valueCount))" }

    public func outputShape(for input: [Int]) throws -> [Int] {
        guard input.count >= 2, input.dropFirst().reduce(1, *) == valueCount else {
            throw CohortError.shape(op: summary, detail: "expects [batch, \(valueCount) values], got \(shapeString(input))")
        }
        return [input[0], valueCount]
    }

    /// The decoder's logits for the posterior mean of each example (a deterministic reconstruction).
    public func forward(_ x: Var, _ ctx: ForwardContext) throws -> Var {
        try decoder.forward(try mean.forward(try encoder.forward(x, ctx), ctx), ctx)
    }

    /// The negative evidence lower bound of a batch x [B, ...] of values in [0, 1], averaged over
    /// the batch: the Bernoulli reconstruction term of a sample z = mean + sigma * noise (noise
    /// [B, Z] from N(0, 1)) plus KL(q(z | x) || N(0, I)). Returns the loss and the KL part's value.
    public func loss(_ x: Var, noise: Tensor, _ ctx: ForwardContext) throws -> (loss: Var, kl: Float) {
        let tape = ctx.tape
        let h = try encoder.forward(x, ctx)
        let mu = try mean.forward(h, ctx), logVar = try logVariance.forward(h, ctx)
        let z = try tape.reparameterize(mean: mu, logVariance: logVar, noise: noise)
        let reconstruction = try tape.bernoulliCrossEntropy(logits: try decoder.forward(z, ctx), targets: x.value)
        let kl = try tape.gaussianKL(mean: mu, logVariance: logVar)
        return (try tape.add(reconstruction, kl), kl.value.item)
    }

    /// Gathers the parameters into an arena of this VAE's own again, with their current values,
    /// after a `Model` that wrapped it for training bound them to the model's arena.
    public func reclaimParameters() {
        parameters = ParameterArena(namedParameters())
    }

    /// Decoder logits [B, D] for latent codes z [B, Z].
    public func decode(_ z: Var, _ ctx: ForwardContext) throws -> Var { try decoder.forward(z, ctx) }

    /// Every parameter from a safetensors file that holds them by path, with this network's shapes.
    public func load(_ file: SafetensorsFile) throws {
        for (e, p) in zip(parameters.entries, parameters.parameters) {
            guard let stored = file.tensors[e.path] else { throw CohortError.invalid("\(file.source): no tensor '\(e.path)' (not a VAE of these sizes)") }
            guard stored.shape == e.shape else {
                throw CohortError.invalid("\(file.source): '\(e.path)' has shape \(shapeString(stored.shape)) but this VAE's is \(shapeString(e.shape))")
            }
            try p.value.assign(try file.floatTensor(e.path))
        }
    }

    /// Every parameter by path, for `Safetensors.write`.
    public var tensors: [String: SafetensorsTensor] {
        Dictionary(uniqueKeysWithValues: zip(parameters.entries, parameters.parameters).map { ($0.0.path, SafetensorsTensor($0.1.value)) })
    }
}
