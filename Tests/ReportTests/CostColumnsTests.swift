import Foundation
import XCTest
@testable import Report
import Records
import Store

/// The latency table's cost columns, from a results database holding answers with known costs, one
/// run without any (stored before costs were kept), and peak memory per run.
final class CostColumnsTests: XCTestCase {
    func config(_ pruning: Pruning, dataset: String = "gqa") -> RunConfig {
        RunConfig(modelID: "llava-v1.5-7b", checkpointFingerprint: "f", dataset: dataset, split: "s", pruning: pruning,
                  maxNewTokens: 16)
    }

    func prediction(_ run: RunID, _ config: RunConfig, index: Int, cost: ItemCost) -> PredictionRecord {
        let id = QuestionID.string("q\(index)")
        return PredictionRecord(runID: run, questionID: id, itemIndex: index, prompt: "Q?", rawOutput: "a", parsedAnswer: "a",
                                answerID: AnswerID.derive(runKey: config.key, questionID: id), visualTokens: 64,
                                generatedTokens: 2, kept: [], timings: StageTimings(prefill: 10, decode: 20, total: 30),
                                cost: cost)
    }

    func testCostColumnsFromAStore() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cost-columns-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("r.sqlite").path
        let meta = RunMetadata(toolVersion: "t", host: "h")
        do {
            let store = try ResultsStore(path: path)
            // VisPruner 64 on two benchmarks: one row, costs averaged over its three items, the larger peak.
            let pruned = config(.pruned(.vispruner, tokens: 64, ratio: 0.5))
            let a = try store.beginRun(pruned, metadata: meta, expectedItems: 2)
            try store.record(prediction(a, pruned, index: 0, cost: ItemCost(visionFLOPs: 400_000_000_000, projectorFLOPs: 0,
                                                                             prefillFLOPs: 1_600_000_000_000, decodeFLOPs: 0,
                                                                             kvCacheBytes: 100 << 20)))
            try store.record(prediction(a, pruned, index: 1, cost: ItemCost(visionFLOPs: 400_000_000_000, projectorFLOPs: 0,
                                                                             prefillFLOPs: 1_400_000_000_000, decodeFLOPs: 600_000_000_000,
                                                                             kvCacheBytes: 140 << 20)))
            try store.finishRun(a, peakRSSBytes: 512 << 20)
            let prunedMME = config(.pruned(.vispruner, tokens: 64, ratio: 0.5), dataset: "mme")
            let b = try store.beginRun(prunedMME, metadata: meta, expectedItems: 1)
            try store.record(prediction(b, prunedMME, index: 0, cost: ItemCost(visionFLOPs: 400_000_000_000, projectorFLOPs: 0,
                                                                                prefillFLOPs: 1_500_000_000_000, decodeFLOPs: 0,
                                                                                kvCacheBytes: 120 << 20)))
            try store.finishRun(b, peakRSSBytes: 1024 << 20)
            // The unpruned run recorded neither costs nor memory.
            let full = config(.unpruned)
            let c = try store.beginRun(full, metadata: meta, expectedItems: 1)
            try store.record(prediction(c, full, index: 0, cost: .zero))
            try store.finishRun(c)
        }
        let table = LatencyTable(try StoreReport(databases: [path]).latency)
        let pruned = try XCTUnwrap(table.rows.first { $0.tokens == 64 })
        let cost = try XCTUnwrap(pruned.cost)
        XCTAssertEqual(cost.items, 3)
        XCTAssertEqual(cost.totalFLOPs / 1e12, 2.1, accuracy: 1e-12)  // items of 2.0, 2.4 and 1.9 TFLOPs
        XCTAssertEqual(cost.prefillFLOPs / 1e12, 1.5, accuracy: 1e-12)
        XCTAssertEqual(cost.kvCacheBytes, Double(120 << 20), accuracy: 1e-6)
        XCTAssertEqual(pruned.peakRSSBytes, 1024 << 20)
        let unpruned = try XCTUnwrap(table.rows.first { $0.tokens == nil })
        XCTAssertNil(unpruned.cost)
        XCTAssertNil(unpruned.peakRSSBytes)

        let md = table.markdown()
        let header = try XCTUnwrap(md.split(separator: "\n").first)
        XCTAssertTrue(header.hasSuffix("| decode tok/s | TFLOPs/item | prefill TFLOPs/item | KV cache MiB/item | peak RSS MiB |"), String(header))
        let prunedLine = try XCTUnwrap(md.split(separator: "\n").first { $0.contains("| vispruner |") })
        XCTAssertTrue(prunedLine.hasSuffix("| 2.1 | 1.5 | 120 | 1024 |"), String(prunedLine))
        let unprunedLine = try XCTUnwrap(md.split(separator: "\n").first { $0.contains("| unpruned |") })
        XCTAssertTrue(unprunedLine.hasSuffix("| – | – | – | – |"), String(unprunedLine))

        let csv = table.csv().split(separator: "\n").map(String.init)
        XCTAssertTrue(csv[0].hasSuffix(",cost_items,vision_tflops,projector_tflops,prefill_tflops,decode_tflops,total_tflops,kv_cache_mib,peak_rss_mib"), csv[0])
        let prunedRow = try XCTUnwrap(csv.first { $0.contains(",vispruner,") })
        let tail = prunedRow.split(separator: ",", omittingEmptySubsequences: false).suffix(8).map { Double($0) ?? .nan }
        for (got, want) in zip(tail, [3, 0.4, 0, 1.5, 0.2, 2.1, 120, 1024]) { XCTAssertEqual(got, want, accuracy: 1e-9, prunedRow) }
        let unprunedRow = try XCTUnwrap(csv.first { $0.contains(",unpruned,") })
        XCTAssertTrue(unprunedRow.hasSuffix(",0,,,,,,,"), unprunedRow)
    }
}
