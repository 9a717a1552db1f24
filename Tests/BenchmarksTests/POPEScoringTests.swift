import Foundation
import XCTest
import Benchmarks
import TestSupport
import Records

/// The POPE entry as datasets.json declares it, relative to the samples data root.
private func popeSpec() -> DatasetSpec { RepoSpecs.spec("pope") }

private let popeAnswerFiles = ["llava-v1.5-13b-real", "tricky-a", "tricky-b"]

final class POPEScoringTests: XCTestCase {
    private func answers(_ name: String) throws -> [AnswerRecord] {
        let contents = try AnswersFile.read(try Fixtures.require("datasets-samples/pope/answers/\(name).jsonl"))
        XCTAssertTrue(contents.badLines.isEmpty)
        return contents.records
    }

    /// Every per-split value of scores.json (counts, ratios, summary line) and the average F1.
    func testEveryRecordedValueMatches() throws {
        let root = try Fixtures.require("datasets-samples")
        let url = try Fixtures.require("datasets-samples/pope/expected/scores.json")
        let all = try PartBFixtureJSON.load(url)
        let scorer = try POPEScorer(spec: popeSpec(), dataRoot: root)
        for name in popeAnswerFiles {
            let exp = try XCTUnwrap(all[name])
            let (results, notes) = try scorer.evaluate(answers(name))
            XCTAssertTrue(notes.isEmpty, "\(name): \(notes)")
            let cats = try XCTUnwrap(exp["categories"]?.object)
            XCTAssertEqual(Set(results.map(\.category)), Set(cats.keys))
            let report = try scorer.score(answers(name))
            assertUnitsReproduce(report, ["f1.average", "accuracy.average"], name)
            for r in results {
                let e = try XCTUnwrap(cats[r.category])
                let c = r.category
                XCTAssertEqual(r.samples, e["samples"]?.int, "\(name) \(c)")
                XCTAssertEqual([r.tp, r.fp, r.tn, r.fn], ["TP", "FP", "TN", "FN"].map { e[$0]?.int ?? -1 }, "\(name) \(c)")
                XCTAssertEqual(r.accuracy, e["accuracy"]?.double, "\(name) \(c)")
                XCTAssertEqual(r.precision, e["precision"]?.double, "\(name) \(c)")
                XCTAssertEqual(r.recall, e["recall"]?.double, "\(name) \(c)")
                XCTAssertEqual(r.f1, e["f1"]?.double, "\(name) \(c)")
                XCTAssertEqual(r.yesRatio, e["yes_ratio"]?.double, "\(name) \(c)")
                XCTAssertEqual(r.summaryLine, e["summary_line"]?.string, "\(name) \(c)")
                XCTAssertEqual(report["f1.\(c)"], e["f1"]?.double)
                XCTAssertEqual(report["accuracy.\(c)"], e["accuracy"]?.double)
                XCTAssertEqual(report["yes_ratio.\(c)"], e["yes_ratio"]?.double)
                XCTAssertEqual(report["tp.\(c)"], e["TP"]?.double)
            }
            XCTAssertEqual(report["f1.average"], exp["average_f1"]?.double, name)
            XCTAssertEqual(report.headline, "f1.average")
        }
    }

    /// With the original label files as question source the scores are the same.
    func testLabelFolderAsQuestionSourceScoresTheSame() throws {
        let root = try Fixtures.require("datasets-samples")
        var spec = popeSpec()
        spec.questionFile = "pope/coco"
        for name in popeAnswerFiles {
            XCTAssertEqual(try POPEScorer(spec: spec, dataRoot: root).score(answers(name)),
                           try POPEScorer(spec: popeSpec(), dataRoot: root).score(answers(name)), name)
        }
    }

    /// The stdout of eval_pope.py, rebuilt from our results, equals the recorded one.
    func testStdoutMatches() throws {
        let root = try Fixtures.require("datasets-samples")
        let scorer = try POPEScorer(spec: popeSpec(), dataRoot: root)
        for name in popeAnswerFiles {
            let stdout = try String(contentsOf: root.appendingPathComponent("pope/expected/\(name).stdout.txt"), encoding: .utf8)
            let report = try scorer.score(answers(name))
            var text = ""
            for r in try scorer.evaluate(answers(name)).categories {
                text += "Category: \(r.category), # samples: \(r.samples)\nTP\tFP\tTN\tFN\t\n\(r.tp)\t\(r.fp)\t\(r.tn)\t\(r.fn)\n"
                text += "Accuracy: \(r.accuracy!)\nPrecision: \(r.precision!)\nRecall: \(r.recall!)\n"
                text += "F1 score: \(r.f1!)\nYes ratio: \(r.yesRatio!)\n\(r.summaryLine!)\n====================================\n"
            }
            text += "Average F1 score: \(report["f1.average"]!)\n"
            // The recorded category order is the reference machine's directory listing; compare blocks as a set.
            let blocks = { (s: String) in Set(s.components(separatedBy: "====================================\n")) }
            XCTAssertEqual(blocks(text), blocks(stdout), name)
        }
    }

    func testUndefinedRatiosBecomeNotesNotCrashes() throws {
        let root = try Fixtures.require("datasets-samples")
        let scorer = try POPEScorer(spec: popeSpec(), dataRoot: root)
        var records = try answers("llava-v1.5-13b-real")
        for i in records.indices { records[i].text = "No" }
        // Random split unanswered, one unknown id.
        records.removeAll { if case .int(let v) = $0.questionID { return v >= 10_000_000 && v < 20_000_000 } else { return false } }
        records.append(AnswerRecord(questionID: .int(77), prompt: "", text: "Yes", answerID: "", modelID: ""))
        let report = try scorer.score(records)
        XCTAssertNil(report["precision.adversarial"])
        XCTAssertNil(report["f1.average"])
        XCTAssertNotNil(report["accuracy.adversarial"])
        XCTAssertNotNil(report["recall.adversarial"])
        XCTAssertEqual(report["yes_ratio.popular"], 0)
        XCTAssertNil(report["yes_ratio.random"])
        let notes = report.notes.joined(separator: "\n")
        XCTAssertTrue(notes.contains("ZeroDivisionError"), notes)
        XCTAssertTrue(notes.contains("1 answers have question ids not in"), notes)
        XCTAssertTrue(notes.contains("14 of 42 questions have no answer"), notes)
        XCTAssertTrue(notes.contains("random: 0 answers vs 14 labels"), notes)
    }

    /// The exported answers file is what eval_pope.py reads: byte-identical to the recorded one.
    func testExportRoundTripsTheAnswersFile() throws {
        let root = try Fixtures.require("datasets-samples")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("pope-export-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        for name in popeAnswerFiles {
            let urls = try POPEExporter(spec: popeSpec(), dataRoot: root).export(answers(name), to: out, name: name)
            XCTAssertEqual(urls.map(\.lastPathComponent), ["\(name).jsonl"])
            XCTAssertEqual(try Data(contentsOf: urls[0]),
                           try Data(contentsOf: root.appendingPathComponent("pope/answers/\(name).jsonl")), name)
        }
    }
}
