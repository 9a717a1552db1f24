import Foundation
import XCTest
import Benchmarks
import Store
@testable import Harness
import Records

/// Answers like `FakeEngine`, slowly, so that two evaluators really overlap.
final class SlowEngine: AnswerEngine {
    let inner = FakeEngine()
    var modelID: String { inner.modelID }
    var fingerprint: String { inner.fingerprint }
    var calls: [AnswerRequest] { inner.calls }
    func answer(_ request: AnswerRequest) throws -> EngineAnswer {
        usleep(15_000)
        return try inner.answer(request)
    }
}

/// Two processes evaluating one run in one database split the items through the store's claims.
final class ClaimSplitTests: XCTestCase {
    let settings = RunSettings(pruning: .pruned(.vispruner, tokens: 64, ratio: 0.5))

    func testTwoEvaluatorsOnOneDatabaseSplitTheItems() throws {
        let bench = try FakeBenchmark(count: 24, pairedIDs: true)
        defer { bench.remove() }
        let path = tempPath("shared.sqlite")
        // Two stores on one file, as two processes would have.
        let engineA = SlowEngine(), engineB = SlowEngine()
        let evalA = Evaluator(engine: engineA, store: try ResultsStore(path: path))
        let evalB = Evaluator(engine: engineB, store: try ResultsStore(path: path))
        var summaryA: EvalSummary?, errorA: Error?
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread { [settings] in
            do { summaryA = try evalA.run(benchmark: bench.adapter, settings: settings, options: EvalOptions(metadata: harnessMetadata)) }
            catch { errorA = error }
            done.signal()
        }
        let summaryB = try evalB.run(benchmark: bench.adapter, settings: settings, options: EvalOptions(metadata: harnessMetadata))
        done.wait()
        if let errorA { throw errorA }
        let a = try XCTUnwrap(summaryA)

        let promptsA = engineA.calls.map(\.prompt), promptsB = engineB.calls.map(\.prompt)
        XCTAssertGreaterThan(promptsA.count, 0, "both worked")
        XCTAssertGreaterThan(promptsB.count, 0, "both worked")
        XCTAssertEqual(promptsA.count + promptsB.count, 24, "no item answered twice")
        XCTAssertTrue(Set(promptsA).isDisjoint(with: Set(promptsB)))
        XCTAssertEqual(Set(promptsA).union(promptsB), Set(try bench.adapter.items().map(\.prompt)), "the union is complete")
        XCTAssertTrue(a.summaryLine.contains("items left to another process") || summaryB.summaryLine.contains("items left to another process"),
                      "\(a.summaryLine) / \(summaryB.summaryLine)")

        let store = try ResultsStore(path: path)
        let run = try XCTUnwrap(store.run(key: a.run.key))
        XCTAssertEqual(try store.predictions(run.id).count, 24)
        XCTAssertEqual(try store.finishRun(run.id).status, .complete)
    }

    func testItemsClaimedByALiveOwnerAreLeftAndACrashedOwnersAreTaken() throws {
        let bench = try FakeBenchmark(count: 6)
        defer { bench.remove() }
        let path = tempPath("claimed.sqlite")
        let store = try ResultsStore(path: path)
        let items = try bench.adapter.items()
        let config = settings.config(modelID: "fake-llava", fingerprint: "fake-fingerprint-1", spec: bench.adapter.spec)
        let run = try store.beginRun(config, metadata: harnessMetadata, expectedItems: items.count)
        let keys = ItemKey.keys(for: items.map(\.questionID))
        // Item 2 is being answered elsewhere; item 4's owner crashed long ago.
        XCTAssertTrue(try store.claim(run: run, item: keys[2], owner: "other-host:1:live", ttl: 600))
        XCTAssertTrue(try store.claim(run: run, item: keys[4], owner: "other-host:2:crashed", ttl: -1))

        let engine = FakeEngine()
        let summary = try Evaluator(engine: engine, store: store)
            .run(benchmark: bench.adapter, settings: settings, options: EvalOptions(metadata: harnessMetadata))
        XCTAssertEqual(summary.run.key, config.key)
        // Image by image: item 5 shares img0 with item 0.
        XCTAssertEqual(engine.calls.map(\.prompt), [0, 5, 1, 3, 4].map { items[$0].prompt })
        XCTAssertTrue(summary.summaryLine.contains("1 items left to another process"), summary.summaryLine)
        XCTAssertEqual(summary.run.status, .incomplete)
    }

    /// MME asks two questions per image under one id: a conflict must say which of them differs.
    func testAMergeConflictNamesTheOccurrenceOfARepeatedID() throws {
        let config = RunConfig(modelID: "m", checkpointFingerprint: "f", dataset: "mme", split: "test",
                               pruning: .unpruned, maxNewTokens: 8)
        func write(_ path: String, _ items: [(QuestionID, Int, String)]) throws {
            let store = try ResultsStore(path: path)
            let run = try store.beginRun(config, metadata: harnessMetadata, expectedItems: 3)
            for (i, (qid, occ, text)) in items.enumerated() {
                try store.record(PredictionRecord(runID: run, questionID: qid, itemIndex: i, prompt: "p\(i)", rawOutput: text,
                                                  parsedAnswer: text, answerID: AnswerID.derive(runKey: config.key, questionID: qid, occurrence: occ),
                                                  visualTokens: 1, generatedTokens: 1, kept: [[0]], timings: StageTimings(), occurrence: occ))
            }
        }
        let pair = QuestionID.string("img.png"), single = QuestionID.string("solo.png")
        let a = tempPath("a.sqlite"), b = tempPath("b.sqlite"), c = tempPath("c.sqlite")
        try write(a, [(pair, 0, "Yes"), (pair, 1, "No"), (single, 0, "Yes")])
        try write(b, [(pair, 0, "Yes"), (pair, 1, "Yes")])
        try write(c, [(pair, 0, "No"), (single, 0, "No")])
        let (_, lines) = try RunScoring.mergeShards(output: tempPath("out.sqlite"), shards: [a, b, c])
        let conflicts = lines.filter { $0.hasPrefix("CONFLICT") }
        XCTAssertEqual(conflicts.count, 3, "\(lines)")
        XCTAssertTrue(conflicts.contains { $0.contains("question \"img.png\" occurrence 1 from \(b)") }, "\(conflicts)")
        XCTAssertTrue(conflicts.contains { $0.contains("question \"img.png\" occurrence 0 from \(c)") },
                      "occurrence 0 named too, since the id repeats: \(conflicts)")
        XCTAssertTrue(conflicts.contains { $0.contains("question \"solo.png\" from \(c)") }, "a lone id needs no occurrence: \(conflicts)")
    }
}
