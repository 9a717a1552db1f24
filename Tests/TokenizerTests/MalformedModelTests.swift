import Foundation
import TestSupport
import Tokenizer
import XCTest

/// A corrupt or hostile tokenizer.model must give a clear TokenizerError, never a crash.
final class MalformedModelTests: XCTestCase {
    private func realModelBytes() throws -> Data {
        try Data(contentsOf: Fixtures.require(SharedTokenizer.modelPath))
    }

    private func assertRejected(_ data: Data, _ label: String, mentioning needle: String? = nil,
                                file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try SentencePieceTokenizer(modelData: data), label, file: file, line: line) { error in
            guard let error = error as? TokenizerError else {
                return XCTFail("\(label): expected TokenizerError, got \(error)", file: file, line: line)
            }
            XCTAssertFalse(error.message.isEmpty, label, file: file, line: line)
            if let needle {
                XCTAssertTrue(error.description.contains(needle),
                              "\(label): '\(error)' should mention '\(needle)'", file: file, line: line)
            }
        }
    }

    func testEmptyFile() {
        assertRejected(Data(), "empty", mentioning: "empty")
    }

    /// Cutting the real file anywhere inside a field must be reported (the last field is the normalizer spec,
    /// so every cut below lands inside a field or before the trainer spec).
    func testTruncatedRealModel() throws {
        let data = try realModelBytes()
        let cuts = [1, 2, 3, 7, 100, 1_000, 10_000, data.count / 3, data.count / 2, data.count - 40, data.count - 1]
        for cut in cuts {
            assertRejected(data.prefix(cut), "truncated to \(cut) bytes")
        }
    }

    /// Every prefix up to 300 bytes: nothing may crash.
    func testManyShortPrefixes() throws {
        let data = try realModelBytes()
        for cut in 0..<300 {
            assertRejected(data.prefix(cut), "prefix of \(cut) bytes")
        }
    }

    func testGarbage() {
        // Deterministic pseudo-random bytes (SplitMix64), so a failure reproduces.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func nextByte() -> UInt8 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return UInt8(truncatingIfNeeded: z ^ (z >> 31))
        }
        for trial in 0..<200 {
            let count = 1 + trial * 7
            let bytes = (0..<count).map { _ in nextByte() }
            assertRejected(Data(bytes), "garbage #\(trial) (\(count) bytes)")
        }
        assertRejected(Data("this is not a protobuf file\n".utf8), "text file")
    }

    func testLengthBeyondBuffer() {
        // Field 1 (pieces), wire type 2, declaring 1000 bytes with 3 present.
        assertRejected(Data([0x0A, 0xE8, 0x07, 1, 2, 3]), "overlong length", mentioning: "remain")
        // A length varint with the maximum value.
        assertRejected(Data([0x0A] + [UInt8](repeating: 0xFF, count: 9) + [0x01]), "huge length")
    }

    func testOverlongVarint() {
        assertRejected(Data([0x08] + [UInt8](repeating: 0x80, count: 11) + [0x01]), "11-byte varint",
                       mentioning: "varint")
    }

    func testInvalidWireTypeAndFieldNumber() {
        assertRejected(Data([0x0F]), "wire type 7", mentioning: "wire type")
        assertRejected(Data([0x0B]), "group wire type", mentioning: "group")
        assertRejected(Data([0x02, 0x00]), "field number 0", mentioning: "field number")
    }

    /// A structurally valid message that is not a usable BPE model.
    func testWellFormedButUnusable() {
        // One piece "a" (NORMAL) and a trainer spec saying model_type UNIGRAM (1).
        let piece: [UInt8] = [0x0A, 0x01, UInt8(ascii: "a")]
        let pieces: [UInt8] = [0x0A, UInt8(piece.count)] + piece
        let unigram: [UInt8] = [0x12, 0x02, 0x18, 0x01]
        assertRejected(Data(pieces + unigram), "unigram model", mentioning: "BPE")
        // BPE, but no UNKNOWN piece.
        let bpe: [UInt8] = [0x12, 0x02, 0x18, 0x02]
        assertRejected(Data(pieces + bpe), "no unknown piece", mentioning: "UNKNOWN")
        // No trainer spec at all.
        assertRejected(Data(pieces), "no trainer spec", mentioning: "trainer_spec")
        // A piece with an empty text.
        let empty: [UInt8] = [0x0A, 0x02, 0x0A, 0x00]
        assertRejected(Data(empty + bpe), "empty piece", mentioning: "empty")
        // A piece whose text is not UTF-8.
        let notUTF8: [UInt8] = [0x0A, 0x03, 0x0A, 0x01, 0xFF]
        assertRejected(Data(notUTF8 + bpe), "non-UTF-8 piece", mentioning: "UTF-8")
    }

    func testMissingFileNamesThePath() {
        let url = URL(fileURLWithPath: "/nonexistent/dir/tokenizer.model")
        XCTAssertThrowsError(try SentencePieceTokenizer(modelURL: url)) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/dir/tokenizer.model"), "\(error)")
        }
    }

    func testTruncatedFileErrorNamesThePath() throws {
        let data = try realModelBytes()
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("truncated-\(UUID().uuidString).model")
        try data.prefix(5_000).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        XCTAssertThrowsError(try SentencePieceTokenizer(modelURL: url)) { error in
            XCTAssertTrue("\(error)".contains(url.lastPathComponent), "\(error)")
        }
    }
}
