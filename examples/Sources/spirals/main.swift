// A training loop of one's own, run as `mpirun -np 2 spirals` (or alone): each rank takes its shard of
// every global batch, Cohort's gradient synchronisation averages the gradients (shared memory on a
// node, hierarchical across nodes), rank 0 saves a checkpoint (weights and optimizer state) and a
// test report (Cohort's classification report: accuracy, per-class scores, confusion matrix).
import Cohort
import CohortData
import CohortDistributed
import CohortFormats
import CohortNN
import CohortOptim
import CohortTrain
import ExampleData
import ExampleLayers
import Foundation

let world: Communicator = MPICommunicator.launchedByMPI ? try MPICommunicator() : SingleProcessCommunicator()
let (train, test) = (try TwoSpirals.make(count: 4000, noise: 0.02, seed: 1), try TwoSpirals.make(count: 1000, noise: 0.02, seed: 2))
let network = Sequential([Linear(2, 64), LearnableSwish(features: 64), Linear(64, 64), LearnableSwish(features: 64), Linear(64, 2)])
let model = try Model(network: network, inputShape: [2])
model.initialize(rng: RandomStream(seed: 7))  // the same seed on every rank: the same first weights
let globalBatch = 64, batch = globalBatch / world.size  // N ranks, one model: the global batch stays 64
// Synchronisation (shared memory between a node's ranks, hierarchical across nodes), optimizer and session, as `cohort train` makes them.
let step = try TrainingStep.make(model: model, loader: try BatchLoader(dataset: train, batchSize: batch),
                                 optimizer: OptimizerConfig(.sgd(momentum: 0.9), lr: 0.1), topology: NodeTopology(world: world, ranksPerNode: nil), seed: 7)
let sampler = try DistributedSampler(count: train.count, rank: world.rank, worldSize: world.size, seed: 7, shuffle: true, dropLast: true)
var number = 0
for epoch in 0..<20 {
    let order = sampler.indices(epoch: epoch)
    for start in stride(from: 0, through: order.count - batch, by: batch) {
        number += 1
        let lr = 0.1 * Float(0.5 * (1 + cos(Double.pi * Double(number) / Double(20 * order.count / batch))))  // cosine
        _ = try step.run(positions: order[start..<(start + batch)], stream: UInt64(number), number: number, learningRate: lr)
    }
}
let x = Tensor(zeros: [test.count, 2])
for i in 0..<test.count { for (j, v) in test.rawValues(i).enumerated() { x.pointer[i * 2 + j] = v } }
let logits = try model.predict(x)
let predicted = (0..<test.count).map { logits.pointer[2 * $0 + 1] > logits.pointer[2 * $0] ? 1 : 0 }
let report = try ClassificationReport(predictions: predicted, labels: (0..<test.count).map { Int(test.label($0)) }, classCount: 2,
                                      classNames: ["first arm", "second arm"])
// One model: every rank ends with the same parameters, bit for bit.
let checksum = (0..<model.parameters.count).reduce(0.0) { $0 + Double(model.parameters.values.pointer[$1]) * Double($1 % 7 + 1) }
var sums = [checksum]
try world.allreduce(&sums)
guard sums[0] == checksum * Double(world.size) else { print("rank \(world.rank): parameters differ between ranks"); exit(1) }
if world.rank == 0 {
    var tensors = Dictionary(uniqueKeysWithValues: zip(model.parameters.entries, model.parameters.parameters).map { ($0.path, $1.value) })
    for (name, state) in step.session.optimizer.state { tensors["optimizer." + name] = state }
    try Safetensors.write(floatTensors: tensors, to: URL(fileURLWithPath: "spirals.safetensors"))
    try report.markdown(title: "Two spirals, \(world.size) rank(s)").write(toFile: "spirals-report.md", atomically: true, encoding: .utf8)
    print("\(world.size) rank(s), \(number) steps of \(globalBatch): test accuracy \(report.accuracy) (\(report.correctCount) of \(test.count)); checkpoint spirals.safetensors, report spirals-report.md")
}
exit(report.accuracy >= 0.95 ? 0 : 1)
