import PythonText

/// A benchmark question id exactly as the question file spells it: VQAv2/POPE use JSON integers,
/// GQA/TextVQA/MME/ScienceQA use strings. Kept apart so files round-trip byte for byte.
public enum QuestionID: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    case int(Int64)
    case string(String)

    public var description: String {
        switch self {
        case .int(let v): return String(v)
        case .string(let s): return s
        }
    }

    /// The id as a JSON literal (`123` or `"abc"`).
    public var jsonLiteral: String {
        switch self {
        case .int(let v): return String(v)
        case .string(let s): return JSONText.quote(s)
        }
    }

    public static func < (a: QuestionID, b: QuestionID) -> Bool {
        switch (a, b) {
        case (.int(let x), .int(let y)): return x < y
        case (.int, .string): return true
        case (.string, .int): return false
        case (.string(let x), .string(let y)): return x < y
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let i = try? c.decode(Int64.self) { self = .int(i) } else { self = .string(try c.decode(String.self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .int(let v): try c.encode(v)
        case .string(let s): try c.encode(s)
        }
    }
}
