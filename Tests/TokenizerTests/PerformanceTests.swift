import Foundation
import TestSupport
import Tokenizer
import XCTest

/// Guards against quadratic behaviour. Bounds are loose (debug build, shared CI cores); the release targets
/// (load < 50 ms, 2k characters well under 1 ms) are measured by hand.
final class PerformanceTests: XCTestCase {
    private func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    func testLongTextEncodesInLinearTime() throws {
        let tok = try SharedTokenizer.get()
        let sentence = "Is there a dog in the image? Answer with a single word, naïve café 日本語 🙂.\n"
        let short = String(repeating: sentence, count: 25)   // ~2k characters
        let long = String(repeating: sentence, count: 200)   // ~16k characters
        _ = tok.encode(short)
        let shortTime = seconds { for _ in 0..<5 { _ = tok.encode(short) } } / 5
        let longTime = seconds { _ = tok.encode(long) }
        print("encode: \(short.count) chars \(shortTime * 1000) ms, \(long.count) chars \(longTime * 1000) ms (debug)")
        XCTAssertLessThan(shortTime, 0.5)
        // 8x the text must not take anywhere near 64x the time.
        XCTAssertLessThan(longTime, max(shortTime * 30, 0.05))
        XCTAssertEqual(Array(tok.decode(tok.encode(long)).utf8), Array(long.utf8))
    }

    func testLoadTime() throws {
        let url = try Fixtures.require(SharedTokenizer.modelPath)
        let time = try seconds { _ = try SentencePieceTokenizer(modelURL: url) }
        print("load: \(time * 1000) ms (debug)")
        XCTAssertLessThan(time, 5)
    }
}
