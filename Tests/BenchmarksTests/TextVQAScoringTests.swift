import XCTest
import Foundation
import Benchmarks
import TestSupport
import Records

final class TextVQAScoringTests: XCTestCase {
    func testEveryAnswerFileMatchesRecordedAccuracy() throws {
        let scorer = try TextVQAScorer(spec: Specs.textvqa, dataRoot: try Samples.root())
        let scores = try XCTUnwrap(try Samples.json("textvqa/expected/scores.json") as? [String: [String: Any]])
        let names = try Samples.names(in: "textvqa/answers")
        XCTAssertEqual(names.count, 3)
        for name in names {
            let exp = try XCTUnwrap(scores[name])
            let report = try scorer.score(try Samples.answers("textvqa/answers/\(name).jsonl").records)
            assertUnitsReproduce(report, ["accuracy"], name)
            XCTAssertEqual(twoDP(try XCTUnwrap(report["accuracy"])), exp["accuracy_2dp"] as? String, name)
            XCTAssertEqual(report["samples"], (exp["samples"] as? NSNumber)?.doubleValue, name)
            // The stdout the script prints, rebuilt from our numbers.
            let stdout = "\(name)\nSamples: \(Int(report["samples"]!))\nAccuracy: \(twoDP(report["accuracy"]!))%\n\n"
            XCTAssertEqual(stdout, exp["stdout"] as? String)
            XCTAssertTrue(report.notes.isEmpty, "\(report.notes)")
        }
    }

    func testUnmatchedAnswerIsReported() throws {
        let scorer = try TextVQAScorer(spec: Specs.textvqa, dataRoot: try Samples.root())
        let bad = AnswerRecord(questionID: .string("nope"), prompt: "Q?\nx", text: "a", answerID: "", modelID: "")
        let report = try scorer.score([bad])
        XCTAssertEqual(report["samples"], 0)
        XCTAssertTrue(report.notes.first?.contains("match no annotation") == true)
    }

    func testSubmissionUsesIntegerQuestionIDsAndNormalizedAnswers() throws {
        let root = try Samples.root()
        let out = try Samples.tempDir()
        defer { try? FileManager.default.removeItem(at: out) }
        let answers = try Samples.answers("textvqa/answers/tricky-a.jsonl").records
        let url = try TextVQAExporter(spec: Specs.textvqa, dataRoot: root).export(answers, to: out, name: "tricky-a")[0]
        let arr = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [[String: Any]])
        XCTAssertEqual(arr.count, answers.count)
        let ann = try XCTUnwrap((try Samples.json("textvqa/TextVQA_0.5.1_val.json") as? [String: Any])?["data"] as? [[String: Any]])
        let ids = Set(ann.compactMap { ($0["question_id"] as? NSNumber)?.int64Value })
        for (obj, r) in zip(arr, answers) {
            XCTAssertEqual(Array(obj.keys).sorted(), ["answer", "question_id"])
            XCTAssertTrue(ids.contains(try XCTUnwrap(obj["question_id"] as? NSNumber).int64Value))
            XCTAssertEqual(obj["answer"] as? String, EvalAIAnswerProcessor.normalize(r.text))
        }
    }
}
