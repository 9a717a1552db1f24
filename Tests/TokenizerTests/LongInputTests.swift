import Foundation
import TestSupport
import Tokenizer
import XCTest

/// Long and repetitive inputs round-trip. Speed (load time, linear-time encoding) is measured in
/// Benchmarks/, not asserted here: timing assertions are flaky on shared CI cores.
final class LongInputTests: XCTestCase {
    func testLongTextRoundTrips() throws {
        let tok = try SharedTokenizer.get()
        let sentence = "Is there a dog in the image? Answer with a single word, naïve café 日本語 🙂.\n"
        let long = String(repeating: sentence, count: 200)
        let ids = tok.encode(long)
        XCTAssertEqual(Array(tok.decode(ids).utf8), Array(long.utf8))
        // Encoding is compositional over repeated whole lines after the first (no cross-line merges change).
        XCTAssertGreaterThan(ids.count, 200)
        let word = String(repeating: "a", count: 2000)
        XCTAssertEqual(tok.decode(tok.encode(word)), word)
    }
}
