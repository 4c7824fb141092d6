import Cohort
import CohortNN

/// One student of `distill.students`: a network (a `model.layers` list) with a name, which names
/// its sub-runs (`<name>`, `<name>-scratch`, ...), its model files and its rows in the report.
///
///     students:
///       - name: mlp-100
///         layers: [{type: flatten}, {type: linear, out: 100}, {type: relu}, {type: linear, out: 10}]
public struct StudentConfig: Codable, Sendable, Equatable {
    public var name: String
    public var model: ModelSpec

    /// Folder names of the run's own (a student named so would write into them).
    static let reserved: Set<String> = ["models", "generator", "compare-students"]

    enum CodingKeys: String, CodingKey, CaseIterable { case name, layers }

    public init(name: String, model: ModelSpec) {
        self.name = name
        self.model = model
    }

    public init(from decoder: Decoder) throws {
        try rejectUnknownKeys(decoder, known: Set(CodingKeys.allKeys))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        let layers = try c.decode([LayerSpec].self, forKey: .layers)
        if layers.isEmpty { throw DecodingError.dataCorruptedError(forKey: .layers, in: c, debugDescription: "a student needs at least one layer") }
        model = ModelSpec(layers: layers)
        if name.isEmpty || !name.allSatisfy({ $0.isLetter || $0.isNumber || "-_".contains($0) }) {
            throw DecodingError.dataCorruptedError(forKey: .name, in: c, debugDescription: "use letters, digits, '-' and '_' only, got '\(name)'")
        }
        if Self.reserved.contains(name) {
            throw DecodingError.dataCorruptedError(forKey: .name, in: c, debugDescription: "'\(name)' is a folder of the run's own; choose another name")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(model.layers, forKey: .layers)
    }
}
