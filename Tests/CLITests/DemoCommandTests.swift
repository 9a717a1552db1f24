import Foundation
import TestSupport
import XCTest

/// `vispruner demo` on the bundled tiny model and its sample data: every artefact is written,
/// each score says how many items it is over, and notes that hold for every setting (VQAv2 test-dev not scored here,
/// GQA's missing choices file) are said once, not once per run.
/// (One method at one budget: the full grid takes about 75 s in release.)
final class DemoCommandTests: XCTestCase {
    func testQuickDemoWritesScoresWithItemCountsFiguresAndOneVQAv2Note() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("demo-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let r = try CLIRunner.run(["demo", "--out", out.path, "--tokens", "16", "--method", "random", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("models/llava15-tiny"), r.stderr)
        let scores = try String(contentsOf: out.appendingPathComponent("scores.md"), encoding: .utf8)
        for row in ["| llava15-tiny | unpruned | all | – |", "| llava15-tiny | random | 16 | – |"] {
            XCTAssertTrue(scores.contains(row), scores)
        }
        let gqa = try String(contentsOf: Fixtures.repoRoot.appendingPathComponent("demo/data/gqa/llava_gqa_testdev_balanced.jsonl"),
                             encoding: .utf8).split(separator: "\n").count
        XCTAssertTrue(scores.contains("GQA (n=\(gqa))"), scores)
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
}
