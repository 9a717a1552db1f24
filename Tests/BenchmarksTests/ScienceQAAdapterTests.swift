import Foundation
import XCTest
import Benchmarks
import TestSupport

/// The ScienceQA entry as datasets.json declares it, relative to the samples data root.
private func scienceQASpec(questionFile: String? = nil) -> DatasetSpec {
    var spec = RepoSpecs.spec("scienceqa")
    if let questionFile { spec.questionFile = questionFile }
    return spec
}

final class ScienceQAAdapterTests: XCTestCase {
    /// Every answers file records the prompt model_vqa_science.py wrote; ours must be identical.
    func testAnswerPromptsMatchRecordedAnswerFiles() throws {
        let root = try Fixtures.require("datasets-samples")
        for (questionFile, answersFile, expectedCount) in [
            ("scienceqa/llava_test_CQM-I.json", "llava-v1.5-13b-real-CQM-I.jsonl", 50),
            ("scienceqa/llava_test_CQM-I.json", "tricky-a-CQM-I.jsonl", 50),
            ("scienceqa/llava_test_CQM-A.json", "tricky-b-CQM-A.jsonl", 60),
        ] {
            let adapter = ScienceQABenchmark(spec: scienceQASpec(questionFile: questionFile), dataRoot: root)
            let items = try adapter.items()
            XCTAssertEqual(items.count, expectedCount, questionFile)
            let byID = Dictionary(items.map { ($0.questionID, $0) }, uniquingKeysWith: { a, _ in a })
            let answers = try AnswersFile.read(root.appendingPathComponent("scienceqa/answers/" + answersFile))
            XCTAssertTrue(answers.badLines.isEmpty)
            var checked = 0
            for a in answers.records {
                let item = try XCTUnwrap(byID[a.questionID], "\(answersFile): \(a.questionID)")
                XCTAssertEqual(item.answerPrompt, a.prompt, "\(answersFile) \(a.questionID)")
                XCTAssertEqual(item.image == nil, !a.prompt.hasPrefix("<image>\n"))
                if item.image != nil { XCTAssertEqual("<image>\n" + item.prompt, item.answerPrompt) }
                checked += 1
            }
            XCTAssertGreaterThanOrEqual(checked, expectedCount - 1)
        }
    }

    /// Built from problems.json, the items are the CQM-I questions. The samples' problems.json comes
    /// from a public mirror whose hints differ for a few problems; those are recognised (the LLaVA text
    /// does not contain that hint) and only counted.
    func testProblemsJSONYieldsCQMIQuestions() throws {
        let root = try Fixtures.require("datasets-samples")
        let llava = try ScienceQABenchmark(spec: scienceQASpec(), dataRoot: root).items()
        let adapter = ScienceQABenchmark(spec: scienceQASpec(questionFile: "scienceqa/problems.json"), dataRoot: root)
        let built = try adapter.items()
        let problems = try adapter.problems()
        XCTAssertEqual(built.map(\.questionID), llava.map(\.questionID))
        var differentSource = 0
        for (b, l) in zip(built, llava) {
            let hint = problems.problems[b.questionID.description]!.hint.replacingOccurrences(of: "  ", with: " ")
            if !hint.isEmpty && !l.prompt.contains(hint) { differentSource += 1; continue }
            XCTAssertEqual(b, l, "\(b.questionID)")
        }
        XCTAssertLessThanOrEqual(differentSource, 2)
    }

    func testOptionsMatchProblemChoicesAndImagesExist() throws {
        let root = try Fixtures.require("datasets-samples")
        let adapter = ScienceQABenchmark(spec: scienceQASpec(questionFile: "scienceqa/llava_test_CQM-A.json"), dataRoot: root)
        let problems = try adapter.problems()
        for item in try adapter.items() {
            let p = try XCTUnwrap(problems.problems[item.questionID.description])
            XCTAssertEqual(item.options, p.choices, "options of \(item.questionID)")
            XCTAssertEqual(item.image != nil, p.image != nil)
            if let url = try adapter.imageURL(for: item) {
                XCTAssertTrue(FileManager.default.fileExists(atPath: url.path), url.path)
            }
        }
        XCTAssertEqual(try adapter.splitIDs().count, 60)
    }

    /// The parser against every parsed answer eval_science_qa.py recorded.
    func testParserMatchesRecordedParsedAnswers() throws {
        var cases = 0
        for name in ["llava-v1.5-13b-real-CQM-I", "tricky-a-CQM-I", "tricky-b-CQM-A"] {
            let url = try Fixtures.require("datasets-samples/scienceqa/expected/\(name)_output.json")
            let doc = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: [[String: Any]]])
            for entry in (doc["correct"] ?? []) + (doc["incorrect"] ?? []) {
                let pred = entry["pred"] as! String
                XCTAssertEqual(ScienceQAAnswer.parse(pred), entry["parsed_ans"] as? String, "\(name): \(pred.debugDescription)")
                cases += 1
            }
        }
        XCTAssertEqual(cases, 180)
    }

    func testOptionParsingSkipsOptionLikeContextLines() {
        XCTAssertEqual(ScienceQABenchmark.options(in: "Context: A. first\nB. decoy\nWhich?\nA. x\nB. y"), ["x", "y"])
        XCTAssertEqual(ScienceQABenchmark.options(in: "B. decoy\nA. x\nB. y\nC. z"), ["x", "y", "z"])
        XCTAssertNil(ScienceQABenchmark.options(in: "Which?\nB. y"))
        XCTAssertNil(ScienceQABenchmark.options(in: "No options here"))
    }

    func testParserEdgeCases() {
        XCTAssertEqual(ScienceQAAnswer.parse("A\u{301}"), "FAILED")
        XCTAssertEqual(ScienceQAAnswer.parse("The answer is Z."), "Z")
        XCTAssertEqual(ScienceQAAnswer.predictionIndex("Z", choiceCount: 4), -1)
        XCTAssertEqual(ScienceQAAnswer.predictionIndex("C", choiceCount: 2), -1)
        XCTAssertEqual(ScienceQAAnswer.predictionIndex("B", choiceCount: 2), 1)
        XCTAssertEqual(ScienceQAAnswer.parse("The answer is A\n"), "FAILED")
        XCTAssertEqual(ScienceQAAnswer.parse("The answer is A.\nThe answer is A"), "A")
    }

    func testMalformedQuestionFileNamesTheField() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sqa-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("[{\"id\": \"1\", \"conversations\": []}]".utf8).write(to: dir.appendingPathComponent("q.json"))
        let adapter = ScienceQABenchmark(spec: scienceQASpec(questionFile: "q.json"), dataRoot: dir)
        XCTAssertThrowsError(try adapter.items()) { error in
            XCTAssertTrue("\(error)".contains("q.json field '[0].conversations[0].value'"), "\(error)")
        }
    }
}
