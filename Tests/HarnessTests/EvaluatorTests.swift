import Foundation
import XCTest
import Benchmarks
import Store
@testable import Harness
import Records

final class EvaluatorTests: XCTestCase {
    let settings = RunSettings(pruning: .pruned(.vispruner, tokens: 64, ratio: 0.5))

    func testEveryItemIsStoredAndAResumedRunSkipsDoneItems() throws {
        let bench = try FakeBenchmark(count: 10)
        defer { bench.remove() }
        let store = try ResultsStore(path: tempPath("r.sqlite"))
        let engine = FakeEngine()
        let eval = Evaluator(engine: engine, store: store)

        let first = try eval.run(benchmark: bench.adapter, settings: settings, options: EvalOptions(limit: 4, metadata: harnessMetadata))
        XCTAssertEqual(first.answered, 4)
        XCTAssertEqual(first.run.status, .complete, "a --limit run is complete for its limit")
        XCTAssertEqual(engine.calls.count, 4)

        let second = try eval.run(benchmark: bench.adapter, settings: settings, options: EvalOptions(metadata: harnessMetadata))
        XCTAssertEqual(second.run.id, first.run.id, "same config, same run")
        XCTAssertEqual(second.resumed, 4)
        XCTAssertEqual(second.answered, 6)
        XCTAssertEqual(engine.calls.count, 10, "done items are not asked again")
        XCTAssertEqual(second.run.status, .complete)

        let preds = try store.predictions(second.run.id)
        let items = try bench.adapter.items()
        XCTAssertEqual(preds.map(\.questionID), items.map(\.questionID))
        XCTAssertEqual(preds.map(\.itemIndex), Array(0..<10))
        for (p, item) in zip(preds, items) {
            XCTAssertEqual(p.prompt, item.answerPrompt)
            XCTAssertEqual(p.parsedAnswer, bench.adapter.parseAnswer(p.rawOutput))
            XCTAssertEqual(p.visualTokens, 64)
            XCTAssertEqual(p.timings.total, 10.5)
            XCTAssertEqual(p.answerID, AnswerID.derive(runKey: second.run.key, questionID: item.questionID))
        }
        XCTAssertEqual(engine.calls.first?.imageURL?.lastPathComponent, "img0.jpg")
        XCTAssertEqual(engine.calls.first?.settings.maxNewTokens, 16, "the benchmark's decoding length is used by default")
        XCTAssertEqual(second.run.config.modelID, "fake-llava")
        XCTAssertEqual(second.run.config.checkpointFingerprint, "fake-fingerprint-1")
    }

    func testRepeatedQuestionIDsAreDistinctItemsAcrossResumeAndShards() throws {
        let bench = try FakeBenchmark(count: 8, pairedIDs: true)
        defer { bench.remove() }
        let store = try ResultsStore(path: tempPath("mme.sqlite"))
        let engine = FakeEngine()
        let eval = Evaluator(engine: engine, store: store)
        _ = try eval.run(benchmark: bench.adapter, settings: settings, options: EvalOptions(limit: 3, metadata: harnessMetadata))
        let full = try eval.run(benchmark: bench.adapter, settings: settings, options: EvalOptions(metadata: harnessMetadata))
        XCTAssertEqual(full.resumed, 3)
        XCTAssertEqual(full.answered, 5)
        XCTAssertEqual(engine.calls.count, 8, "the second question of a pair is not mistaken for done")
        XCTAssertEqual(full.run.status, .complete)
        let preds = try store.predictions(full.run.id)
        XCTAssertEqual(preds.map(\.occurrence), [0, 1, 0, 1, 0, 1, 0, 1])
        XCTAssertEqual(preds.map(\.prompt), try bench.adapter.items().map(\.answerPrompt))
        XCTAssertEqual(Set(preds.map(\.answerID)).count, 8)

        // Shards split pairs across files (round-robin over 3); the merge must reassemble them.
        var paths: [String] = []
        for i in 0..<3 {
            let shard = try ShardSpec(index: i, count: 3)
            let path = shard.databasePath(base: tempPath("mme.sqlite"))
            paths.append(path)
            _ = try Evaluator(engine: FakeEngine(), store: try ResultsStore(path: path))
                .run(benchmark: bench.adapter, settings: settings, options: EvalOptions(shard: shard, metadata: harnessMetadata))
        }
        let out = tempPath("merged.sqlite")
        let (report, _) = try RunScoring.mergeShards(output: out, shards: paths)
        XCTAssertEqual(report.predictionsAdded, 8)
        XCTAssertFalse(report.hasConflicts)
        let merged = try ResultsStore(path: out)
        let mergedPreds = try merged.predictions(XCTUnwrap(merged.run(key: full.run.key)).id)
        XCTAssertEqual(mergedPreds.count, preds.count)
        for (x, y) in zip(preds, mergedPreds) { XCTAssertEqual(x.differingFields(from: y), []) }
    }

    func testLiveProgressIsDrawnOnlyWhenAskedAndTheSummaryCountsItems() throws {
        let bench = try FakeBenchmark(count: 3)
        defer { bench.remove() }
        let store = try ResultsStore(path: tempPath("p.sqlite"))
        var out: [String] = []
        let live = try Evaluator(engine: FakeEngine(), store: store).run(
            benchmark: bench.adapter, settings: settings,
            options: EvalOptions(limit: 2, liveProgress: true, metadata: harnessMetadata, write: { out.append($0) }))
        XCTAssertTrue(out.contains { $0.hasPrefix("\r\u{1B}[2K") && $0.contains("2/2") }, "\(out)")
        XCTAssertTrue(live.summaryLine.hasPrefix("fakebench vispruner t64 r0.5: 2 items (2 answered, 0 resumed)"), live.summaryLine)
        out = []
        let quiet = try Evaluator(engine: FakeEngine(), store: store).run(
            benchmark: bench.adapter, settings: settings,
            options: EvalOptions(liveProgress: false, metadata: harnessMetadata, write: { out.append($0) }))
        XCTAssertEqual(out, [])
        XCTAssertTrue(quiet.summaryLine.contains("3 items (1 answered, 2 resumed)"), quiet.summaryLine)
    }

    func testAnItemStoredMeanwhileByAnotherProcessIsNotAnError() throws {
        let bench = try FakeBenchmark(count: 3)
        defer { bench.remove() }
        let path = tempPath("race.sqlite")
        let store = try ResultsStore(path: path)
        // The engine stores item 1 through a second connection while "thinking" about item 1,
        // as a concurrent process on the same run would.
        final class RacingEngine: AnswerEngine {
            let inner = FakeEngine()
            var modelID: String { inner.modelID }
            var fingerprint: String { inner.fingerprint }
            var hook: ((AnswerRequest) throws -> Void)?
            func answer(_ request: AnswerRequest) throws -> EngineAnswer {
                try hook?(request)
                return try inner.answer(request)
            }
        }
        let engine = RacingEngine()
        let other = try ResultsStore(path: path)
        let items = try bench.adapter.items()
        engine.hook = { request in
            guard request.prompt == items[1].prompt else { return }
            let run = try XCTUnwrap(other.runs().first)
            try other.record(PredictionRecord(runID: run.id, questionID: items[1].questionID, itemIndex: 1, prompt: items[1].answerPrompt,
                                              rawOutput: "x", parsedAnswer: "x", answerID: "a", visualTokens: 1, generatedTokens: 1,
                                              kept: [], timings: StageTimings()))
        }
        let summary = try Evaluator(engine: engine, store: store)
            .run(benchmark: bench.adapter, settings: settings, options: EvalOptions(metadata: harnessMetadata))
        XCTAssertEqual(summary.failures.count, 0)
        XCTAssertEqual(summary.run.status, .complete)
        XCTAssertEqual(try store.predictions(summary.run.id).map(\.rawOutput)[1], "x", "the first writer's answer stays")
    }

    func testRestartAnswersEverythingAgain() throws {
        let bench = try FakeBenchmark(count: 5)
        defer { bench.remove() }
        let store = try ResultsStore(path: tempPath("r.sqlite"))
        let engine = FakeEngine()
        let eval = Evaluator(engine: engine, store: store)
        _ = try eval.run(benchmark: bench.adapter, settings: settings, options: EvalOptions(metadata: harnessMetadata))
        let again = try eval.run(benchmark: bench.adapter, settings: settings, options: EvalOptions(restart: true, metadata: harnessMetadata))
        XCTAssertEqual(again.answered, 5)
        XCTAssertEqual(again.resumed, 0)
        XCTAssertEqual(engine.calls.count, 10)
        XCTAssertEqual(try store.predictions(again.run.id).count, 5)
    }

    func testMissingImageIsRecordedAsAnItemErrorAndReported() throws {
        let bench = try FakeBenchmark(count: 10, missingImages: [3])  // items 3 and 8 use img3.jpg
        defer { bench.remove() }
        let store = try ResultsStore(path: tempPath("r.sqlite"))
        let engine = FakeEngine()
        engine.failingPrompts = ["Question 5?\nAnswer briefly."]
        let summary = try Evaluator(engine: engine, store: store)
            .run(benchmark: bench.adapter, settings: settings, options: EvalOptions(metadata: harnessMetadata))
        XCTAssertEqual(summary.answered, 7)
        XCTAssertEqual(summary.failures.count, 3)
        // Image-major order: img0's items (0, 5) come before img3's (3, 8).
        let items = try bench.adapter.items()
        XCTAssertEqual(summary.failures.map(\.questionID), [5, 3, 8].map { items[$0].questionID })
        XCTAssertTrue(summary.failures[0].message.contains("engine failed"), summary.failures[0].message)
        XCTAssertTrue(summary.failures[1].message.contains("img3.jpg"), summary.failures[1].message)
        XCTAssertTrue(summary.failures[2].message.contains("img3.jpg"), summary.failures[2].message)
        XCTAssertEqual(summary.run.status, .incomplete)
        XCTAssertEqual(summary.run.errorItems, 3)
        XCTAssertEqual(try store.errors(summary.run.id).map(\.itemIndex), [3, 5, 8])
        XCTAssertTrue(summary.summaryLine.contains("3 errors"), summary.summaryLine)
        XCTAssertEqual(engine.calls.count, 8, "no engine call for items without an image")
    }

    func testManyConsecutiveFailuresStopTheRun() throws {
        let bench = try FakeBenchmark(count: 10, missingImages: [0, 1, 2, 3, 4])
        defer { bench.remove() }
        let store = try ResultsStore(path: tempPath("r.sqlite"))
        let summary = try Evaluator(engine: FakeEngine(), store: store).run(
            benchmark: bench.adapter, settings: settings,
            options: EvalOptions(maxConsecutiveFailures: 4, metadata: harnessMetadata))
        XCTAssertTrue(summary.aborted)
        XCTAssertEqual(summary.failures.count, 4)
        XCTAssertEqual(summary.run.status, .failed)
    }

    func testShardedRunMergedEqualsUnshardedRunItemForItem() throws {
        let bench = try FakeBenchmark(count: 11)
        defer { bench.remove() }
        let whole = try ResultsStore(path: tempPath("whole.sqlite"))
        let full = try Evaluator(engine: FakeEngine(), store: whole)
            .run(benchmark: bench.adapter, settings: settings, options: EvalOptions(metadata: harnessMetadata))

        let base = tempPath("sweep.sqlite")
        var shardPaths: [String] = []
        var positions: [Int] = []
        for i in 0..<3 {
            let shard = try ShardSpec(index: i, count: 3)
            let path = shard.databasePath(base: base)
            shardPaths.append(path)
            let s = try Evaluator(engine: FakeEngine(), store: try ResultsStore(path: path))
                .run(benchmark: bench.adapter, settings: settings, options: EvalOptions(shard: shard, metadata: harnessMetadata))
            XCTAssertEqual(s.run.status, .incomplete, "one shard alone is not the whole run")
            XCTAssertEqual(s.run.key, full.run.key, "the shard is not part of the run key")
            positions += try ResultsStore(path: path).predictions(s.run.id).map(\.itemIndex)
        }
        XCTAssertEqual(positions.sorted(), Array(0..<11), "shards partition the items")
        XCTAssertTrue(shardPaths[1].hasSuffix("sweep.shard-1-of-3.sqlite"), shardPaths[1])

        // A lone shard refuses to be scored.
        let lone = try ResultsStore(path: shardPaths[0])
        let loneRun = try XCTUnwrap(lone.run(key: full.run.key))
        XCTAssertThrowsError(try RunScoring.score(store: lone, run: loneRun, scorer: FakeScorer())) {
            XCTAssertTrue("\($0)".contains("incomplete"), "\($0)")
        }
        // Whole images go to shards: shard 0 of 3 holds img0 (items 0, 5, 10) and img3 (3, 8).
        XCTAssertEqual(try RunScoring.score(store: lone, run: loneRun, scorer: FakeScorer(), allowIncomplete: true)["answered"], 5)

        let out = tempPath("merged.sqlite")
        let (report, lines) = try RunScoring.mergeShards(output: out, shards: shardPaths)
        XCTAssertEqual(report.predictionsAdded, 11)
        XCTAssertFalse(report.hasConflicts)
        XCTAssertEqual(report.incompleteRuns, [])
        XCTAssertTrue(lines[0].contains("11 predictions added"), lines[0])
        let merged = try ResultsStore(path: out)
        let mergedRun = try XCTUnwrap(merged.run(key: full.run.key))
        XCTAssertEqual(mergedRun.status, .complete)
        let a = try whole.predictions(full.run.id), b = try merged.predictions(mergedRun.id)
        XCTAssertEqual(a.count, b.count)
        for (x, y) in zip(a, b) { XCTAssertEqual(x.differingFields(from: y), [], "question \(x.questionID)") }
        XCTAssertEqual(try RunScoring.answerRecords(store: merged, run: mergedRun),
                       try RunScoring.answerRecords(store: whole, run: XCTUnwrap(whole.run(full.run.id))))
        XCTAssertEqual(try RunScoring.score(store: merged, run: mergedRun, scorer: FakeScorer())["answered"], 11)
        XCTAssertEqual(try merged.scores(mergedRun.id), [Metric("answered", 11), Metric(Metric.headlineName, 11)])
    }

    func testMergeReportsIncompleteRuns() throws {
        let bench = try FakeBenchmark(count: 6)
        defer { bench.remove() }
        let shard = try ShardSpec(index: 0, count: 2)
        let path = shard.databasePath(base: tempPath("x.sqlite"))
        _ = try Evaluator(engine: FakeEngine(), store: try ResultsStore(path: path))
            .run(benchmark: bench.adapter, settings: settings, options: EvalOptions(shard: shard, metadata: harnessMetadata))
        let (report, lines) = try RunScoring.mergeShards(output: tempPath("m.sqlite"), shards: [path])
        XCTAssertEqual(report.incompleteRuns.count, 1)
        XCTAssertTrue(lines.contains { $0.hasPrefix("INCOMPLETE") && $0.contains("4 of 6") }, "\(lines)")  // img0 (0, 5), img2, img4
    }
}
