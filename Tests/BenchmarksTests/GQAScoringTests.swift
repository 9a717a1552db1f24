import XCTest
import Foundation
import Benchmarks
import TestSupport

final class GQAScoringTests: XCTestCase {
    /// Every line of every recorded eval.py stdout (headline metrics and all breakdowns with counts).
    func testEveryAnswerFileMatchesRecordedEvalStdout() throws {
        let root = try Samples.root()
        let scorer = try GQAScorer(spec: Specs.gqa, dataRoot: root)
        let names = try Samples.names(in: "gqa/answers")
        XCTAssertEqual(names.count, 3)
        let scores = try XCTUnwrap(try Samples.json("gqa/expected/scores.json") as? [String: [String: Double]])
        for name in names {
            let answers = try Samples.answers("gqa/answers/\(name).jsonl")
            XCTAssertTrue(answers.badLines.isEmpty)
            let e = scorer.evaluate(answers.records)
            var lines = ["", "Binary: \(twoDP(e.binary))%", "Open: \(twoDP(e.open))%", "Accuracy: \(twoDP(e.accuracy))%",
                         "Validity: \(twoDP(e.validity))%", "Plausibility: \(twoDP(e.plausibility))%",
                         "Distribution: \(twoDP(e.distribution)) (lower is better)", "", "Accuracy / structural type:"]
            lines += e.structural.map { "  \($0.key): \(twoDP($0.accuracy))% (\($0.count) questions)" }
            lines += ["", "Accuracy / semantic type:"]
            lines += e.semantic.map { "  \($0.key): \(twoDP($0.accuracy))% (\($0.count) questions)" }
            lines += ["", "Accuracy / steps number:"]
            lines += e.steps.map { "  \($0.key): \(twoDP($0.accuracy))% (\($0.count) questions)" }
            lines += ["", "Accuracy / words number:"]
            lines += e.words.map { "  \($0.key): \(twoDP($0.accuracy))% (\($0.count) questions)" }
            let stdout = try String(contentsOf: try Fixtures.require("datasets-samples/gqa/expected/\(name).eval.stdout.txt"), encoding: .utf8)
            let recorded = stdout.components(separatedBy: "Loading predictions...\n")[1]
                .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            XCTAssertEqual(lines, Array(recorded.prefix(lines.count)), name)
            XCTAssertTrue(recorded.dropFirst(lines.count).allSatisfy { $0.isEmpty }, name)

            let report = try scorer.score(answers.records)
            let exp = try XCTUnwrap(scores[name])
            for key in ["accuracy", "binary", "open", "validity", "plausibility", "distribution"] {
                XCTAssertEqual(twoDP(try XCTUnwrap(report[key])), twoDP(try XCTUnwrap(exp[key])), "\(name) \(key)")
            }
            XCTAssertEqual(report.headline, "accuracy")
            assertUnitsReproduce(report, ["accuracy"], name)
        }
    }

    /// Predictions written as convert_gqa_for_eval.py writes them, byte for byte.
    func testExportedPredictionsMatchRecordedFiles() throws {
        let root = try Samples.root()
        let out = try Samples.tempDir()
        defer { try? FileManager.default.removeItem(at: out) }
        for name in try Samples.names(in: "gqa/answers") {
            let answers = try Samples.answers("gqa/answers/\(name).jsonl")
            let urls = try GQAExporter(spec: Specs.gqa, dataRoot: root).export(answers.records, to: out, name: name)
            XCTAssertEqual(urls.map(\.lastPathComponent), ["testdev_balanced_predictions.json"])
            let got = try Data(contentsOf: urls[0])
            let expected = try Data(contentsOf: try Fixtures.require("datasets-samples/gqa/expected/\(name).testdev_balanced_predictions.json"))
            XCTAssertEqual(String(decoding: got, as: UTF8.self), String(decoding: expected, as: UTF8.self), name)
        }
    }

    func testMissingPredictionIsReportedNotCrashing() throws {
        let answers = try Samples.answers("gqa/answers/llava-v1.5-13b-real.jsonl").records
        let report = try GQAScorer(spec: Specs.gqa, dataRoot: try Samples.root()).score(Array(answers.dropFirst(2)))
        XCTAssertTrue(report.notes.contains { $0.contains("2 balanced questions have no prediction") }, "\(report.notes)")
    }
}
