import Checkpoint
import Foundation
import Model
import Tensor
import TestSupport
import XCTest

/// LLaVA-1.6 (VisPruner's fixed 2×2 anyres path) from recorded per-view features.
final class LLaVA16Tests: XCTestCase {
    func testLogitsAndTokensFromRecordedFeaturesForAllCases() throws {
        let model = try LLaVAModel(directory: try Fixtures.require("fixtures/llava16-tiny"))
        let root = try Fixtures.require("fixtures/llava16")
        let cases = try Fixtures.jsonLines("fixtures/llava16/cases.jsonl")
        var views: [String: [Tensor]] = [:]
        var logitCases = 0, tokenCases = 0
        for (i, c) in cases.enumerated() {
            guard let ids = c["input_ids"] as? [Int], let kept = c["kept_per_crop"] as? [[Int]],
                  let fp = c["features"] as? String, let lp = c["logits"] as? String,
                  let gen = c["generated_ids"] as? [Int], let fragile = c["fragile"] as? Bool,
                  let length = c["inputs_embeds_length"] as? Int, let fed = c["visual_tokens_fed"] as? Int else {
                XCTFail("case \(i): missing fields"); continue
            }
            if views[fp] == nil {
                let all = try Npy.readTensor(contentsOf: root.appendingPathComponent(fp))
                XCTAssertEqual(all.shape, [5, 576, 64])
                views[fp] = (0..<5).map { all.rows($0..<($0 + 1)).reshaped([576, 64]) }
            }
            let gathered = try AnyresLayout.gather(features: views[fp]!, keptPerView: kept, gridRows: 2, gridCols: 2)
            XCTAssertEqual(gathered.shape[0], fed, "case \(i)")
            let visual = try model.project(gathered)
            let out = try model.generate(inputIDs: ids, imageEmbeddings: [visual], maxNewTokens: gen.count - 1, eosID: model.config.eosTokenID)
            XCTAssertEqual(out.inputsEmbedsLength, length, "case \(i)")
            let expected = try Npy.readTensor(contentsOf: root.appendingPathComponent(lp))
            XCTAssertLessThanOrEqual(out.firstLogits.maxAbsDifference(expected), 1e-3, "case \(i) logits")
            logitCases += 1
            if !fragile {
                XCTAssertEqual([1] + out.tokens, gen, "case \(i) tokens")
                tokenCases += 1
            }
        }
        XCTAssertEqual(logitCases, cases.count)
        print("llava16: \(logitCases) logit cases, \(tokenCases) token cases")
    }

    /// Stored 5-view pixels → tower per view → per-view kept → anyres order → generation.
    func testPixelsToTokensEndToEnd() throws {
        let model = try LLaVAModel(directory: try Fixtures.require("fixtures/llava16-tiny"))
        let root = try Fixtures.require("fixtures/llava16")
        var done = Set<String>()
        for c in try Fixtures.jsonLines("fixtures/llava16/cases.jsonl") {
            guard let p = c["pixels"] as? String, let fragile = c["fragile"] as? Bool, !fragile, !done.contains(p),
                  let ids = c["input_ids"] as? [Int], let kept = c["kept_per_crop"] as? [[Int]],
                  let gen = c["generated_ids"] as? [Int] else { continue }
            done.insert(p)
            let all = try Npy.readTensor(contentsOf: root.appendingPathComponent(p))
            let views = (0..<5).map { all.rows($0..<($0 + 1)).reshaped([3, 336, 336]) }
            let out = try Stages.answer(model: model, inputIDs: ids, image: PreparedImage(views: views, layout: .fixedGrid(rows: 2, columns: 2)),
                                        selector: .fixed(kept), maxNewTokens: gen.count - 1, eosID: 2).generation
            XCTAssertEqual([1] + out.tokens, gen, p)
        }
        XCTAssertEqual(done.count, 2)
    }

    func testFeedOrderInterleavesCropRows() throws {
        // 2×2 patches per crop, 1×2 crop grid: rows of both crops alternate.
        let order = try AnyresLayout.feedOrder(keptPerView: [[3, 0], [0, 1, 2, 3], [0, 2]], gridRows: 1, gridCols: 2, patchesPerSide: 2)
        XCTAssertEqual(order.map { [$0.view, $0.patch] }, [[0, 0], [0, 3], [1, 0], [1, 1], [2, 0], [1, 2], [1, 3], [2, 2]])
        XCTAssertThrowsError(try AnyresLayout.feedOrder(keptPerView: [[0]], gridRows: 2, gridCols: 2, patchesPerSide: 2))
        XCTAssertThrowsError(try AnyresLayout.feedOrder(keptPerView: [[4], [], []], gridRows: 1, gridCols: 2, patchesPerSide: 2))
    }
}
