/// A coding key made from any string: config structs decode through it so they can see (and
/// reject) keys they do not know, which an enum of keys would silently skip.
struct ConfigKey: CodingKey, Hashable {
    var stringValue: String
    var intValue: Int?

    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) {
        stringValue = String(intValue)
        self.intValue = intValue
    }
}

/// Strict decoding helpers: errors are `DecodingError.dataCorrupted` whose coding path ends at the
/// offending key, so the trainer prints "optimizer.lr: must be positive, got -0.1".
extension KeyedDecodingContainer where Key == ConfigKey {
    /// Throws for the first key (alphabetically) outside `known`.
    func rejectUnknownKeys(known: [String]) throws {
        if let unknown = allKeys.map(\.stringValue).sorted().first(where: { !known.contains($0) }) {
            throw failure(unknown, "unknown key '\(unknown)' (known: \(known.sorted().joined(separator: ", ")))")
        }
    }

    func optional<T: Decodable>(_ key: String, as type: T.Type = T.self) throws -> T? {
        try decodeIfPresent(T.self, forKey: ConfigKey(key))
    }

    func failure(_ key: String, _ reason: String) -> DecodingError {
        DecodingError.dataCorrupted(.init(codingPath: codingPath + [ConfigKey(key)], debugDescription: reason))
    }
}
