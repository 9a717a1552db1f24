import XCTest
import Foundation
import Benchmarks
import TestSupport

final class VQAv2ScoringTests: XCTestCase {
    /// Both val-style evaluations against every recorded value (overall, per type, per question).
    func testValStyleScoresMatchRecorded() throws {
        let scorer = try VQAv2Scorer(spec: Specs.vqav2, dataRoot: try Samples.root())
        let val = try XCTUnwrap((try Samples.json("vqav2/expected/scores.json") as? [String: Any])?["val"] as? [String: [String: Any]])
        XCTAssertEqual(val.count, 2)
        for (name, exp) in val {
            let answers = try Samples.answers("vqav2/answers/\(name).jsonl")
            let e = try scorer.evaluate(answers.records)
            // m4c
            let m4cExp = try XCTUnwrap(exp["m4c_per_question"] as? [Double])
            XCTAssertEqual(e.m4cPerQuestion.count, m4cExp.count, name)
            for (i, (g, x)) in zip(e.m4cPerQuestion, m4cExp).enumerated() { XCTAssertEqual(g, x, accuracy: 1e-12, "\(name) m4c #\(i)") }
            XCTAssertEqual(e.m4cAccuracy, try XCTUnwrap(exp["m4c_evalai_accuracy"] as? Double), accuracy: 1e-12, name)
            // official
            let off = try XCTUnwrap(exp["official_vqaeval"] as? [String: Any])
            let acc = try XCTUnwrap(off["accuracy"] as? [String: Any])
            XCTAssertEqual(e.overall, try XCTUnwrap(acc["overall"] as? Double), name)
            let pqt = try XCTUnwrap(acc["perQuestionType"] as? [String: Double])
            XCTAssertEqual(e.perQuestionType.count, pqt.count)
            for t in e.perQuestionType { XCTAssertEqual(t.accuracy, pqt[t.type], "\(name) \(t.type)") }
            let pat = try XCTUnwrap(acc["perAnswerType"] as? [String: Double])
            XCTAssertEqual(e.perAnswerType.count, pat.count)
            for t in e.perAnswerType { XCTAssertEqual(t.accuracy, pat[t.type], "\(name) \(t.type)") }
            let perQ = try XCTUnwrap(off["per_question"] as? [String: Double])
            XCTAssertEqual(e.officialPerQuestion.count, perQ.count)
            for q in e.officialPerQuestion { XCTAssertEqual(q.accuracy, perQ[String(q.id)], "\(name) q\(q.id)") }
            let report = try scorer.score(answers.records)
            XCTAssertEqual(report["accuracy"], acc["overall"] as? Double)
        }
    }

    /// The EvalAI upload file and the script's summary line, for every recorded answer set.
    func testSubmissionMatchesRecordedUploadFiles() throws {
        let root = try Samples.root()
        let out = try Samples.tempDir()
        defer { try? FileManager.default.removeItem(at: out) }
        let submission = try XCTUnwrap((try Samples.json("vqav2/expected/scores.json") as? [String: Any])?["submission"] as? [String: [String: String]])
        let names = try Samples.names(in: "vqav2/expected/answers_upload/llava_vqav2_mscoco_test-dev2015", ext: "json")
        XCTAssertEqual(names.count, 2)
        let exporter = VQAv2Exporter(spec: Specs.vqav2, dataRoot: root)
        for name in names {
            let answers = try Samples.answers("vqav2/answers/llava_vqav2_mscoco_test-dev2015/\(name)/merge.jsonl")
            XCTAssertEqual(try exporter.summary(answers.records, errorLines: answers.badLines.count), submission[name]?["stdout"])
            let url = try exporter.export(answers.records, to: out, name: name)[0]
            let got = try String(contentsOf: url, encoding: .utf8)
            let expected = try String(contentsOf: try Fixtures.require(
                "datasets-samples/vqav2/expected/answers_upload/llava_vqav2_mscoco_test-dev2015/\(name).json"), encoding: .utf8)
            XCTAssertEqual(got, expected, name)
        }
    }

    func testTestDevAnswersPointToEvalAI() throws {
        let scorer = try VQAv2Scorer(spec: Specs.vqav2, dataRoot: try Samples.root())
        let answers = try Samples.answers("vqav2/answers/llava_vqav2_mscoco_test-dev2015/tricky-a/merge.jsonl")
        XCTAssertThrowsError(try scorer.score(answers.records)) { error in
            XCTAssertTrue("\(error)".contains("export vqav2"), "\(error)")
        }
    }

    func testAnswersJSONLRoundTripsBytes() throws {
        let out = try Samples.tempDir()
        defer { try? FileManager.default.removeItem(at: out) }
        let src = try Fixtures.require("datasets-samples/vqav2/answers/val-tricky-a.jsonl")
        let records = try AnswersFile.read(src).records
        let url = try AnswersJSONLExporter(spec: Specs.vqav2, dataRoot: try Samples.root()).export(records, to: out, name: "x")[0]
        XCTAssertEqual(try Data(contentsOf: url), try Data(contentsOf: src))
    }
}
