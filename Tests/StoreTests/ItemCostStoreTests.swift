import Foundation
import XCTest
import GRDB
@testable import Store
import Records

/// Per-answer costs and per-run peak memory (migration v7-item-cost): stored, read back, covered by the
/// checksum, and old databases still verify.
final class ItemCostStoreTests: XCTestCase {
    let cost = ItemCost(visionFLOPs: 366_033_858_560, projectorFLOPs: 2_684_354_560, prefillFLOPs: 1_623_392_256_000,
                        decodeFLOPs: 13_282_312_192, kvCacheBytes: 126 << 20)

    func goldenPrediction() -> PredictionRecord {
        PredictionRecord(runID: RunID(1), questionID: .string("q1"), itemIndex: 1, prompt: "Question 1?", rawOutput: "answer 1",
                         parsedAnswer: "answer 1", answerID: "abc", visualTokens: 64, generatedTokens: 3, kept: [[1, 5, 9]],
                         timings: StageTimings(preprocess: 1.5, total: 1.25))
    }

    /// The serialisations written out independently (SHA-256 of the documented bytes, computed outside
    /// Swift): rows written before costs existed keep verifying, and v2 covers the cost.
    func testSerialisationsAgainstIndependentlyComputedDigests() {
        var p = goldenPrediction()
        let v1 = "v1:01f22e5697bbbd09d92f384b853a60626b637b1fcec188492ba7ed8355f5609c"
        XCTAssertEqual(AnswerChecksum.digest(tag: "v1", AnswerChecksum.fields(runKey: "k", p)), v1)
        XCTAssertTrue(AnswerChecksum.matches(v1, runKey: "k", p))
        let v2 = "v2:73a1c61acedffe768b646867a9988f28dc69cdb42d102b12b95381693cb299e0"
        XCTAssertTrue(AnswerChecksum.matches(v2, runKey: "k", p), "rows written as v2 keep verifying")
        XCTAssertEqual(AnswerChecksum.compute(runKey: "k", p), "v3:a4d3e8df9dff0ebb4ccfc712d345c73321d46487648aa04c22f9028e9618bf9c")
        p.cost = ItemCost(visionFLOPs: 1, projectorFLOPs: 2, prefillFLOPs: 3, decodeFLOPs: 4, kvCacheBytes: 5)
        XCTAssertEqual(AnswerChecksum.compute(runKey: "k", p), "v3:ec5d1e4f295de074133506167bc386f1c68e97bb9c0c54b9190f5000db4c8bc0")
        XCTAssertFalse(AnswerChecksum.matches(v1, runKey: "k", p), "a v1 row predates costs: one with a cost was changed")
        XCTAssertFalse(AnswerChecksum.matches(v2, runKey: "k", p), "the v2 digest covers the cost")
        p.imagePath = .quirk
        XCTAssertEqual(AnswerChecksum.compute(runKey: "k", p), "v3:cf08ee6e52d0a982e11c8240d400364d07369aa369d27bb0ce448b884f702b5e")
        p.selectionMargin = 2.5e-7
        XCTAssertEqual(AnswerChecksum.compute(runKey: "k", p), "v3:11c252b1741684be8be47812b16f38dc480725bc44df52f59f70de37a9aa6605")
        var q = goldenPrediction()
        q.imagePath = .fallback
        XCTAssertFalse(AnswerChecksum.matches(v2, runKey: "k", q), "a v2 row predates image paths: one with a path was changed")
    }

    func testCostsAreStoredReadBackAndChecksummed() throws {
        let dir = try TempDir()
        let path = dir.path("cost.sqlite")
        let config = sampleConfig()
        let store = try ResultsStore(path: path)
        let run = try store.beginRun(config, metadata: testMetadata, expectedItems: 2)
        var a = samplePrediction(run: run, config: config, index: 0)
        a.cost = cost
        try store.record(a)
        try store.record(samplePrediction(run: run, config: config, index: 1))  // an engine without costs
        try store.finishRun(run, peakRSSBytes: 3 << 30)

        let read = try store.predictions(run)
        XCTAssertEqual(read.map(\.cost), [cost, .zero])
        XCTAssertEqual(read.first, a)
        let rows = try DatabaseQueue(path: path).read {
            try Row.fetchAll($0, sql: "SELECT prefill_flops, kv_cache_bytes, checksum FROM predictions ORDER BY item_index")
        }
        XCTAssertEqual(rows[0]["prefill_flops"] as Int64?, 1_623_392_256_000)
        XCTAssertEqual(rows[0]["kv_cache_bytes"] as Int64?, 126 << 20)
        XCTAssertNil(rows[1]["prefill_flops"] as Int64?, "not recorded is NULL, not 0")
        XCTAssertTrue(rows.allSatisfy { ($0["checksum"] as String?)?.hasPrefix("v3:") == true })
        XCTAssertEqual(try store.run(run)?.peakRSSBytes, 3 << 30)
        XCTAssertTrue(try store.verify().isClean)
    }

    func testAChangedCostIsCaught() throws {
        let dir = try TempDir()
        let path = dir.path("cost.sqlite")
        let config = sampleConfig()
        do {  // closed before copying, so that everything is in the main file
            let store = try ResultsStore(path: path)
            let run = try store.beginRun(config, metadata: testMetadata, expectedItems: 1)
            var a = samplePrediction(run: run, config: config, index: 0)
            a.cost = cost
            try store.record(a)
        }
        // The image path (migration v8) is covered too: a changed or added one is caught.
        for edit in ["prefill_flops = prefill_flops + 1", "kv_cache_bytes = NULL", "vision_flops = 0", "image_path = 'quirk'",
                     "selection_margin = 0.5"] {
            let copy = dir.path("copy-\(UUID().uuidString).sqlite")
            try FileManager.default.copyItem(atPath: path, toPath: copy)
            try DatabaseQueue(path: copy).write { try $0.execute(sql: "UPDATE predictions SET \(edit) WHERE item_index = 0") }
            XCTAssertEqual(try ResultsStore(path: copy, readonly: true).verify().changed.map(\.questionID), ["\"q0\""], edit)
        }
    }

    /// A file written before v7 (schema up to v6, v1 checksums) migrates, verifies, and reads with no costs.
    func testADatabaseFromBeforeCostsMigratesAndVerifies() throws {
        let dir = try TempDir()
        let path = dir.path("old.sqlite")
        let config = sampleConfig()
        do {
            let queue = try DatabaseQueue(path: path)
            try StoreSchema.migrator.migrate(queue, upTo: "v6-claims")
            try queue.write { db in
                try ResultsStore.insertRun(db, config: config, metadata: testMetadata, startedAt: Date(), finishedAt: Date(),
                                           status: .complete, expectedItems: 1)
                let p = samplePrediction(run: RunID(db.lastInsertedRowID), config: config, index: 0)
                let v1 = AnswerChecksum.digest(tag: "v1", AnswerChecksum.fields(runKey: config.key, p))
                try db.execute(sql: """
                    INSERT INTO predictions (run_id, question_id, occurrence, item_index, prompt, raw_output, parsed_answer,
                        answer_id, visual_tokens, generated_tokens, kept_json, load_ms, preprocess_ms, vision_ms, prune_ms,
                        projector_ms, prefill_ms, decode_ms, total_ms, created_at, checksum)
                    VALUES (?, ?, 0, 0, ?, ?, ?, ?, ?, ?, ?, 0, 1.5, 0, 0, 0, 0, 0, 0.25, ?, ?)
                    """, arguments: [p.runID.rawValue, "q0", p.prompt, p.rawOutput, p.parsedAnswer, p.answerID, p.visualTokens,
                                     p.generatedTokens, ResultsStore.keptJSON(p.kept), Date(), v1])
            }
        }
        // Read-only first: the columns are absent and read as not recorded.
        let before = try ResultsStore(path: path, readonly: true)
        let oldRun = try XCTUnwrap(before.run(key: config.key))
        XCTAssertNil(oldRun.peakRSSBytes)
        XCTAssertEqual(try before.predictions(oldRun.id).map(\.cost), [.zero])
        XCTAssertTrue(try before.verify().isClean)

        let store = try ResultsStore(path: path)  // migrates to v7
        XCTAssertEqual(try store.predictions(oldRun.id).map(\.cost), [.zero])
        let report = try store.verify()
        XCTAssertEqual(report.checked, 1)
        XCTAssertEqual(report.changed, [])
        XCTAssertTrue(report.isClean)
        XCTAssertNil(try store.run(oldRun.id)?.peakRSSBytes)

        // Giving an old row a cost after the fact is a change the v1 checksum catches.
        try DatabaseQueue(path: path).write { try $0.execute(sql: "UPDATE predictions SET prefill_flops = 5") }
        XCTAssertEqual(try ResultsStore(path: path, readonly: true).verify().changed.count, 1)
    }

    func testPeakMemoryKeepsTheLargestAcrossFinishesAndMerges() throws {
        let dir = try TempDir()
        let config = sampleConfig()
        let a = try ResultsStore(path: dir.path("a.sqlite"))
        let runA = try a.beginRun(config, metadata: testMetadata, expectedItems: 2)
        try a.record(samplePrediction(run: runA, config: config, index: 0))
        try a.finishRun(runA, peakRSSBytes: 500)
        _ = try a.beginRun(config, metadata: testMetadata, expectedItems: 2)  // resumed by a smaller process
        try a.finishRun(runA, peakRSSBytes: 200)
        XCTAssertEqual(try a.run(runA)?.peakRSSBytes, 500)
        try a.finishRun(runA)
        XCTAssertEqual(try a.run(runA)?.peakRSSBytes, 500, "a finish without a reading keeps the stored one")

        let b = try ResultsStore(path: dir.path("b.sqlite"))
        let runB = try b.beginRun(config, metadata: testMetadata, expectedItems: 2)
        var p = samplePrediction(run: runB, config: config, index: 1)
        p.cost = cost
        try b.record(p)
        try b.finishRun(runB, peakRSSBytes: 900)

        let merged = try ResultsStore(path: dir.path("m.sqlite"))
        _ = try merged.merge(from: [dir.path("a.sqlite"), dir.path("b.sqlite")])
        let run = try XCTUnwrap(merged.run(key: config.key))
        XCTAssertEqual(run.peakRSSBytes, 900)
        XCTAssertEqual(try merged.predictions(run.id).map(\.cost), [.zero, cost], "costs travel with their answers")
        XCTAssertTrue(try merged.verify().isClean)
    }
}
