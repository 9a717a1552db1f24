import Foundation
import TestSupport
import Tokenizer
import XCTest

/// The real LLaMA tokenizer from the fixtures, loaded once for all tests.
enum SharedTokenizer {
    static let modelPath = "fixtures/llava15-tiny/tokenizer.model"

    private static let loaded: Result<SentencePieceTokenizer, Error> = Result {
        let url = try Fixtures.require(modelPath)
        return try SentencePieceTokenizer(modelURL: url)
    }

    static func get() throws -> SentencePieceTokenizer { try loaded.get() }
}

/// Compares strings byte for byte: Swift's `==` treats canonically equivalent strings (NFC vs NFD) as equal,
/// which would hide tokenizer differences.
func XCTAssertSameBytes(_ actual: String, _ expected: String, _ message: @autoclosure () -> String = "",
                        file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(Array(actual.utf8), Array(expected.utf8),
                   "\(message()) got \(actual.debugDescription), expected \(expected.debugDescription)",
                   file: file, line: line)
}

/// Reads an array of integers from a fixture field.
func intArray(_ value: Any?, field: String, case index: Int) throws -> [Int] {
    guard let array = value as? [Any] else {
        throw XCTSkip("case \(index): field \(field) missing or not an array")
    }
    return try array.map { element in
        guard let n = element as? NSNumber else { throw NSError(domain: "fixture", code: 1, userInfo: [
            NSLocalizedDescriptionKey: "case \(index): \(field) holds a non-number"]) }
        return n.intValue
    }
}
