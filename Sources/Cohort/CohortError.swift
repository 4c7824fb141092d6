/// Errors the core reports instead of crashing: each message is one line that names the op and shapes.
public enum CohortError: Error, CustomStringConvertible, Equatable {
    /// An op got shapes it cannot combine, e.g. `matmul: [2, 3] x [4, 5]: inner dimensions 3 and 4 differ`.
    case shape(op: String, detail: String)
    /// A value outside what an op or a file format allows.
    case invalid(String)

    public var description: String {
        switch self {
        case let .shape(op, detail): return "\(op): \(detail)"
        case let .invalid(message): return message
        }
    }
}

/// `[2, 3]` as users write it; used in every shape message.
@inlinable
public func shapeString(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }
