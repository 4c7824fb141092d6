import Cohort
import CohortData
import CohortDistributed
import CohortNN
import CohortOptim
import CohortTrain
import Foundation

/// Trains the `VariationalAutoencoder` of a `generated` transfer set on the training images, the
/// way every stage of `cohort distill` trains: data-parallel over the ranks (each its shard of the
/// same permutation, gradients averaged by the run's `GradientSync`), so every rank ends with the
/// same weights. Adam on the negative ELBO; pixels enter as x / 255 in [0, 1].
enum VAETraining {
    struct Result {
        let vae: VariationalAutoencoder
        /// Per example, over the last epoch: the negative ELBO and its KL part (nats).
        let loss: Double, kl: Double
    }

    static func train(_ config: GeneratorConfig, images: Dataset, seed: UInt64, distributed: DistributedConfig,
                      communicator comm: Communicator, say: (String) -> Void) throws -> Result {
        let vae = VariationalAutoencoder(valueCount: images.valuesPerSample, hidden: config.hidden, latent: config.latent)
        vae.parameters.initialize(rng: RandomStream(seed: seed).split("generator-init"))
        try comm.broadcast(vae.parameters.values.pointer, count: vae.parameters.count, root: 0)
        let topology = try NodeTopology(world: comm, ranksPerNode: distributed.ranksPerNode)
        let sync = try GradientSyncFactory.make(distributed, parameters: vae.parameters, topology: topology)
        let gradients = GradientArena(for: vae.parameters, storage: sync.gradientStorage)
        let optimizer = try OptimizerConfig(name: "adam", lr: config.lr).makeOptimizer(parameterCount: vae.parameters.count)
        let sampler = try DistributedSampler(count: images.count, rank: comm.rank, worldSize: comm.size, seed: seed &+ 0x9e37, shuffle: true)
        let batch = config.batchSize
        let steps = sampler.samplesPerRank / batch
        guard steps > 0 else {
            throw CohortError.invalid("distill.transfer.generator.batch_size: \(batch) is larger than the \(sampler.samplesPerRank) images of a rank")
        }
        let loader = try BatchLoader(dataset: images, batchSize: batch, normalization: .identity)
        let tape = Tape(), context = ForwardContext(tape: tape, training: true)
        let noise = Tensor(zeros: [batch, config.latent])
        var random = RandomStream(seed: seed).split("generator-noise", UInt64(comm.rank))
        var last = (loss: 0.0, kl: 0.0)
        for epoch in 0..<config.epochs {
            let order = sampler.indices(epoch: epoch)
            var sums = [0.0, 0.0, 0.0]  // loss, KL, batches
            for b in 0..<steps {
                let x = Var(try loader.load(order[(b * batch)..<((b + 1) * batch)]))
                random.fillNormal(noise)
                gradients.zero()
                sync.beginStep()
                tape.reset()
                let (loss, kl) = try vae.loss(x, noise: noise, context)
                guard loss.value.item.isFinite else {
                    throw CohortError.invalid("generator epoch \(epoch + 1): the VAE's loss is \(loss.value.item); lower distill.transfer.generator.lr")
                }
                sync.beginBackward(last: true)
                try tape.backward(loss)
                try sync.finish()
                optimizer.step(parameters: vae.parameters.values.pointer, gradients: gradients.values.pointer, count: vae.parameters.count,
                               learningRate: config.lr)
                sums[0] += Double(loss.value.item)
                sums[1] += Double(kl)
                sums[2] += 1
            }
            try comm.allreduce(&sums)
            last = (sums[0] / sums[2], sums[1] / sums[2])
            say(String(format: "generator epoch %d/%d: negative ELBO %.2f nats per image (KL %.2f)", epoch + 1, config.epochs, last.loss, last.kl))
        }
        return Result(vae: vae, loss: last.loss, kl: last.kl)
    }
}
