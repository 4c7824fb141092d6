import Cohort
import CohortNN
import Foundation
import Yams

/// Reads a YAML config, applies `key.path=value` overrides, and decodes it strictly. Every error is
/// one line naming the file, the key path and the reason.
public enum ConfigLoader {
    public static func load<T: Decodable>(_ type: T.Type, path: String, overrides: [String] = []) throws -> T {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CohortError.invalid("\(path): cannot read the config file")
        }
        return try decode(type, yaml: text, source: path, overrides: overrides)
    }

    public static func decode<T: Decodable>(_ type: T.Type, yaml text: String, source: String, overrides: [String] = []) throws -> T {
        try decodeWithText(type, yaml: text, source: source, overrides: overrides).0
    }

    /// The decoded value and the YAML it was decoded from (after overrides).
    public static func decodeWithText<T: Decodable>(_ type: T.Type, yaml text: String, source: String, overrides: [String] = []) throws -> (T, String) {
        var root: Node
        do {
            root = try Yams.compose(yaml: text) ?? Node.mapping(.init([]))
        } catch {
            throw CohortError.invalid("\(source): not valid YAML: \(oneLine("\(error)"))")
        }
        for override in overrides {
            guard let eq = override.firstIndex(of: "="), eq != override.startIndex else {
                throw CohortError.invalid("--set \(override): expected key.path=value")
            }
            let key = String(override[..<eq]), value = String(override[override.index(after: eq)...])
            let parsed = (try? Yams.compose(yaml: value)) ?? nil
            root = try setting(root, path: key.split(separator: ".").map(String.init), to: parsed ?? Node(value), full: key)
        }
        do {
            let yaml = try Yams.serialize(node: root)
            return (try YAMLDecoder().decode(type, from: yaml), yaml)
        } catch let error as DecodingError {
            throw CohortError.invalid("\(source): \(describe(error))")
        } catch let error as CohortError {
            throw CohortError.invalid("\(source): \(error)")
        } catch {
            throw CohortError.invalid("\(source): \(oneLine("\(error)"))")
        }
    }

    /// `node` with the value at `path` replaced (mappings are created on the way; list indices are numbers).
    static func setting(_ node: Node, path: [String], to value: Node, full: String) throws -> Node {
        guard let head = path.first else { return value }
        let rest = Array(path.dropFirst())
        if case var .sequence(seq) = node {
            guard let i = Int(head), i >= 0, i < seq.count else {
                throw CohortError.invalid("--set \(full): '\(head)' is not an index of a list of \(seq.count)")
            }
            var items = Array(seq)
            items[i] = try setting(items[i], path: rest, to: value, full: full)
            seq = Node.Sequence(items, seq.tag, seq.style)
            return .sequence(seq)
        }
        var mapping = node.mapping ?? Node.Mapping([])
        let child = mapping[head] ?? Node.mapping(.init([]))
        mapping[head] = try setting(child, path: rest, to: value, full: full)
        return .mapping(mapping)
    }

    /// "optimizer.lr: must be positive, got -0.1" from a DecodingError.
    public static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [CodingKey]) -> String {
            var s = ""
            for k in keys {
                if let i = k.intValue { s += "[\(i)]" } else { s += (s.isEmpty ? "" : ".") + k.stringValue }
            }
            return s.isEmpty ? "(top level)" : s
        }
        switch error {
        case let .keyNotFound(key, ctx):
            return "\(path(ctx.codingPath + [key])): missing required key"
                + (ctx.debugDescription.hasPrefix("No value") || ctx.debugDescription.isEmpty ? "" : " (\(ctx.debugDescription))")
        case let .typeMismatch(type, ctx):
            return "\(path(ctx.codingPath)): expected \(typeName(type))\(underlying(ctx))"
        case let .valueNotFound(type, ctx):
            return "\(path(ctx.codingPath)): expected \(typeName(type)), found nothing"
        case let .dataCorrupted(ctx):
            return "\(path(ctx.codingPath)): \(oneLine(ctx.debugDescription))\(underlying(ctx))"
        @unknown default:
            return oneLine("\(error)")
        }
    }

    static func underlying(_ ctx: DecodingError.Context) -> String {
        guard let e = ctx.underlyingError else { return "" }
        return ": " + oneLine("\(e)")
    }

    static func typeName(_ t: Any.Type) -> String {
        switch t {
        case is Int.Type, is UInt64.Type, is Int64.Type, is Int32.Type: return "an integer"
        case is Float.Type, is Double.Type: return "a number"
        case is Bool.Type: return "true or false"
        case is String.Type: return "a string"
        default: return "\(t)"
        }
    }

    static func oneLine(_ s: String) -> String {
        s.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
    }
}

extension ConfigLoader {
    /// A run config changed in code, with its resolved YAML, decoded back from that YAML: what a
    /// run folder and checkpoints will hold, checked as strictly as a file is (`source` names it in errors).
    public static func resolved(_ config: RunConfig, source: String) throws -> (RunConfig, String) {
        let text: String
        do { text = try YAMLEncoder().encode(config) } catch {
            throw CohortError.invalid("\(source): cannot write the resolved config: \(error)")
        }
        return (try decode(RunConfig.self, yaml: text, source: source), text)
    }

    /// A run config from `path` with `overrides`, and its resolved YAML (defaults filled in): the
    /// text saved in the run folder and checkpoints, and hashed to check that all ranks agree.
    public static func loadRun(path: String, overrides: [String]) throws -> (RunConfig, String) {
        let config = try load(RunConfig.self, path: path, overrides: overrides)
        do {
            return (config, try YAMLEncoder().encode(config))
        } catch {
            throw CohortError.invalid("\(path): cannot write the resolved config: \(error)")
        }
    }
}
