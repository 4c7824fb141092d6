import Cohort

/// The classes of a labelled file: its distinct label values, sorted (numerically when every value
/// is an integer, else as text), become classes 0, 1, ...; their texts are the class names. Fitted
/// on the training file and applied to the test file, where an unseen label is an error.
public struct ClassEncoding: Sendable, Equatable {
    public let names: [String]
    private let index: [String: Int32]

    public init(names: [String]) {
        self.names = names
        index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($0.element, Int32($0.offset)) })
    }

    /// The classes of `values`.
    public static func fit(_ values: [String]) -> ClassEncoding {
        let distinct = Array(Set(values))
        let integers = distinct.compactMap { Int($0) }
        let names = integers.count == distinct.count
            ? Set(integers).sorted().map(String.init)  // "7" and "07" are one class
            : distinct.sorted()
        return ClassEncoding(names: names)
    }

    /// The class of every value; `location(i)` names where value i stands, for the error.
    public func encode(_ values: [String], location: (Int) -> String) throws -> [Int32] {
        var out = [Int32](repeating: 0, count: values.count)
        for (i, v) in values.enumerated() {
            // An integer label may be written differently ("07", "+7") than in the training file.
            guard let c = index[v] ?? Int(v).flatMap({ index[String($0)] }) else {
                throw CohortError.invalid("\(location(i)): class '\(v)' never occurs in the training data (classes: \(summary))")
            }
            out[i] = c
        }
        return out
    }

    private var summary: String {
        names.count <= 12 ? names.joined(separator: ", ") : names.prefix(12).joined(separator: ", ") + ", ... (\(names.count))"
    }
}
