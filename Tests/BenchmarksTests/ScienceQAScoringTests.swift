import Foundation
import XCTest
import Benchmarks
import TestSupport
import Records

/// The ScienceQA entry as datasets.json declares it, relative to the samples data root.
private func scienceQASpec() -> DatasetSpec { RepoSpecs.spec("scienceqa") }

private let sqaAnswerFiles = ["llava-v1.5-13b-real-CQM-I", "tricky-a-CQM-I", "tricky-b-CQM-A"]

final class ScienceQAScoringTests: XCTestCase {
    private func answers(_ name: String) throws -> [AnswerRecord] {
        let contents = try AnswersFile.read(try Fixtures.require("datasets-samples/scienceqa/answers/\(name).jsonl"))
        XCTAssertTrue(contents.badLines.isEmpty)
        return contents.records
    }

    /// The printed line and every per-category value of scores.json (-1 = empty group, left out).
    func testStdoutAndCategoryBreakdownMatch() throws {
        let root = try Fixtures.require("datasets-samples")
        let url = try Fixtures.require("datasets-samples/scienceqa/expected/scores.json")
        let all = try PartBFixtureJSON.load(url)
        let scorer = try ScienceQAScorer(spec: scienceQASpec(), dataRoot: root)
        var compared = 0
        for name in sqaAnswerFiles {
            let exp = try XCTUnwrap(all[name])
            let report = try scorer.score(answers(name))
            assertUnitsReproduce(report, ["accuracy", "img_accuracy"], name)
            let line = "Total: \(Int(report["total"]!)), Correct: \(Int(report["correct"]!)), "
                + "Accuracy: \(String(format: "%.2f", report["accuracy"]!))%, "
                + "IMG-Accuracy: \(String(format: "%.2f", report["img_accuracy"]!))%"
            XCTAssertEqual(line, exp["stdout"]?.string, name)
            let stdout = try String(contentsOf: root.appendingPathComponent("scienceqa/expected/\(name).stdout.txt"), encoding: .utf8)
            XCTAssertEqual(line + "\n", stdout)
            XCTAssertEqual(report["total"], exp["total"]?.double)
            XCTAssertEqual(report["correct"], exp["correct"]?.double)
            XCTAssertEqual(report.headline, "img_accuracy")
            let cats = try XCTUnwrap(exp["per_category_evaluate_acc"]?.object)
            for (key, value) in cats {
                let stem = String(key.dropFirst(4))
                let ours = ScienceQACategories.topics.contains(stem) ? report["topic.\(stem)"] : report["category.\(stem)"]
                if let s = value.string {
                    XCTAssertEqual(ours.map { String(format: "%.2f", $0) }, s, "\(name) \(key)")
                } else {
                    XCTAssertEqual(value.int, -1)
                    XCTAssertNil(ours, "\(name) \(key) has no problems")
                }
                compared += 1
            }
        }
        XCTAssertEqual(compared, 3 * 35)
    }

    /// Both files eval_science_qa.py writes are reproduced byte for byte.
    func testExportedOutputAndResultFilesMatchRecorded() throws {
        let root = try Fixtures.require("datasets-samples")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("sqa-export-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        for name in sqaAnswerFiles {
            let urls = try ScienceQAExporter(spec: scienceQASpec(), dataRoot: root).export(answers(name), to: out, name: name)
            XCTAssertEqual(urls.map(\.lastPathComponent), ["\(name)_output.json", "\(name)_result.json"])
            for url in urls {
                let recorded = try Data(contentsOf: root.appendingPathComponent("scienceqa/expected/" + url.lastPathComponent))
                let ours = try Data(contentsOf: url)
                XCTAssertEqual(String(decoding: ours, as: UTF8.self), String(decoding: recorded, as: UTF8.self), url.lastPathComponent)
            }
        }
    }

    func testMissingDuplicateAndForeignIdsAreReported() throws {
        let root = try Fixtures.require("datasets-samples")
        let scorer = try ScienceQAScorer(spec: scienceQASpec(), dataRoot: root)
        let report = try scorer.score(answers("tricky-b-CQM-A"))
        let notes = report.notes.joined(separator: "\n")
        XCTAssertTrue(notes.contains("1 of 60 test problems have no answer"), notes)
        XCTAssertTrue(notes.contains("1 question ids appear more than once"), notes)
        var foreign = try answers("tricky-a-CQM-I")
        foreign.append(AnswerRecord(questionID: .string("999999"), prompt: "", text: "A", answerID: "", modelID: ""))
        XCTAssertTrue(try scorer.score(foreign).notes.joined().contains("1 answer ids are not test problems"))
    }
}
