import Cohort
import CohortData
import CohortDistributed
import CohortFormats
import CohortNN
import CohortTrain
import Foundation

/// The images of a `generated` transfer set: a variational autoencoder trained on the training
/// images (once: kept in the run folder as `generator/vae.safetensors` and reused by a later run
/// with the same settings), or read from `generator.checkpoint`; then sampled from its N(0, I)
/// prior, each image the decoder's Bernoulli means as pixels. The same weights and the same
/// stream give every rank the same images.
public enum TransferGenerator {
    public struct Outcome {
        /// Raw pixel values (0...255), one image per row.
        public let images: Tensor
        /// Where the VAE came from ("trained", "reused <file>", "loaded <file>").
        public let source: String
        public let seconds: Double
    }

    /// What determines a trained VAE: a saved one is reused only when all of it matches.
    struct Settings: Codable, Equatable {
        var hidden: Int, latent: Int, epochs: Int, batchSize: Int, lr: Float
        var seed: UInt64, images: Int, ranks: Int
    }

    static let fileFormat = "cohort-vae"

    public static func images(_ config: GeneratorConfig, train: Dataset, count: Int, seed: UInt64, runFolder: URL,
                              distributed: DistributedConfig, communicator comm: Communicator,
                              say: (String) -> Void) throws -> Outcome {
        guard case .uint8 = train.storage.features else {
            throw CohortError.invalid("distill.transfer.set: generated images need image (byte) data; these features are real numbers")
        }
        let started = Runtime.now()
        let settings = Settings(hidden: config.hidden, latent: config.latent, epochs: config.epochs, batchSize: config.batchSize, lr: config.lr,
                                seed: seed, images: train.count, ranks: comm.size)
        let vae: VariationalAutoencoder, source: String
        if let path = config.checkpoint {
            vae = try load(path, valueCount: train.valuesPerSample)
            source = "loaded \(path)"
        } else {
            let file = runFolder.appendingPathComponent("generator/vae.safetensors")
            if try savedMatches(file, settings, comm) {
                vae = VariationalAutoencoder(valueCount: train.valuesPerSample, hidden: config.hidden, latent: config.latent)
                if comm.rank == 0 { try vae.load(try Safetensors.read(from: file)) }
                try comm.broadcast(vae.parameters.values.pointer, count: vae.parameters.count, root: 0)
                source = "reused \(file.path)"
            } else {
                say("generator: training a VAE (\(train.valuesPerSample)-\(config.hidden)-\(config.latent)) on \(train.count) training images, \(config.epochs) epochs")
                let trained = try VAETraining.train(config, images: train, seed: seed, distributed: distributed, communicator: comm, say: say)
                vae = trained.vae
                if comm.rank == 0 { try save(vae, settings, to: file) }
                source = "trained, saved to \(file.path)"
            }
        }
        let images = try sample(vae, count: count, seed: seed)
        return Outcome(images: images, source: source, seconds: Runtime.now() - started)
    }

    /// `count` images from the prior: z ~ N(0, I), pixels 255 sigmoid(decoder(z)).
    static func sample(_ vae: VariationalAutoencoder, count: Int, seed: UInt64, batch: Int = 500) throws -> Tensor {
        let d = vae.valueCount
        let out = Tensor(zeros: [count, d])
        let context = ForwardContext(tape: Tape(recording: false), training: false)
        var random = RandomStream(seed: seed).split("generate")
        var start = 0
        while start < count {
            let n = min(batch, count - start)
            let z = Tensor(zeros: [n, vae.latent])
            random.fillNormal(z)
            context.tape.reset()
            let logits = try vae.decode(Var(z), context).value.pointer
            let dst = out.pointer + start * d
            for i in 0..<(n * d) { dst[i] = 255 / (1 + Foundation.exp(-logits[i])) }
            start += n
        }
        return out
    }

    /// Whether rank 0 holds a VAE at `file` trained with `settings` (every rank gets rank 0's answer:
    /// ranks need not share a file system).
    static func savedMatches(_ file: URL, _ settings: Settings, _ comm: Communicator) throws -> Bool {
        let flag = Tensor(zeros: [1])
        if comm.rank == 0, let saved = try? Safetensors.read(from: file), saved.metadata["format"] == fileFormat,
           let json = saved.metadata["settings"], (try? JSONDecoder().decode(Settings.self, from: Data(json.utf8))) == settings {
            flag.pointer[0] = 1
        }
        try comm.broadcast(flag.pointer, count: 1, root: 0)
        return flag.pointer[0] == 1
    }

    static func save(_ vae: VariationalAutoencoder, _ settings: Settings, to file: URL) throws {
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        let json = String(decoding: try JSONEncoder().encode(settings), as: UTF8.self)
        try Safetensors.write(vae.tensors, metadata: ["format": fileFormat, "settings": json], to: file)
    }

    /// A VAE file written by `cohort distill`, for images of `valueCount` values.
    static func load(_ path: String, valueCount: Int) throws -> VariationalAutoencoder {
        guard FileManager.default.fileExists(atPath: path) else {
            throw CohortError.invalid("distill.transfer.generator.checkpoint: \(path) not found")
        }
        let file = try Safetensors.read(from: URL(fileURLWithPath: path))
        guard file.metadata["format"] == fileFormat, let json = file.metadata["settings"],
              let settings = try? JSONDecoder().decode(Settings.self, from: Data(json.utf8)) else {
            throw CohortError.invalid("distill.transfer.generator.checkpoint: \(path) is not a VAE written by cohort distill (generator/vae.safetensors)")
        }
        let vae = VariationalAutoencoder(valueCount: valueCount, hidden: settings.hidden, latent: settings.latent)
        try vae.load(file)
        return vae
    }
}
