import XCTest
import Foundation
import TestSupport

/// Runs the built `vispruner` binary (build first with `swift build`).
final class DatasetCommandsTests: XCTestCase {
    func run(_ args: [String], environment: [String: String] = [:]) throws -> CLIRunner.Result {
        try CLIRunner.run(args, environment: environment)
    }

    func samples() throws -> String { try Fixtures.require("datasets-samples").path }

    func testScoreGQAJSONMatchesRecordedScores() throws {
        let root = try samples()
        let scores = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: root + "/gqa/expected/scores.json"))) as? [String: [String: Double]])
        for (name, exp) in scores {
            let r = try run(["score", "gqa", "--answers", "\(root)/gqa/answers/\(name).jsonl", "--data-root", root, "--json"])
            XCTAssertEqual(r.status, 0, r.stderr)
            let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            let metrics = try XCTUnwrap(obj["metrics"] as? [String: Double])
            for key in ["accuracy", "binary", "open", "distribution"] {
                XCTAssertEqual(String(format: "%.2f", try XCTUnwrap(metrics[key])), String(format: "%.2f", try XCTUnwrap(exp[key])), "\(name) \(key)")
            }
            XCTAssertEqual(obj["headline"] as? String, "accuracy")
        }
    }

    func testScoreTableAndDataRootFromEnvironment() throws {
        let root = try samples()
        let r = try run(["score", "textvqa", "--answers", "\(root)/textvqa/answers/tricky-a.jsonl"], environment: ["VISPRUNER_DATA": root])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("accuracy"), r.stdout)
        XCTAssertTrue(r.stdout.contains("31.25"), r.stdout)
    }

    func testScoreReportsMissingExtraAndBadLines() throws {
        let root = try samples()
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("vp-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        var lines = try String(contentsOfFile: "\(root)/gqa/answers/llava-v1.5-13b-real.jsonl", encoding: .utf8)
            .split(separator: "\n").map(String.init)
        lines.removeFirst(3)
        lines.append("{\"question_id\": \"999\", \"prompt\": \"x\", \"text\": \"yes\"}")
        lines.append("{oops")
        let file = tmp.appendingPathComponent("partial.jsonl")
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        let r = try run(["score", "gqa", "--answers", file.path, "--data-root", root])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("3 of 40 questions have no answer"), r.stdout)
        XCTAssertTrue(r.stdout.contains("1 answers are for ids not in the question file"), r.stdout)
        XCTAssertTrue(r.stdout.contains("1 unparsable answer lines"), r.stdout)
    }

    func testScoreVQAv2TestDevPointsToExportAndFails() throws {
        let root = try samples()
        let r = try run(["score", "vqav2", "--answers", "\(root)/vqav2/answers/llava_vqav2_mscoco_test-dev2015/tricky-a/merge.jsonl", "--data-root", root])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("export vqav2"), r.stderr)
    }

    func testExportVQAv2MatchesRecordedUpload() throws {
        let root = try samples()
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("vp-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        for name in ["tricky-a", "tricky-b"] {
            let r = try run(["export", "vqav2", "--answers", "\(root)/vqav2/answers/llava_vqav2_mscoco_test-dev2015/\(name)/merge.jsonl",
                             "--data-root", root, "--out", out.path])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.stdout.contains("total results: 30, total split: 46"), r.stdout)
            let got = try Data(contentsOf: out.appendingPathComponent("\(name).json"))
            let expected = try Data(contentsOf: URL(fileURLWithPath: "\(root)/vqav2/expected/answers_upload/llava_vqav2_mscoco_test-dev2015/\(name).json"))
            XCTAssertEqual(got, expected, name)
        }
        let g = try run(["export", "gqa", "--answers", "\(root)/gqa/answers/tricky-b.jsonl", "--data-root", root, "--out", out.path])
        XCTAssertEqual(g.status, 0, g.stderr)
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("testdev_balanced_predictions.json")),
                       try Data(contentsOf: URL(fileURLWithPath: "\(root)/gqa/expected/tricky-b.testdev_balanced_predictions.json")))
        let j = try run(["export", "textvqa", "--answers", "\(root)/textvqa/answers/tricky-b.jsonl", "--data-root", root,
                         "--out", out.path, "--format", "answers-jsonl"])
        XCTAssertEqual(j.status, 0, j.stderr)
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("tricky-b.jsonl")),
                       try Data(contentsOf: URL(fileURLWithPath: "\(root)/textvqa/answers/tricky-b.jsonl")))
    }

    func testDatasetsCheckOnSamplesSucceeds() throws {
        let r = try run(["datasets", "check", "--data-root", try samples()])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("gqa: 40 items"), r.stdout)
        XCTAssertTrue(r.stdout.contains("vqav2: 30 items"), r.stdout)
    }

    func testDatasetsCheckReportsBrokenRoot() throws {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("vp-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp.appendingPathComponent("gqa/data/images"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        let images = try Fixtures.require("datasets-samples/gqa/data/images")
        let real = try XCTUnwrap(FileManager.default.contentsOfDirectory(atPath: images.path).sorted().first)
        try FileManager.default.copyItem(at: images.appendingPathComponent(real), to: tmp.appendingPathComponent("gqa/data/images/a.jpg"))
        // A JPEG start marker and nothing else: present, but no header to decode.
        try Data([0xFF, 0xD8]).write(to: tmp.appendingPathComponent("gqa/data/images/broken.jpg"))
        let q = """
        {"question_id": "1", "image": "a.jpg", "text": "q?", "category": "default"}
        {"question_id": "2", "image": "missing.jpg", "text": "q?", "category": "default"}
        {"question_id": "3", "image": "../../../../etc/passwd", "text": "q?", "category": "default"}
        not json
        {"question_id": "5", "image": "broken.jpg", "text": "q?", "category": "default"}
        {"question_id": "6", "image": "new\\u001b[2Jline.jpg", "text": "q?", "category": "default"}

        """
        try q.write(to: tmp.appendingPathComponent("gqa/llava_gqa_testdev_balanced.jsonl"), atomically: true, encoding: .utf8)
        let r = try run(["datasets", "check", "--data-root", tmp.path])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stdout.contains("gqa: 5 items, 5 images, 1 malformed lines, 2 missing/unreadable images, 1 refused image paths, "
                                        + "1 undecodable images"), r.stdout)
        XCTAssertTrue(r.stdout.contains("image does not decode: gqa/data/images/broken.jpg"), r.stdout)
        // A control character in a path is printed escaped, never raw.
        XCTAssertTrue(r.stdout.contains("new\\u{1b}[2Jline.jpg"), r.stdout)
        XCTAssertFalse(r.stdout.contains("\u{1B}"), "no raw escape character reaches the terminal")
        XCTAssertTrue(r.stdout.contains("llava_gqa_testdev_balanced.jsonl:4"), r.stdout)
        XCTAssertTrue(r.stdout.contains("vqav2: skipped"), r.stdout)
    }
}
