/// The helpers every config section (and every hand-parsed JSON header) decodes through: configs are
/// decoded strictly, so a typo is an error naming the key path rather than a silently ignored
/// setting, and each error is a `DecodingError` whose coding path ends at the offending key (the
/// loader prints it as "optimizer.lr: must be positive, got -0.1").

/// A coding key made from any string. A container keyed by an enum lists only the keys the enum
/// has; one keyed by this sees (and can reject) every key the document holds.
public struct AnyCodingKey: CodingKey, Hashable, Sendable {
    public var stringValue: String
    public var intValue: Int?

    public init(_ name: String) { stringValue = name }
    public init?(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) {
        stringValue = String(intValue)
        self.intValue = intValue
    }
}

/// Throws for the first key (alphabetically) of the decoder's mapping that is not in `known`.
public func rejectUnknownKeys(_ decoder: Decoder, known: Set<String>) throws {
    try decoder.container(keyedBy: AnyCodingKey.self).rejectUnknownKeys(known: known)
}

extension KeyedDecodingContainer where Key == AnyCodingKey {
    /// Throws for the first key (alphabetically) outside `known`.
    public func rejectUnknownKeys<S: Sequence>(known: S) throws where S.Element == String {
        let known = Set(known)
        if let unknown = allKeys.map(\.stringValue).sorted().first(where: { !known.contains($0) }) {
            throw failure(unknown, "unknown key '\(unknown)' (known: \(known.sorted().joined(separator: ", ")))")
        }
    }

    public func optional<T: Decodable>(_ key: String, as type: T.Type = T.self) throws -> T? {
        try decodeIfPresent(T.self, forKey: AnyCodingKey(key))
    }

    /// An error at `key` of this container.
    public func failure(_ key: String, _ reason: String) -> DecodingError {
        DecodingError.dataCorrupted(.init(codingPath: codingPath + [AnyCodingKey(key)], debugDescription: reason))
    }
}

extension CodingKey where Self: CaseIterable {
    /// The config names of every key, for `rejectUnknownKeys`.
    public static var allKeys: [String] { allCases.map(\.stringValue) }
}

/// A mode, policy or kind chosen in a config by name (`mode: hogwild`, `non_finite: skip`): decoded
/// into its case once, so no loop ever compares strings; an unknown name is an error listing the
/// choices ("must be sync or hogwild, got 'async'").
public protocol ConfigChoice: RawRepresentable, CaseIterable, Codable, Sendable where RawValue == String {}

extension ConfigChoice {
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        let name = try c.decode(String.self)
        guard let value = Self(rawValue: name) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "must be \(Self.choices), got '\(name)'")
        }
        self = value
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }

    /// "a, b or c".
    public static var choices: String {
        let names = allCases.map(\.rawValue)
        return names.count < 2 ? names.joined() : names.dropLast().joined(separator: ", ") + " or " + names.last!
    }
}
