import Foundation
import TestSupport
import Tokenizer
import XCTest
import PythonText

final class DecodingTests: XCTestCase {
    func testIdsOutsideVocabularyAreSkipped() throws {
        let tok = try SharedTokenizer.get()
        let ids = tok.encode("Hello world")
        XCTAssertEqual(tok.decode([ImageTokens.imageTokenID] + ids + [tok.vocabularySize, -1]), tok.decode(ids))
        XCTAssertEqual(tok.decode([]), "")
        XCTAssertEqual(tok.decode([tok.bosID, tok.eosID, tok.unkID]), "")
    }

    func testSpecialTokensKeptWhenAsked() throws {
        let tok = try SharedTokenizer.get()
        let text = tok.decode(tok.encode("Yes") + [tok.eosID], skipSpecialTokens: false)
        XCTAssertTrue(text.hasPrefix("<s>"), text)
        XCTAssertTrue(text.hasSuffix("</s>"), text)
        XCTAssertTrue(text.contains("Yes"), text)
    }

    /// Byte pieces that do not form UTF-8 become U+FFFD, one per byte, as SentencePiece decodes them.
    func testInvalidBytePiecesBecomeReplacementCharacters() throws {
        let tok = try SharedTokenizer.get()
        let emoji = tok.encode("🙂", addBOS: false)  // "▁" then four byte pieces
        XCTAssertEqual(emoji.count, 5)
        let truncated = Array(emoji.prefix(3))  // "▁" and two of the four bytes
        XCTAssertEqual(Array(tok.decode(truncated).unicodeScalars), ["\u{FFFD}", "\u{FFFD}"])
        XCTAssertEqual(tok.decode(emoji), "🙂")
    }

    func testDecodeAnswerStripsLikePython() throws {
        let tok = try SharedTokenizer.get()
        XCTAssertEqual(tok.decodeAnswer(tok.encode("  Yes \n")), "Yes")
    }

    func testPythonStrip() {
        XCTAssertEqual(PythonText.strip(""), "")
        XCTAssertEqual(PythonText.strip(" \t\n\r\u{0B}\u{0C}"), "")
        XCTAssertEqual(PythonText.strip("\u{A0}\u{3000}a b\u{2028}\u{85}"), "a b")
        // Not whitespace for Python: zero-width space and the byte-order mark.
        XCTAssertEqual(PythonText.strip("\u{200B}x\u{FEFF}"), "\u{200B}x\u{FEFF}")
        // A combining mark after a trailing space stays (Swift's Character trimming would keep the space too,
        // but for the wrong reason); the space before it is not at the end.
        XCTAssertEqual(Array(PythonText.strip("a \u{301}").unicodeScalars), ["a", " ", "\u{301}"])
        XCTAssertEqual(PythonText.strip("\r\nx\r\n"), "x")
    }
}
