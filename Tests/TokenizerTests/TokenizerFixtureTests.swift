import Foundation
import TestSupport
import Tokenizer
import XCTest

/// Parity with the recorded reference tokenizer (HF 4.37.2 slow LlamaTokenizer, legacy=False).
final class TokenizerFixtureTests: XCTestCase {
    func testVocabularyAndSpecialIDs() throws {
        let tok = try SharedTokenizer.get()
        XCTAssertEqual(tok.vocabularySize, 32000)
        XCTAssertEqual(tok.piece(for: tok.unkID), "<unk>")
        XCTAssertEqual(tok.piece(for: tok.bosID), "<s>")
        XCTAssertEqual(tok.piece(for: tok.eosID), "</s>")
        XCTAssertNil(tok.piece(for: -1))
        XCTAssertNil(tok.piece(for: 32000))
    }

    /// Every case of fixtures/tokenizer/cases.jsonl: ids with and without BOS, pieces and decoded text.
    func testAllTokenizerCases() throws {
        let tok = try SharedTokenizer.get()
        let cases = try Fixtures.jsonLines("fixtures/tokenizer/cases.jsonl")
        XCTAssertGreaterThan(cases.count, 0)
        var passed = 0
        for (index, c) in cases.enumerated() {
            guard let text = c["text"] as? String, let pieces = c["pieces"] as? [String],
                  let decoded = c["decoded"] as? String else {
                XCTFail("case \(index): missing text/pieces/decoded")
                continue
            }
            let ids = try intArray(c["ids"], field: "ids", case: index)
            let idsNoBOS = try intArray(c["ids_no_bos"], field: "ids_no_bos", case: index)
            let label = "case \(index) \(text.debugDescription):"

            let gotIDs = tok.encode(text)
            let gotNoBOS = tok.encode(text, addBOS: false)
            XCTAssertEqual(gotIDs, ids, "\(label) ids")
            XCTAssertEqual(gotNoBOS, idsNoBOS, "\(label) ids_no_bos")

            // The fixture's pieces are convert_ids_to_tokens(ids), so they start with <s>.
            let gotPieces = ["<s>"] + tok.pieces(text)
            XCTAssertEqual(gotPieces.map { Array($0.utf8) }, pieces.map { Array($0.utf8) }, "\(label) pieces")
            let piecesOfIDs = ids.map { tok.piece(for: $0) ?? "?" }
            XCTAssertEqual(piecesOfIDs.map { Array($0.utf8) }, pieces.map { Array($0.utf8) },
                           "\(label) piece(for:)")

            let gotDecoded = tok.decode(ids)
            XCTAssertSameBytes(gotDecoded, decoded, "\(label) decoded")
            XCTAssertSameBytes(tok.decode(idsNoBOS), decoded, "\(label) decoded without BOS")

            if gotIDs == ids, gotNoBOS == idsNoBOS, gotPieces == pieces,
               Array(gotDecoded.utf8) == Array(decoded.utf8) { passed += 1 }
        }
        XCTAssertEqual(passed, cases.count, "tokenizer cases passing")
    }

    /// Every LLaVA-1.5 and 1.6 case: the vicuna_v1 prompt from the question, and tokenizer_image_token ids.
    func testAllLlavaPromptsAndInputIDs() throws {
        let tok = try SharedTokenizer.get()
        for file in ["fixtures/llava15/cases.jsonl", "fixtures/llava16/cases.jsonl"] {
            let cases = try Fixtures.jsonLines(file)
            XCTAssertGreaterThan(cases.count, 0, file)
            for (index, c) in cases.enumerated() {
                guard let question = c["question"] as? String, let prompt = c["prompt"] as? String else {
                    XCTFail("\(file) case \(index): missing question/prompt")
                    continue
                }
                let expectedIDs = try intArray(c["input_ids"], field: "input_ids", case: index)
                let built = ConversationTemplate.vicunaV1.prompt(imageQuestion: question)
                XCTAssertSameBytes(built, prompt, "\(file) case \(index) prompt")
                XCTAssertEqual(ImageTokens.tokenize(prompt: prompt, with: tok), expectedIDs,
                               "\(file) case \(index) input_ids")
            }
        }
    }

    /// The reference's generated text is batch_decode(generated_ids, skip_special_tokens=True)[0].strip().
    func testAllGeneratedTextsDecode() throws {
        let tok = try SharedTokenizer.get()
        for file in ["fixtures/llava15/cases.jsonl", "fixtures/llava16/cases.jsonl"] {
            let cases = try Fixtures.jsonLines(file)
            for (index, c) in cases.enumerated() {
                guard let text = c["generated_text"] as? String else {
                    XCTFail("\(file) case \(index): missing generated_text")
                    continue
                }
                let ids = try intArray(c["generated_ids"], field: "generated_ids", case: index)
                XCTAssertSameBytes(tok.decodeAnswer(ids), text, "\(file) case \(index) generated_text")
            }
        }
    }
}
