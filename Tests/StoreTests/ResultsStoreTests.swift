import Foundation
import GRDB
import XCTest
@testable import Store
import Records

final class ResultsStoreTests: XCTestCase {
    func testSameConfigResumesTheSameRun() throws {
        let dir = try TempDir()
        let config = sampleConfig()
        let run: RunID
        do {
            let store = try ResultsStore(path: dir.path("r.sqlite"))
            run = try store.beginRun(config, metadata: testMetadata, expectedItems: 5)
            for i in 0..<3 { try store.record(samplePrediction(run: run, config: config, index: i)) }
        }
        let store = try ResultsStore(path: dir.path("r.sqlite"))
        let again = try store.beginRun(config, metadata: RunMetadata(toolVersion: "other"), expectedItems: 5)
        XCTAssertEqual(again, run)
        XCTAssertEqual(try store.doneQuestionIDs(run), [.string("q0"), .string("q1"), .string("q2")])
        let other = try store.beginRun(sampleConfig(tokens: 128), metadata: testMetadata)
        XCTAssertNotEqual(other, run)
        XCTAssertEqual(try store.doneQuestionIDs(other), [])
        let info = try XCTUnwrap(store.run(run))
        XCTAssertEqual(info.metadata, testMetadata, "resuming keeps the original provenance")
        XCTAssertEqual(info.doneItems, 3)
        XCTAssertEqual(info.status, .running)
        XCTAssertEqual(try store.runs().count, 2)
    }

    func testDatabaseIsInWALMode() throws {
        let dir = try TempDir()
        _ = try ResultsStore(path: dir.path("w.sqlite"))
        // WAL mode is persistent in the file header; the -wal file appears once a connection writes.
        let header = try Data(contentsOf: URL(fileURLWithPath: dir.path("w.sqlite"))).prefix(20)
        XCTAssertEqual(header.count, 20)
        XCTAssertEqual(header[18], 2, "file format write version 2 means WAL")
        XCTAssertEqual(header[19], 2, "file format read version 2 means WAL")
    }

    func testQuestionIDTypesArePreserved() throws {
        let dir = try TempDir()
        let store = try ResultsStore(path: dir.path("t.sqlite"))
        let config = sampleConfig()
        let run = try store.beginRun(config, metadata: testMetadata)
        try store.record(samplePrediction(run: run, config: config, index: 0, qid: .int(7)))
        try store.record(samplePrediction(run: run, config: config, index: 1, qid: .string("7")))
        try store.record(samplePrediction(run: run, config: config, index: 2, qid: .int(262144000)))
        XCTAssertEqual(try store.doneQuestionIDs(run), [.int(7), .string("7"), .int(262144000)])
        XCTAssertEqual(try store.predictions(run).map(\.questionID), [.int(7), .string("7"), .int(262144000)])
    }

    func testARepeatedQuestionIDIsStoredPerOccurrence() throws {
        // MME lists two questions per image under the same question_id.
        let dir = try TempDir()
        let store = try ResultsStore(path: dir.path("mme.sqlite"))
        let config = sampleConfig()
        let run = try store.beginRun(config, metadata: testMetadata, expectedItems: 2)
        let qid = QuestionID.string("code_reasoning/0020.png")
        var first = samplePrediction(run: run, config: config, index: 0, qid: qid, output: "Yes")
        var second = samplePrediction(run: run, config: config, index: 1, qid: qid, output: "No")
        second.occurrence = 1
        second.answerID = AnswerID.derive(runKey: config.key, questionID: qid, occurrence: 1)
        XCTAssertNotEqual(first.answerID, second.answerID)
        try store.record(first)
        try store.record(second)
        XCTAssertEqual(try store.doneItems(run), [ItemKey(qid), ItemKey(qid, occurrence: 1)])
        XCTAssertEqual(try store.doneQuestionIDs(run), [qid])
        XCTAssertEqual(try store.predictions(run).map(\.rawOutput), ["Yes", "No"])
        XCTAssertEqual(try store.predictions(run).map(\.occurrence), [0, 1])
        first.rawOutput = "again"
        XCTAssertThrowsError(try store.record(first)) { XCTAssertEqual(($0 as? StoreError)?.kind, .duplicate) }
        XCTAssertEqual(try store.finishRun(run).status, .complete)
        XCTAssertEqual(ItemKey.keys(for: [.int(1), .string("a"), .int(1), .int(1)]),
                       [ItemKey(.int(1)), ItemKey(.string("a")), ItemKey(.int(1), occurrence: 1), ItemKey(.int(1), occurrence: 2)])
    }

    func testPredictionRoundTripsInQuestionFileOrder() throws {
        let dir = try TempDir()
        let store = try ResultsStore(path: dir.path("p.sqlite"))
        let config = sampleConfig()
        let run = try store.beginRun(config, metadata: testMetadata)
        let written = [2, 0, 1].map { samplePrediction(run: run, config: config, index: $0, output: "Ünïcode \"q\" \($0)\n") }
        for p in written { try store.record(p) }
        let read = try store.predictions(run)
        XCTAssertEqual(read, written.sorted { $0.itemIndex < $1.itemIndex })
        XCTAssertEqual(read[1].timings.preprocess, 1.5)
        XCTAssertEqual(read[1].kept, [[1, 5, 9]])
    }

    func testEveryStageTimingRoundTrips() throws {
        let dir = try TempDir()
        let store = try ResultsStore(path: dir.path("t.sqlite"))
        let config = sampleConfig()
        let run = try store.beginRun(config, metadata: testMetadata)
        var p = samplePrediction(run: run, config: config, index: 0)
        p.timings = StageTimings(load: 1, preprocess: 2, vision: 3, prune: 4, projector: 5, prefill: 6, decode: 7, total: 28)
        try store.record(p)
        XCTAssertEqual(try store.predictions(run)[0].timings, p.timings)
    }

    func testADatabaseWrittenBeforeTheProjectorColumnIsReadAndUpgraded() throws {
        let dir = try TempDir()
        let path = dir.path("v1.sqlite")
        let config = sampleConfig()
        do {
            let store = try ResultsStore(path: path)
            let run = try store.beginRun(config, metadata: testMetadata)
            try store.record(samplePrediction(run: run, config: config, index: 0))
        }
        // Make it a v1 file: no projector_ms column, no record of the v2 migration.
        let db = try DatabaseQueue(path: path)
        try db.write { db in
            try db.execute(sql: "ALTER TABLE predictions DROP COLUMN projector_ms")
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = 'v2-projector-ms'")
        }
        let readonly = try ResultsStore(path: path, readonly: true)
        let old = try readonly.predictions(try XCTUnwrap(readonly.run(key: config.key)).id)
        XCTAssertEqual(old.count, 1)
        XCTAssertEqual(old[0].timings.projector, 0)
        XCTAssertEqual(old[0].timings.preprocess, 1.5)
        let upgraded = try ResultsStore(path: path)
        let run = try XCTUnwrap(upgraded.run(key: config.key))
        var p = samplePrediction(run: run.id, config: config, index: 1)
        p.timings.projector = 2.5
        try upgraded.record(p)
        XCTAssertEqual(try upgraded.predictions(run.id).map(\.timings.projector), [0, 2.5])
    }

    func testRecordingTheSameItemTwiceIsRefused() throws {
        let dir = try TempDir()
        let store = try ResultsStore(path: dir.path("d.sqlite"))
        let config = sampleConfig()
        let run = try store.beginRun(config, metadata: testMetadata)
        try store.record(samplePrediction(run: run, config: config, index: 0))
        XCTAssertThrowsError(try store.record(samplePrediction(run: run, config: config, index: 0, output: "other"))) { error in
            XCTAssertEqual((error as? StoreError)?.kind, .duplicate)
        }
        XCTAssertEqual(try store.predictions(run).map(\.rawOutput), ["answer 0"])
    }

    func testItemErrorsAreKeptUntilTheItemSucceeds() throws {
        let dir = try TempDir()
        let store = try ResultsStore(path: dir.path("e.sqlite"))
        let config = sampleConfig()
        let run = try store.beginRun(config, metadata: testMetadata, expectedItems: 2)
        try store.recordError(run: run, item: ItemKey(.string("q1")), itemIndex: 1, message: "image missing")
        try store.record(samplePrediction(run: run, config: config, index: 0))
        var info = try store.finishRun(run)
        XCTAssertEqual(info.status, .incomplete)
        XCTAssertEqual(info.errorItems, 1)
        XCTAssertEqual(try store.errors(run).map(\.message), ["image missing"])
        XCTAssertEqual(try store.doneQuestionIDs(run), [.string("q0")], "an errored item is not done")
        _ = try store.beginRun(config, metadata: testMetadata, expectedItems: 2)
        try store.record(samplePrediction(run: run, config: config, index: 1))
        XCTAssertEqual(try store.errors(run), [])
        info = try store.finishRun(run)
        XCTAssertEqual(info.status, .complete)
        XCTAssertNotNil(info.finishedAt)
    }

    func testScoresAndReset() throws {
        let dir = try TempDir()
        let store = try ResultsStore(path: dir.path("s.sqlite"))
        let config = sampleConfig()
        let run = try store.beginRun(config, metadata: testMetadata)
        try store.record(samplePrediction(run: run, config: config, index: 0))
        try store.setScores(run, [Metric("accuracy", 61.5), Metric("binary", 80)])
        try store.setScores(run, [Metric("accuracy", 62.0)])
        XCTAssertEqual(try store.scores(run), [Metric("accuracy", 62.0)])
        try store.resetRun(run)
        XCTAssertEqual(try store.scores(run), [])
        XCTAssertEqual(try store.predictions(run), [])
        XCTAssertEqual(try store.beginRun(config, metadata: testMetadata), run)
    }

    func testADatabaseFromANewerSchemaIsNotWritten() throws {
        let dir = try TempDir()
        let p = dir.path("new.sqlite")
        do {
            let store = try ResultsStore(path: p)
            _ = try store.write { db in try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v999-future')") }
        }
        XCTAssertThrowsError(try ResultsStore(path: p)) { XCTAssertEqual(($0 as? StoreError)?.kind, .refused, "\($0)") }
        XCTAssertNoThrow(try ResultsStore(path: p, readonly: true), "reading stays possible")
    }

    func testOpeningANonResultsFileReadOnlyFailsClearly() throws {
        let dir = try TempDir()
        let p = dir.path("junk.sqlite")
        try Data("not a database at all, just text".utf8).write(to: URL(fileURLWithPath: p))
        XCTAssertThrowsError(try ResultsStore(path: p, readonly: true)) { error in
            XCTAssertTrue("\(error)".contains(p), "\(error)")
        }
    }
}
