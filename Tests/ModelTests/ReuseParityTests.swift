import Foundation
import Records
import Tensor
import TestSupport
import XCTest
@testable import Model

/// Reuse never changes an answer: `runGrid` (features once per image, shared KV prefixes, batched
/// prefill of the question suffixes, batched decoding) gives every (question, setting) the same
/// next-token logits, bit for bit, and the same tokens and selections as `run` gives it alone.
final class ReuseParityTests: XCTestCase {
    private func bitsEqual(_ a: Tensor, _ b: Tensor) -> Bool {
        a.shape == b.shape && zip(a.data, b.data).allSatisfy { $0.bitPattern == $1.bitPattern }
    }

    /// Every fixture case: each image with its recorded questions under all its recorded VisPruner settings,
    /// plus the unpruned model and two other methods.
    private func checkGrid(family: String, model: String, batches: [Int]) throws {
        let cases = try Fixtures.jsonLines("fixtures/\(family)/cases.jsonl")
        let pipeline = try LLaVAPipeline(modelDirectory: try Fixtures.require("fixtures/\(model)"))
        var images: [String] = []
        var questions: [String: [String]] = [:]
        var settings: [String: [RunSettings]] = [:]
        for c in cases {
            let image = c["image"] as! String, q = c["question"] as! String
            let pruning = Pruning.pruned(.vispruner, tokens: (c["tokens"] as! NSNumber).intValue,
                                         ratio: (c["ratio"] as! NSNumber).doubleValue)
            if questions[image] == nil {
                images.append(image)
                settings[image] = [RunSettings(pruning: .unpruned, maxNewTokens: 4),
                                   RunSettings(pruning: .pruned(.fastervlm, tokens: 16, ratio: 0), maxNewTokens: 4),
                                   RunSettings(pruning: .pruned(.random, tokens: 8, ratio: 0), seed: 3, maxNewTokens: 4)]
            }
            if !questions[image, default: []].contains(q) { questions[image, default: []].append(q) }
            let s = RunSettings(pruning: pruning, maxNewTokens: 4)
            if !settings[image]!.contains(s) { settings[image]!.append(s) }
        }
        var compared = 0
        for (n, image) in images.enumerated() {
            let url = try Fixtures.require("fixtures/\(family)/" + image)
            // A question asked twice in one grid must get the same answer both times.
            let qs = questions[image]! + [questions[image]![0]]
            let ss = settings[image]!  // every recorded case of the image, plus the three above
            let batch = batches[n % batches.count]
            let grid = pipeline.runGrid(ImageGridRequest(imageURL: url, questions: qs, settings: ss, batch: batch))
            XCTAssertEqual(grid.count, ss.count)
            for (si, s) in ss.enumerated() {
                for (qi, q) in qs.enumerated() {
                    let label = "\(image) \(s.pruning) q\(qi) batch \(batch)"
                    let plain = try pipeline.run(PipelineRequest(imageURL: url, question: q, settings: s))
                    let reused = try grid[si][qi].get()
                    XCTAssertTrue(bitsEqual(reused.firstLogits, plain.firstLogits),
                                  "\(label): max |Δlogit| \(reused.firstLogits.maxAbsDifference(plain.firstLogits))")
                    XCTAssertEqual(reused.generatedIDs, plain.generatedIDs, label)
                    XCTAssertEqual(reused.text, plain.text, label)
                    XCTAssertEqual(reused.inputIDs, plain.inputIDs, label)
                    XCTAssertEqual(reused.selections.map(\.kept), plain.selections.map(\.kept), label)
                    XCTAssertEqual(reused.visualTokensFed, plain.visualTokensFed, label)
                    XCTAssertEqual(reused.inputsEmbedsLength, plain.inputsEmbedsLength, label)
                    compared += 1
                }
            }
        }
        XCTAssertGreaterThan(compared, 50)
        XCTAssertGreaterThan(pipeline.featureMemo.count, 0)
    }

    func testLLaVA15GridEqualsPlainRunsBitForBit() throws {
        try checkGrid(family: "llava15", model: "llava15-tiny", batches: [1, 3, 8])
    }

    func testLLaVA16GridEqualsPlainRunsBitForBit() throws {
        try checkGrid(family: "llava16", model: "llava16-tiny", batches: [2, 8])
    }

    /// The second grid over an image finds its features in the memo and still answers the same.
    func testFeatureMemoHitGivesTheSameAnswers() throws {
        let pipeline = try LLaVAPipeline(modelDirectory: try Fixtures.require("fixtures/llava15-tiny"))
        let url = try Fixtures.require("fixtures/llava15/images/scene-640x480.jpg")
        let request = ImageGridRequest(imageURL: url, questions: ["What is this?", "Is it red?"],
                                       settings: [RunSettings(pruning: .pruned(.vispruner, tokens: 32, ratio: 0.5), maxNewTokens: 5)])
        let first = try pipeline.runGrid(request).map { try $0.map { try $0.get() } }
        XCTAssertEqual(pipeline.featureMemo.misses, 1)
        let second = try pipeline.runGrid(request).map { try $0.map { try $0.get() } }
        XCTAssertEqual(pipeline.featureMemo.hits, 1)
        for (a, b) in zip(first[0], second[0]) {
            XCTAssertTrue(bitsEqual(a.firstLogits, b.firstLogits))
            XCTAssertEqual(a.generatedIDs, b.generatedIDs)
        }
        // Timings are amortised over the grid's items, never counted twice.
        XCTAssertEqual(second[0][0].timings.vision, second[0][1].timings.vision)
    }

    func testGridFailuresStayWithTheirItems() throws {
        let pipeline = try LLaVAPipeline(modelDirectory: try Fixtures.require("fixtures/llava15-tiny"))
        let missing = URL(fileURLWithPath: "/nonexistent/image.jpg")
        let grid = pipeline.runGrid(ImageGridRequest(imageURL: missing, questions: ["a", "b"],
                                                     settings: [RunSettings(pruning: .unpruned, maxNewTokens: 2)]))
        XCTAssertEqual(grid[0].count, 2)
        for r in grid[0] { XCTAssertThrowsError(try r.get()) }
        // Text-only questions take the plain path and still answer.
        let text = pipeline.runGrid(ImageGridRequest(imageURL: nil, questions: ["Hello there"],
                                                     settings: [RunSettings(pruning: .unpruned, maxNewTokens: 3)]))
        let plain = try pipeline.run(PipelineRequest(imageURL: nil, question: "Hello there",
                                                     settings: RunSettings(pruning: .unpruned, maxNewTokens: 3)))
        XCTAssertEqual(try text[0][0].get().generatedIDs, plain.generatedIDs)
    }

    func testFeatureMemoEvictsLeastRecentlyUsed() {
        let memo = FeatureMemo(maxBytes: 3 * 4 * 20)
        func entry() -> FeatureMemo.Entry {
            FeatureMemo.Entry(outputs: [VisionOutput(features: Tensor(shape: [4, 4], data: Array(repeating: 1, count: 16)),
                                                     clsAttention: Tensor(shape: [1, 4], data: Array(repeating: 0, count: 4)),
                                                     milliseconds: 0)], layout: .single)
        }
        memo.insert("a", entry()); memo.insert("b", entry()); memo.insert("c", entry())
        XCTAssertNotNil(memo.lookup("a"))
        memo.insert("d", entry())
        XCTAssertNil(memo.lookup("b"), "b was the least recently used")
        XCTAssertNotNil(memo.lookup("a"))
        XCTAssertNotNil(memo.lookup("d"))
        XCTAssertLessThanOrEqual(memo.bytes, memo.maxBytes)
    }
}
