import Cohort
import CohortData
import CohortFormats
import CohortNN
import Foundation

/// A checkpoint or model-only file with the run config embedded in it: what rebuilds its model for
/// `cohort eval`, `cohort compress` and the teachers of `cohort distill`, and prepares inputs as
/// its training did.
public struct SavedRun {
    public let path: String
    public let file: SafetensorsFile
    public let config: RunConfig
    /// The resolved config as saved (sub-runs start from it).
    public let configYAML: String
    /// What the model was trained on: task, input shape, classes and normalisation.
    public let data: DataDescription

    public static func open(_ path: String) throws -> SavedRun {
        let file = try Safetensors.read(from: URL(fileURLWithPath: path))
        guard file.metadata["format"] == Checkpoint.format, let yaml = file.metadata["config"] else {
            throw CohortError.invalid("\(path): not a Cohort checkpoint (no format/config metadata)")
        }
        let config = try ConfigLoader.decode(RunConfig.self, yaml: yaml, source: "\(path) (embedded config)")
        return SavedRun(path: path, file: file, config: config, configYAML: yaml, data: try description(file, config, path))
    }

    /// The model the config describes, for the inputs it was trained on, holding the file's
    /// weights (float, pruned or int8). No optimizer and no gradient memory.
    public func model() throws -> Model {
        let model = try Model(spec: config.model, inputShape: data.sampleShape)
        try model.load(file)
        return model
    }

    /// The saved description, or for files written before it was saved (named image data sets
    /// only: Fashion-MNIST's layout and the config's fixed normalisation) one made from the config.
    static func description(_ file: SafetensorsFile, _ config: RunConfig, _ path: String) throws -> DataDescription {
        if let json = file.metadata["data"] {
            do { return try JSONDecoder().decode(DataDescription.self, from: Data(json.utf8)) } catch {
                throw CohortError.invalid("\(path): metadata 'data' is not a data description: \(error)")
            }
        }
        guard config.data.isNamedDataset, case let .fixed(normalization) = config.data.normalization else {
            throw CohortError.invalid("\(path): no data description (metadata 'data') for its \(config.data.format.rawValue) data")
        }
        return DataDescription(task: .classification, sampleShape: [1, 28, 28], outputCount: 10,
                               classNames: config.data.dataset == "mnist" ? (0..<10).map(String.init) : FashionMNIST.classNames,
                               normalization: normalization, byteFeatures: true)
    }
}
