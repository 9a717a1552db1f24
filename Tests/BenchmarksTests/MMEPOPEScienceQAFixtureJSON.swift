import Foundation
import XCTest

/// A recorded scores.json decoded with `JSONDecoder`, whose number parsing is correctly rounded
/// (Linux `JSONSerialization` can be one ulp off, e.g. 0.7692307692307693 → …694).
enum PartBFixtureJSON: Decodable, Equatable {
    case number(Double), string(String), bool(Bool), null
    case array([PartBFixtureJSON]), object([String: PartBFixtureJSON])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([PartBFixtureJSON].self) { self = .array(a) }
        else { self = .object(try c.decode([String: PartBFixtureJSON].self)) }
    }

    static func load(_ url: URL) throws -> PartBFixtureJSON {
        try JSONDecoder().decode(PartBFixtureJSON.self, from: Data(contentsOf: url))
    }

    subscript(key: String) -> PartBFixtureJSON? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    var double: Double? { if case .number(let d) = self { return d } else { return nil } }
    var int: Int? { double.flatMap { $0 == $0.rounded() ? Int($0) : nil } }
    var string: String? { if case .string(let s) = self { return s } else { return nil } }
    var object: [String: PartBFixtureJSON]? { if case .object(let o) = self { return o } else { return nil } }
}
