import Cohort
import Yams

/// A resolved run config (a run folder's config.yaml) as key paths and their values, in document
/// order: `optimizer.lr` = `0.05`, `model.layers.1.out` = `512`. What `cohort compare` diffs and
/// where a report reads keys that not every version of the config has.
public struct ResolvedConfig: Sendable {
    public let entries: [(key: String, value: String)]

    /// `source` names the file in errors.
    public init(yaml: String, source: String) throws {
        let root: Node?
        do { root = try Yams.compose(yaml: yaml) } catch {
            throw CohortError.invalid("\(source): not valid YAML: \(ConfigLoader.oneLine("\(error)"))")
        }
        var entries: [(key: String, value: String)] = []
        func flatten(_ node: Node, _ path: String) {
            switch node {
            case let .mapping(mapping):
                if mapping.isEmpty { entries.append((path, "{}")) }
                for (key, value) in mapping { flatten(value, path.isEmpty ? key.string ?? "?" : "\(path).\(key.string ?? "?")") }
            case let .sequence(sequence):
                if sequence.isEmpty { entries.append((path, "[]")) }
                for (i, value) in sequence.enumerated() { flatten(value, "\(path).\(i)") }
            case let .scalar(scalar):
                entries.append((path, scalar.string))
            }
        }
        if let root { flatten(root, "") }
        self.entries = entries
    }

    public subscript(key: String) -> String? { entries.first { $0.key == key }?.value }

    /// The number format of the run (`training.precision`); configs from before mixed precision have none and ran fp32.
    public var precision: String { self["training.precision"] ?? "fp32" }

    /// A key whose value is not the same in every config (nil: the config has no such key).
    public struct Difference: Codable, Sendable, Equatable {
        public let key: String
        public let values: [String?]
    }

    /// The keys whose values differ between `configs`, in the order they first appear.
    public static func differences(_ configs: [ResolvedConfig], ignoring: Set<String> = []) -> [Difference] {
        var keys: [String] = [], seen: Set<String> = []
        for config in configs {
            for (key, _) in config.entries where !ignoring.contains(key) && seen.insert(key).inserted { keys.append(key) }
        }
        let lookups = configs.map { Dictionary($0.entries, uniquingKeysWith: { first, _ in first }) }
        return keys.compactMap { key in
            let values = lookups.map { $0[key] }
            return Set(values).count > 1 ? Difference(key: key, values: values) : nil
        }
    }
}
