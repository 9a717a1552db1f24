import Foundation
import Store
import TestSupport
import XCTest

/// Reuse through the real binary: a sweep answered image by image with shared features, prefixes and
/// batched decoding stores the same answers as `--no-reuse`, with or without the disk feature cache,
/// cold or warm, and whatever the decode batch.
final class ReuseEndToEndTests: XCTestCase {
    var work: URL!

    override func setUpWithError() throws {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("reuse-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: work) }

    /// Answers per (run key, item), everything but timings and costs' time-free parts.
    private func answers(_ db: URL) throws -> [String: [String]] {
        let store = try ResultsStore(path: db.path, readonly: true)
        var out: [String: [String]] = [:]
        for run in try store.runs() {
            XCTAssertTrue(run.isComplete, "\(run.key)")
            out[run.key] = try store.predictions(run.id).sorted { $0.itemIndex < $1.itemIndex }.map {
                "\($0.itemIndex)|\($0.occurrence)|\($0.rawOutput)|\($0.generatedTokens)|\($0.visualTokens)|\($0.kept)|\($0.cost)"
            }
        }
        return out
    }

    private func sweep(_ db: URL, _ extra: [String], environment: [String: String] = [:]) throws {
        let args = ["sweep", "--model", try Fixtures.require("fixtures/llava15-tiny").path, "--dataset", "pope", "--dataset", "mme",
                    "--method", "vispruner", "--tokens", "32", "--tokens", "8", "--data-root", try Fixtures.require("datasets-samples").path,
                    "--db", db.path, "--max-new-tokens", "5", "--no-score", "--quiet"] + extra
        let r = try CLIRunner.run(args, environment: environment)
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    func testReuseBatchingAndFeatureCacheNeverChangeAnAnswer() throws {
        let plain = work.appendingPathComponent("plain.sqlite")
        try sweep(plain, ["--no-reuse"])
        let reference = try answers(plain)
        XCTAssertEqual(reference.count, 6, "unpruned + 2 budgets on 2 benchmarks")

        let reused = work.appendingPathComponent("reused.sqlite")
        try sweep(reused, [])
        XCTAssertEqual(try answers(reused), reference)

        let single = work.appendingPathComponent("batch1.sqlite")
        try sweep(single, ["--decode-batch", "1"])
        XCTAssertEqual(try answers(single), reference)

        // The thread count is not part of an answer either (kernels split columns, rows or heads, never a sum).
        for threads in ["1", "2"] {
            let db = work.appendingPathComponent("threads\(threads).sqlite")
            try sweep(db, [], environment: ["VISPRUNER_KERNEL_THREADS": threads])
            XCTAssertEqual(try answers(db), reference, "\(threads) thread(s)")
        }

        let cache = work.appendingPathComponent("features")
        let cold = work.appendingPathComponent("cold.sqlite"), warm = work.appendingPathComponent("warm.sqlite")
        try sweep(cold, ["--feature-cache", cache.path])
        let entries = try FileManager.default.contentsOfDirectory(atPath: cache.path).filter { $0.hasSuffix(".vfeat") }
        XCTAssertEqual(entries.count, 23 + 28, "one entry per distinct image of POPE and MME samples")
        try sweep(warm, ["--feature-cache", cache.path])
        XCTAssertEqual(try answers(cold), reference)
        XCTAssertEqual(try answers(warm), reference)

        // A damaged entry is a miss, recomputed, never a wrong answer.
        let victim = cache.appendingPathComponent(entries.sorted()[0])
        var bytes = try Data(contentsOf: victim)
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: victim)
        let damaged = work.appendingPathComponent("damaged.sqlite")
        try sweep(damaged, ["--feature-cache", cache.path])
        XCTAssertEqual(try answers(damaged), reference)
    }

    /// LLaVA-1.6 (five views per image) with one and two threads, selections and tokens alike.
    func testThreadCountNeverChangesALLaVA16Answer() throws {
        let model = try Fixtures.require("fixtures/llava16-tiny").path
        for image in ["scene-640x480.jpg", "tall-37x501.png"] {
            let path = try Fixtures.require("fixtures/llava15/images/" + image).path
            for extra in [["--tokens", "32"], ["--tokens", "16", "--method", "divprune"], [String]()] {
                let args = ["generate", "--json", "--model", model, "--image", path, "--prompt", "What is it?", "--max-new-tokens", "6"] + extra
                let one = try CLIRunner.run(args, environment: ["VISPRUNER_KERNEL_THREADS": "1"])
                let two = try CLIRunner.run(args, environment: ["VISPRUNER_KERNEL_THREADS": "2"])
                XCTAssertEqual(one.status, 0, one.stderr)
                func strip(_ text: String) throws -> NSDictionary {
                    let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
                    return o.filter { $0.key != "timings_ms" } as NSDictionary
                }
                XCTAssertEqual(try strip(one.stdout), try strip(two.stdout), "\(image) \(extra)")
            }
        }
    }

    func testBadReuseOptionsAreRefusedBeforeAnyWork() throws {
        let file = work.appendingPathComponent("not-a-folder")
        try Data("x".utf8).write(to: file)
        for (extra, message) in [(["--decode-batch", "0"], "--decode-batch"), (["--feature-cache", file.path], "is a file"),
                                 (["--feature-cache-max-gb", "-1"], "--feature-cache-max-gb")] {
            let db = work.appendingPathComponent("x.sqlite")
            let r = try CLIRunner.run(["eval", "--model", try Fixtures.require("fixtures/llava15-tiny").path, "--dataset", "pope",
                                       "--tokens", "8", "--data-root", try Fixtures.require("datasets-samples").path,
                                       "--db", db.path, "--quiet"] + extra)
            XCTAssertNotEqual(r.status, 0)
            XCTAssertTrue(r.stderr.contains(message), r.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: db.path), "nothing written before the options are checked")
        }
    }
}
