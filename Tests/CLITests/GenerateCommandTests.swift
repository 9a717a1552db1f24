import XCTest
import Foundation
import TestSupport

/// `vispruner generate --json` and `vispruner visualize` from the command line, against reference runs.
final class GenerateCommandTests: XCTestCase {
    private func ints(_ any: Any?) -> [Int] {
        if let s = any as? String, let d = s.data(using: .utf8), let a = try? JSONSerialization.jsonObject(with: d) { return ints(a) }
        return (any as? [Any] ?? []).compactMap { ($0 as? NSNumber)?.intValue }
    }

    /// Unpruned reference runs (every visual token kept): ids, kept, token counts as recorded.
    func testGenerateJSONMatchesReferenceRuns() throws {
        let model = try Fixtures.require("fixtures/llava15-tiny").path
        let cases = try Fixtures.jsonLines("fixtures/llava15/cases.jsonl")
            .filter { ($0["tokens"] as? NSNumber)?.intValue == 576 && ($0["fragile"] as? Bool) != true }
        XCTAssertFalse(cases.isEmpty)
        for c in cases.prefix(6) {
            let image = try Fixtures.require("fixtures/llava15/" + (c["image"] as! String)).path
            let r = try CLIRunner.run(["generate", "--model", model, "--image", image, "--prompt", c["question"] as! String,
                                       "--tokens", "576", "--ratio", "\(c["ratio"]!)", "--max-new-tokens", "16", "--json"])
            XCTAssertEqual(r.status, 0, r.stderr)
            let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            XCTAssertEqual([1] + ints(obj["generated_ids"]), ints(c["generated_ids"]), "\(c["image"]!)")
            XCTAssertEqual((obj["kept"] as? [Any])?.map(ints), [ints(c["kept"])])
            XCTAssertEqual((obj["visual_tokens_fed"] as? NSNumber)?.intValue, (c["visual_tokens_fed"] as! NSNumber).intValue)
            XCTAssertEqual((obj["inputs_embeds_length"] as? NSNumber)?.intValue, (c["inputs_embeds_length"] as! NSNumber).intValue)
            XCTAssertEqual(obj["text"] as? String, c["generated_text"] as? String)
            let timings = try XCTUnwrap(obj["timings_ms"] as? [String: Double])
            for stage in ["load", "preprocess", "vision", "prune", "prefill", "decode", "total"] { XCTAssertNotNil(timings[stage], stage) }
        }
    }

    /// LLaVA-1.6 reference runs at 576 tokens per view (every token kept): ids, per-view kept, counts.
    func testGenerateJSONMatchesLlava16ReferenceRuns() throws {
        let model = try Fixtures.require("fixtures/llava16-tiny").path
        let cases = try Fixtures.jsonLines("fixtures/llava16/cases.jsonl")
            .filter { ($0["tokens"] as? NSNumber)?.intValue == 576 && ($0["fragile"] as? Bool) != true }
        XCTAssertFalse(cases.isEmpty)
        for c in cases.prefix(3) {
            let image = try Fixtures.require("fixtures/llava16/" + (c["image"] as! String)).path
            let r = try CLIRunner.run(["generate", "--model", model, "--image", image, "--prompt", c["question"] as! String,
                                       "--tokens", "576", "--ratio", "\(c["ratio"]!)", "--max-new-tokens", "16", "--json"])
            XCTAssertEqual(r.status, 0, r.stderr)
            let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            XCTAssertEqual([1] + ints(obj["generated_ids"]), ints(c["generated_ids"]), "\(c["image"]!)")
            XCTAssertEqual((obj["kept"] as? [Any])?.map(ints), (c["kept_per_crop"] as! [Any]).map(ints))
            XCTAssertEqual((obj["visual_tokens_fed"] as? NSNumber)?.intValue, (c["visual_tokens_fed"] as! NSNumber).intValue)
            XCTAssertEqual((obj["inputs_embeds_length"] as? NSNumber)?.intValue, (c["inputs_embeds_length"] as! NSNumber).intValue)
        }
    }

    func testPrunedGenerateKeepsTheBudgetAndVisualizeDrawsIt() throws {
        let model = try Fixtures.require("fixtures/llava15-tiny").path
        let image = try Fixtures.require("fixtures/llava15/images/scene-640x480.jpg").path
        let r = try CLIRunner.run(["generate", "--model", model, "--image", image, "--prompt", "Is there a dog?",
                                   "--tokens", "64", "--ratio", "0.5", "--max-new-tokens", "4", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((obj["kept"] as? [Any]).map { $0.map(ints).map(\.count) }, [64])
        XCTAssertEqual((obj["important"] as? [Any]).map { $0.map(ints).map(\.count) }, [32])
        XCTAssertEqual((obj["visual_tokens_fed"] as? NSNumber)?.intValue, 64)

        let out = FileManager.default.temporaryDirectory.appendingPathComponent("vis-\(UUID().uuidString).png")
        let files = ["png", "svg", "pdf"].map { out.deletingPathExtension().appendingPathExtension($0) }
        defer { for f in files { try? FileManager.default.removeItem(at: f) } }
        let v = try CLIRunner.run(["visualize", "--model", model, "--image", image, "--tokens", "64", "--ratio", "0.5",
                                   "--out", out.path, "--scale", "1"])
        XCTAssertEqual(v.status, 0, v.stderr)
        XCTAssertTrue(v.stdout.contains("VisPruner 64: 64 of 576 patches kept (32 important"), v.stdout)
        let png = try Data(contentsOf: files[0])
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        XCTAssertTrue(try String(contentsOf: files[1], encoding: .utf8).contains("<svg"))
        XCTAssertTrue(try Data(contentsOf: files[2]).starts(with: Data("%PDF-".utf8)))

        // One column per method × budget, the tower run once for all of them.
        let two = try CLIRunner.run(["visualize", "--model", model, "--image", image, "--method", "vispruner", "--method", "fastervlm",
                                     "--tokens", "64", "--tokens", "16", "--out", files[1].path])
        XCTAssertEqual(two.status, 0, two.stderr)
        for title in ["VisPruner 64", "VisPruner 16", "FasterVLM 64", "FasterVLM 16"] {
            XCTAssertTrue(two.stdout.contains("\(title): "), two.stdout)
        }
        XCTAssertTrue(two.stdout.contains("FasterVLM 16: 16 of 576 patches kept (16 important"), two.stdout)
        // The PNG at 2× (the default --scale): wider than four 336-point views at 2 pixels per point.
        let wide = try Data(contentsOf: files[0])
        let width = wide[16..<20].reduce(0) { $0 << 8 | Int($1) }
        XCTAssertGreaterThan(width, 4 * 336 * 2)
    }

    func testVisualizeShowsLLaVA16ViewsSideBySide() throws {
        let model = try Fixtures.require("fixtures/llava16-tiny").path
        let image = try Fixtures.require("fixtures/llava15/images/scene-640x480.jpg").path
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("vis16-\(UUID().uuidString).pdf")
        let files = ["png", "svg", "pdf"].map { out.deletingPathExtension().appendingPathExtension($0) }
        defer { for f in files { try? FileManager.default.removeItem(at: f) } }
        let r = try CLIRunner.run(["visualize", "--model", model, "--image", image, "--tokens", "32", "--out", out.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        // Base view + 2×2 crops, each pruned to 32.
        XCTAssertTrue(r.stdout.contains("VisPruner 32: 160 of 2880 patches kept"), r.stdout)
        for f in files { XCTAssertTrue(FileManager.default.fileExists(atPath: f.path), f.path) }
    }

    func testClearErrorsForBadInput() throws {
        let model = try Fixtures.require("fixtures/llava15-tiny").path
        let notImage = FileManager.default.temporaryDirectory.appendingPathComponent("not-an-image-\(UUID().uuidString).jpg")
        try Data("hello".utf8).write(to: notImage)
        defer { try? FileManager.default.removeItem(at: notImage) }
        let r1 = try CLIRunner.run(["generate", "--model", model, "--image", notImage.path, "--prompt", "x"])
        XCTAssertNotEqual(r1.status, 0)
        XCTAssertTrue(r1.stderr.contains("not a PNG or JPEG"), r1.stderr)
        let r2 = try CLIRunner.run(["generate", "--model", "/nonexistent-model", "--prompt", "x"])
        XCTAssertNotEqual(r2.status, 0)
        XCTAssertTrue(r2.stderr.contains("/nonexistent-model"), r2.stderr)
    }
}
