import Foundation
import XCTest
@testable import Store
import Records

final class MergeTests: XCTestCase {
    /// Writes items `indices` of `config` into a new database at `path`.
    func shard(_ path: String, _ config: RunConfig, _ indices: [Int], expected: Int, output: (Int) -> String? = { _ in nil }) throws {
        let store = try ResultsStore(path: path)
        let run = try store.beginRun(config, metadata: testMetadata, expectedItems: expected)
        for i in indices { try store.record(samplePrediction(run: run, config: config, index: i, output: output(i))) }
        try store.finishRun(run)
    }

    func testShardsMergeIntoOneCompleteRunAndIdenticalDuplicatesCollapse() throws {
        let dir = try TempDir()
        let config = sampleConfig()
        try shard(dir.path("a.sqlite"), config, [0, 3, 6], expected: 8)
        try shard(dir.path("b.sqlite"), config, [1, 4, 7, 3], expected: 8)  // 3 duplicated, identical
        try shard(dir.path("c.sqlite"), config, [2, 5], expected: 8)
        let out = try ResultsStore(path: dir.path("out.sqlite"))
        let report = try out.merge(from: [dir.path("a.sqlite"), dir.path("b.sqlite"), dir.path("c.sqlite")])
        XCTAssertEqual(report.runsAdded, 1)
        XCTAssertEqual(report.runsMatched, 2)
        XCTAssertEqual(report.predictionsAdded, 8)
        XCTAssertEqual(report.duplicatesCollapsed, 1)
        XCTAssertEqual(report.conflicts, [])
        XCTAssertEqual(report.incompleteRuns, [])
        let run = try XCTUnwrap(out.run(key: config.key))
        XCTAssertEqual(run.status, .complete)
        XCTAssertEqual(run.doneItems, 8)
        XCTAssertEqual(try out.predictions(run.id).map(\.itemIndex), Array(0..<8))
        // Merging the same files again only collapses.
        let again = try out.merge(from: [dir.path("a.sqlite")])
        XCTAssertEqual(again.predictionsAdded, 0)
        XCTAssertEqual(again.duplicatesCollapsed, 3)
        XCTAssertEqual(try out.integrityCheck(), ["ok"])
    }

    func testConflictingDuplicatesAreReportedAndTheStoredRowKept() throws {
        let dir = try TempDir()
        let config = sampleConfig()
        try shard(dir.path("a.sqlite"), config, [0, 1], expected: 3)
        try shard(dir.path("b.sqlite"), config, [1, 2], expected: 3, output: { $0 == 1 ? "a different answer" : nil })
        let out = try ResultsStore(path: dir.path("out.sqlite"))
        let report = try out.merge(from: [dir.path("a.sqlite"), dir.path("b.sqlite")])
        XCTAssertEqual(report.conflicts.count, 1)
        let c = try XCTUnwrap(report.conflicts.first)
        XCTAssertEqual(c.questionID, .string("q1"))
        XCTAssertEqual(c.source, dir.path("b.sqlite"))
        XCTAssertEqual(c.fields, ["raw_output", "parsed_answer"])
        XCTAssertTrue(report.hasConflicts)
        let run = try XCTUnwrap(out.run(key: config.key))
        XCTAssertEqual(try out.predictions(run.id).map(\.rawOutput), ["answer 0", "answer 1", "answer 2"])
    }

    func testIncompleteMergeIsMarkedAndRunsAreMatchedByKey() throws {
        let dir = try TempDir()
        let a = sampleConfig(tokens: 64), b = sampleConfig(tokens: nil)
        try shard(dir.path("a.sqlite"), a, [0], expected: 2)
        try shard(dir.path("b.sqlite"), b, [0, 1], expected: 2)
        let out = try ResultsStore(path: dir.path("out.sqlite"))
        // The target already holds run `b` under a different row id.
        _ = try out.beginRun(sampleConfig(tokens: 192), metadata: testMetadata)
        let report = try out.merge(from: [dir.path("a.sqlite"), dir.path("b.sqlite")])
        XCTAssertEqual(report.incompleteRuns, [a.key])
        XCTAssertEqual(try out.run(key: a.key)?.status, .incomplete)
        XCTAssertEqual(try out.run(key: b.key)?.status, .complete)
        XCTAssertEqual(try out.runs().count, 3)
    }

    func testScoresMergeOnlyFromCompleteRunsAndConflictsAreReported() throws {
        let dir = try TempDir()
        let config = sampleConfig()
        for (name, value) in [("a", 50.0), ("b", 51.0)] {
            let s = try ResultsStore(path: dir.path("\(name).sqlite"))
            let run = try s.beginRun(config, metadata: testMetadata, expectedItems: 1)
            try s.record(samplePrediction(run: run, config: config, index: 0))
            try s.setScores(run, [Metric("accuracy", value)])
        }
        let out = try ResultsStore(path: dir.path("out.sqlite"))
        let report = try out.merge(from: [dir.path("a.sqlite"), dir.path("b.sqlite")])
        XCTAssertEqual(report.scoreConflicts.map(\.rejected), [51.0])
        XCTAssertEqual(try out.scores(XCTUnwrap(out.run(key: config.key)).id), [Metric("accuracy", 50.0)])
    }

    func testPartialScoresAreNotCopiedAndStaleScoresAreCleared() throws {
        let dir = try TempDir()
        let config = sampleConfig()
        // Shard 0 was scored on its own with --allow-incomplete: that score must not reach the merged run.
        let a = try ResultsStore(path: dir.path("a.sqlite"))
        let runA = try a.beginRun(config, metadata: testMetadata, expectedItems: 2)
        try a.record(samplePrediction(run: runA, config: config, index: 0))
        try a.setScores(runA, [Metric("accuracy", 100)])
        let out = try ResultsStore(path: dir.path("out.sqlite"))
        var report = try out.merge(from: [dir.path("a.sqlite")])
        XCTAssertEqual(report.partialScoresDropped, [config.key])
        let merged = try XCTUnwrap(out.run(key: config.key))
        XCTAssertEqual(try out.scores(merged.id), [])
        // A score set on the merged (still partial) run goes stale when more answers arrive.
        try out.setScores(merged.id, [Metric("accuracy", 100)])
        let b = try ResultsStore(path: dir.path("b.sqlite"))
        let runB = try b.beginRun(config, metadata: testMetadata, expectedItems: 2)
        try b.record(samplePrediction(run: runB, config: config, index: 1))
        report = try out.merge(from: [dir.path("b.sqlite")])
        XCTAssertEqual(report.staleScoresCleared, [config.key])
        XCTAssertEqual(try out.scores(merged.id), [])
        XCTAssertEqual(try out.run(merged.id)?.status, .complete)
    }

    func testMergingAFileIntoItselfOrAMissingFileIsRefused() throws {
        let dir = try TempDir()
        let out = try ResultsStore(path: dir.path("out.sqlite"))
        XCTAssertThrowsError(try out.merge(from: [dir.path("out.sqlite")])) { XCTAssertEqual(($0 as? StoreError)?.kind, .refused) }
        XCTAssertThrowsError(try out.merge(from: [dir.path("nope.sqlite")])) { XCTAssertEqual(($0 as? StoreError)?.kind, .notFound) }
    }
}
