import Cohort
import CohortData
import CohortDistributed
import CohortNN
import CohortOptim
import CohortTrain
import Foundation

/// Trains the `VariationalAutoencoder` of a `generated` transfer set on the training images, the
/// way every stage of `cohort distill` trains: through the run loop and the training step
/// (`TrainingStep.make`), data-parallel over the ranks (each its shard of the same permutation,
/// gradients averaged by the run's `GradientSync`), so every rank ends with the same weights.
/// Adam on the negative ELBO (`ELBO`, a custom objective); pixels enter as x / 255 in [0, 1].
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
        // Trained as a model of one layer: its arena (which keeps the values) is the one the step synchronises.
        let model = try Model(network: Sequential([vae]), inputShape: images.sampleShape)
        try comm.broadcast(model.parameters.values.pointer, count: model.parameters.count, root: 0)
        let sampler = try DistributedSampler(count: images.count, rank: comm.rank, worldSize: comm.size, seed: seed &+ 0x9e37, shuffle: true)
        let batch = config.batchSize
        guard sampler.samplesPerRank / batch > 0 else {
            throw CohortError.invalid("distill.transfer.generator.batch_size: \(batch) is larger than the \(sampler.samplesPerRank) images of a rank")
        }
        let elbo = ELBO(vae, batch: batch, random: RandomStream(seed: seed).split("generator-noise", UInt64(comm.rank)))
        let step = try TrainingStep.make(model: model, loader: try BatchLoader(dataset: images, batchSize: batch, normalization: .identity),
                                         optimizer: OptimizerConfig(.adam(), lr: config.lr),
                                         topology: try NodeTopology(world: comm, ranksPerNode: distributed.ranksPerNode),
                                         distributed: distributed, objective: .custom(elbo), seed: seed)
        let lr = config.lr
        let loop = RunLoop(step: step, source: try EpochSteps(sampler: sampler, examplesPerStep: batch, epochs: config.epochs)) { _ in lr }
        // The report holds `say` only while the loop runs.
        let last = try withoutActuallyEscaping(say) { say in
            let report = EpochReport(elbo, epochs: config.epochs, communicator: comm, say: say)
            loop.observers = [report]
            defer { loop.observers = [] }
            try loop.run()
            return report.last
        }
        vae.reclaimParameters()
        return Result(vae: vae, loss: last.loss, kl: last.kl)
    }

    /// The negative ELBO of each batch, with this rank's next noise draw; keeps the KL parts for
    /// the epoch's report.
    final class ELBO: CustomObjective {
        let vae: VariationalAutoencoder
        let noise: Tensor
        var random: RandomStream
        /// The epoch being trained (0-based), for messages; the KL parts since the report took them.
        var epoch = 0, kl = 0.0

        init(_ vae: VariationalAutoencoder, batch: Int, random: RandomStream) {
            self.vae = vae
            noise = Tensor(zeros: [batch, vae.latent])
            self.random = random
        }

        func loss(_ x: Var, positions: ArraySlice<Int>, context: ForwardContext) throws -> (loss: Var, correct: Int) {
            random.fillNormal(noise)
            let (loss, kl) = try vae.loss(x, noise: noise, context)
            guard loss.value.item.isFinite else {
                throw CohortError.invalid("generator epoch \(epoch + 1): the VAE's loss is \(loss.value.item); lower distill.transfer.generator.lr")
            }
            self.kl += Double(kl)
            return (loss, 0)
        }
    }

    /// Sums each epoch's losses over the ranks and says them (collective at every epoch's end).
    final class EpochReport: StepObserver {
        let elbo: ELBO
        let epochs: Int
        let comm: Communicator
        let say: (String) -> Void
        private var sums = [0.0, 0.0, 0.0]  // loss, KL, batches
        private(set) var last = (loss: 0.0, kl: 0.0)

        init(_ elbo: ELBO, epochs: Int, communicator: Communicator, say: @escaping (String) -> Void) {
            self.elbo = elbo
            self.epochs = epochs
            comm = communicator
            self.say = say
        }

        func stepFinished(_ planned: PlannedStep, _ outcome: TrainingStep.Outcome, learningRate: Float) throws -> LoopControl {
            sums[0] += Double(outcome.loss)
            sums[1] += elbo.kl
            sums[2] += 1
            elbo.kl = 0
            guard let place = planned.place, place.isLast else { return .proceed }
            try comm.allreduce(&sums)
            last = (sums[0] / sums[2], sums[1] / sums[2])
            say(String(format: "generator epoch %d/%d: negative ELBO %.2f nats per image (KL %.2f)", place.epoch + 1, epochs, last.loss, last.kl))
            sums = [0, 0, 0]
            elbo.epoch = place.epoch + 1
            return .proceed
        }
    }
}
