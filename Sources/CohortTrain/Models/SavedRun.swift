import Cohort
import CohortFormats
import CohortNN
import Foundation

/// A checkpoint or model-only file with the run config embedded in it: what rebuilds its model for
/// `cohort eval`, `cohort compress` and the teachers of `cohort distill`.
public struct SavedRun {
    public let path: String
    public let file: SafetensorsFile
    public let config: RunConfig
    /// The resolved config as saved (sub-runs start from it).
    public let configYAML: String

    public static func open(_ path: String) throws -> SavedRun {
        let file = try Safetensors.read(from: URL(fileURLWithPath: path))
        guard file.metadata["format"] == Checkpoint.format, let yaml = file.metadata["config"] else {
            throw CohortError.invalid("\(path): not a Cohort checkpoint (no format/config metadata)")
        }
        let config = try ConfigLoader.decode(RunConfig.self, yaml: yaml, source: "\(path) (embedded config)")
        return SavedRun(path: path, file: file, config: config, configYAML: yaml)
    }

    /// The model the config describes, for examples of `inputShape`, holding the file's weights
    /// (float, pruned or int8). No optimizer and no gradient memory.
    public func model(inputShape: [Int]) throws -> Model {
        let model = try Model(spec: config.model, inputShape: inputShape)
        try model.load(file)
        return model
    }
}
