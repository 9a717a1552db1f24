import XCTest
import Foundation
import Benchmarks
import Records

/// Behaviour of eval.py's corner cases on a two-question synthetic file.
final class GQAEdgeCaseTests: XCTestCase {
    func makeRoot(globalGroup: String, choices: String?) throws -> (URL, DatasetSpec) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vp-gqa-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("q"), withIntermediateDirectories: true)
        func q(_ answer: String, _ structural: String, _ detailed: String) -> String {
            """
            {"semantic": [{"operation": "select", "dependencies": [], "argument": "x"}], "entailed": [], "equivalent": [],
             "question": "Is it red?", "imageId": "n1", "isBalanced": true, "groups": {"global": \(globalGroup), "local": null},
             "answer": "\(answer)", "semanticStr": "", "annotations": {}, "types": {"detailed": "\(detailed)", "semantic": "attr",
             "structural": "\(structural)"}, "fullAnswer": ""}
            """
        }
        try "{\"2\": \(q("red", "query", "colorCommon")), \"1\": \(q("yes", "verify", "verifyAttr"))}"
            .write(to: dir.appendingPathComponent("q/questions.json"), atomically: true, encoding: .utf8)
        var files = ["questions": "q/questions.json"]
        if let choices {
            try choices.write(to: dir.appendingPathComponent("q/choices.json"), atomically: true, encoding: .utf8)
            files["choices"] = "q/choices.json"
        }
        let spec = DatasetSpec(name: "gqa", title: "GQA", split: "testdev_balanced", questionFile: "q/questions.json",
                               annotationFiles: files, imageFolder: "q", promptSuffix: "", scorer: "gqa",
                               submissionFormat: "gqa-predictions", maxNewTokens: 128)
        return (dir, spec)
    }

    func answer(_ id: String, _ text: String) -> AnswerRecord {
        AnswerRecord(questionID: .string(id), prompt: "", text: text, answerID: "", modelID: "")
    }

    func testNoGlobalGroupGivesNaNDistributionWithNote() throws {
        let (dir, spec) = try makeRoot(globalGroup: "null", choices: nil)
        defer { try? FileManager.default.removeItem(at: dir) }
        let report = try GQAScorer(spec: spec, dataRoot: dir).score([answer("1", "Yes."), answer("2", "blue")])
        XCTAssertEqual(report["accuracy"], 50)
        XCTAssertEqual(report["binary"], 100)
        XCTAssertEqual(report["open"], 0)
        XCTAssertTrue(report["distribution"]?.isNaN == true)
        XCTAssertTrue(report.notes.contains { $0.contains("divides by zero") }, "\(report.notes)")
    }

    func testChoicesFileEnablesValidityWithCommonRule() throws {
        // "colorCommon" questions accept any of color/material/shape as valid, whatever the file says.
        let choices = #"{"1": {"valid": ["yes", "no"], "plausible": ["no"]}, "2": {"valid": ["blue"], "plausible": ["blue"]}}"#
        let (dir, spec) = try makeRoot(globalGroup: "\"g\"", choices: choices)
        defer { try? FileManager.default.removeItem(at: dir) }
        let e = try GQAScorer(spec: spec, dataRoot: dir).evaluate([answer("1", "yes"), answer("2", "color")])
        XCTAssertEqual(e.validity, 100)
        XCTAssertEqual(e.plausibility, 50)
        XCTAssertTrue(e.distribution.isFinite)
    }
}
