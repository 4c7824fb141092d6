import XCTest
import Cohort
import CohortData
import CohortNN
import CohortTrain
@testable import CohortDistill

/// Fashion-MNIST's first images, and small untrained teachers saved as model files, for the
/// teacher and generator tests.
enum DistillTestData {
    static func splits(trainLimit: Int) throws -> (DataConfig, DataSplits) {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: FashionMNIST.defaultDirectory + "/train-images-idx3-ubyte.gz"),
                          "Fashion-MNIST is not installed (launch/setup installs it)")
        let config = try ConfigLoader.decode(DataConfig.self, yaml: "{validation: 0, train_limit: \(trainLimit)}", source: "test")
        return (config, try DataSplits.load(config, task: .classification, seed: 1))
    }

    static func folder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cohort-distill-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// A convolutional teacher with random weights and BatchNorm statistics (evaluation mode uses
    /// them), written as a model file `cohort distill` accepts.
    static func teacher(_ data: DataSplits, seed: UInt64, in dir: URL) throws -> String {
        let yaml = """
        name: teacher\(seed)
        model:
          layers: [{type: conv2d, out: 4, kernel: 3}, {type: batchnorm}, {type: relu}, {type: maxpool, size: 2}, {type: flatten}, {type: linear, out: 10}]
        optimizer: {name: sgd, lr: 0.1}
        """
        let config = try ConfigLoader.decode(RunConfig.self, yaml: yaml, source: "teacher")
        let model = try Model(spec: config.model, inputShape: data.train.sampleShape)
        model.initialize(rng: RandomStream(seed: seed))
        var rng = RandomStream(seed: seed + 100)
        rng.fillUniform(model.buffers.values, 0.2, 1.5)
        let url = dir.appendingPathComponent("teacher\(seed).safetensors")
        try ModelExport.save(model, configYAML: yaml, data: data.description, to: url)
        return url.path
    }
}
