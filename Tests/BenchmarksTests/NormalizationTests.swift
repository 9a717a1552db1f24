import XCTest
import Benchmarks
import TestSupport
import PythonText

final class NormalizationTests: XCTestCase {
    /// Every case of the recorded m4c EvalAIAnswerProcessor outputs.
    func testEvalAIAnswerProcessorAllCases() throws {
        let cases = try Fixtures.jsonLines("datasets-samples/normalization/evalai_answer_processor.jsonl")
        XCTAssertGreaterThan(cases.count, 100)
        var failures = 0
        for (i, c) in cases.enumerated() {
            let input = try XCTUnwrap(c["input"] as? String, "case \(i)")
            let expected = try XCTUnwrap(c["evalai"] as? String, "case \(i)")
            let got = EvalAIAnswerProcessor.normalize(input)
            if !got.unicodeScalars.elementsEqual(expected.unicodeScalars) {
                failures += 1
                XCTFail("case \(i) \(input.debugDescription): got \(got.debugDescription), expected \(expected.debugDescription)")
            }
        }
        XCTAssertEqual(failures, 0)
    }

    /// Every case of the official vqaEval processPunctuation + processDigitArticle column.
    func testVQAEvalPunctuationDigitArticleAllCases() throws {
        let cases = try Fixtures.jsonLines("datasets-samples/normalization/evalai_answer_processor.jsonl")
        for (i, c) in cases.enumerated() {
            let input = try XCTUnwrap(c["input"] as? String)
            let expected = try XCTUnwrap(c["vqaeval_punct_digit_article"] as? String, "case \(i)")
            let got = VQAEvalNormalizer.normalize(input)
            XCTAssertTrue(got.unicodeScalars.elementsEqual(expected.unicodeScalars),
                          "case \(i) \(input.debugDescription): got \(got.debugDescription), expected \(expected.debugDescription)")
        }
    }

    func testPythonTextHelpers() {
        XCTAssertEqual(PythonText.split(Array(" a\u{1C}b\u{A0}c  ".unicodeScalars)).count, 3)
        XCTAssertEqual(PythonText.rstrip("white...", "."), "white")
        XCTAssertFalse(PythonText.equal("caf\u{E9}", "cafe\u{301}"))
    }
}
