import Foundation
import TestSupport
import XCTest

/// `vispruner demo` on the bundled trained tiny model and its synthetic held-out data: every artefact is written,
/// each score says how many items it is over, the model really answers (far above the answer prior, and random
/// selection of 16 tokens costs it), and notes that hold for every setting (VQAv2 test-dev not scored here, GQA's
/// missing choices file) are said once, not once per run.
/// (One method at one budget: the full grid is the README's demo.)
final class DemoCommandTests: XCTestCase {
    func testQuickDemoWritesScoresWithItemCountsFiguresAndOneVQAv2Note() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("demo-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let r = try CLIRunner.run(["demo", "--out", out.path, "--tokens", "16", "--method", "random", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("models/llava15-synth"), r.stderr)
        let scores = try String(contentsOf: out.appendingPathComponent("scores.md"), encoding: .utf8)
        for row in ["| llava15-synth | unpruned | all | – |", "| llava15-synth | random | 16 | – |"] {
            XCTAssertTrue(scores.contains(row), scores)
        }
        let gqa = try String(contentsOf: Fixtures.repoRoot.appendingPathComponent("demo/data-synth/gqa/llava_gqa_testdev_balanced.jsonl"),
                             encoding: .utf8).split(separator: "\n").count
        XCTAssertTrue(scores.contains("GQA (n=\(gqa))"), scores)
        // the trained model answers from the image (GQA far above what always giving each question type's most
        // common answer scores), and keeping 16 random tokens of 576 costs it
        let csv = try String(contentsOf: out.appendingPathComponent("scores.csv"), encoding: .utf8)
        let unpruned = try XCTUnwrap(Self.value(csv, method: "unpruned", column: "GQA"), csv)
        let random16 = try XCTUnwrap(Self.value(csv, method: "random", column: "GQA"), csv)
        XCTAssertGreaterThan(unpruned, 60, csv)
        XCTAssertLessThan(random16, unpruned - 10, csv)
        XCTAssertEqual(r.stdout.components(separatedBy: "not scored locally").count - 1, 1, r.stdout)
        XCTAssertTrue(r.stdout.contains("note: vqav2 (2 runs): not scored locally"), r.stdout)
        // a data note that holds for every setting is said once, not once per run
        XCTAssertEqual(r.stdout.components(separatedBy: "validity/plausibility are 0").count - 1, 1, r.stdout)
        for file in ["demo.sqlite", "scores.csv", "latency.md", "accuracy.png", "accuracy.svg", "accuracy.pdf", "latency.png"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), file)
        }
        let bad = try CLIRunner.run(["demo", "--out", out.path, "--method", "nosuch", "--quiet"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("nosuch"), bad.stderr)
    }

    /// The value of `column` in the scores.csv row of `method`.
    static func value(_ csv: String, method: String, column: String) -> Double? {
        let lines = csv.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        guard let header = lines.first, let m = header.firstIndex(of: "method"), let c = header.firstIndex(of: column) else {
            return nil
        }
        return lines.dropFirst().first { $0.count > max(m, c) && $0[m] == method }.flatMap { Double($0[c]) }
    }
}
