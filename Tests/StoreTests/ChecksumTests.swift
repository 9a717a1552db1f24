import Foundation
import XCTest
import GRDB
@testable import Store
import Records

/// Every stored answer carries a checksum of its content; a changed byte is caught by
/// `predictions`, `merge` and `verify`.
final class ChecksumTests: XCTestCase {
    /// A closed database with one run of three answers; item 1's raw output is "Unique Raw Text".
    func makeStore(_ path: String, config: RunConfig = sampleConfig()) throws {
        let store = try ResultsStore(path: path)
        let run = try store.beginRun(config, metadata: testMetadata, expectedItems: 3)
        for i in 0..<3 {
            try store.record(samplePrediction(run: run, config: config, index: i, output: i == 1 ? "Unique Raw Text" : nil))
        }
        try store.finishRun(run)
    }

    func tamper(_ path: String, _ sql: String) throws {
        try DatabaseQueue(path: path).write { try $0.execute(sql: sql) }
    }

    func assertNamesItem1(_ error: Error, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual((error as? StoreError)?.kind, .corrupt, "\(error)", file: file, line: line)
        let text = "\(error)"
        XCTAssertTrue(text.contains(sampleConfig().label), text, file: file, line: line)
        XCTAssertTrue(text.contains("question \"q1\" occurrence 0"), text, file: file, line: line)
        XCTAssertTrue(text.contains("checksum mismatch"), text, file: file, line: line)
    }

    func testEveryNewAnswerHasAChecksumOverItsContent() throws {
        let dir = try TempDir()
        let path = dir.path("c.sqlite")
        try makeStore(path)
        let sums = try DatabaseQueue(path: path).read { try String?.fetchAll($0, sql: "SELECT checksum FROM predictions") }
        XCTAssertEqual(sums.count, 3)
        XCTAssertTrue(sums.allSatisfy { $0?.hasPrefix("v3:") == true && $0?.count == 67 }, "\(sums)")
        let report = try ResultsStore(path: path, readonly: true).verify()
        XCTAssertEqual(report.checked, 3)
        XCTAssertEqual(report.withoutChecksum, 0)
        XCTAssertEqual(report.changed, [])
        XCTAssertTrue(report.isClean)
    }

    func testAByteFlippedInTheFileIsDetectedByPredictionsVerifyAndMerge() throws {
        let dir = try TempDir()
        let path = dir.path("flipped.sqlite")
        try makeStore(path)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + "-wal"), "closed cleanly: everything is in the main file")
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let needle = Array("Unique Raw Text".utf8)
        let at = try XCTUnwrap((0...(bytes.count - needle.count)).first { Array(bytes[$0..<$0 + needle.count]) == needle })
        bytes[at + 7] = UInt8(ascii: "S")  // "Unique Saw Text": same length, so SQLite still reads the row
        try Data(bytes).write(to: URL(fileURLWithPath: path))

        let store = try ResultsStore(path: path, readonly: true)
        XCTAssertEqual(try store.integrityCheck(), ["ok"], "SQLite itself sees nothing wrong")
        let run = try XCTUnwrap(store.run(key: sampleConfig().key))
        XCTAssertThrowsError(try store.predictions(run.id)) { assertNamesItem1($0) }

        let report = try store.verify()
        XCTAssertEqual(report.checked, 3)
        XCTAssertEqual(report.changed.map(\.questionID), ["\"q1\""])
        XCTAssertEqual(report.changed.map(\.occurrence), [0])
        XCTAssertEqual(report.changed.first?.runLabel, sampleConfig().label)
        XCTAssertFalse(report.isClean)

        let target = try ResultsStore(path: dir.path("target.sqlite"))
        XCTAssertThrowsError(try target.merge(from: [path])) { assertNamesItem1($0) }
        XCTAssertEqual(try target.runs(), [], "nothing of the bad source was merged")
    }

    func testAChangedRowInTheMergeTargetIsDetected() throws {
        let dir = try TempDir()
        try makeStore(dir.path("target.sqlite"))
        try makeStore(dir.path("source.sqlite"))
        try tamper(dir.path("target.sqlite"), "UPDATE predictions SET parsed_answer = 'yes' WHERE question_id = 'q1'")
        let target = try ResultsStore(path: dir.path("target.sqlite"))
        XCTAssertThrowsError(try target.merge(from: [dir.path("source.sqlite")])) { assertNamesItem1($0) }
    }

    /// Each content field and the run key are covered: changing any one of them is caught.
    func testEveryContentFieldIsCovered() throws {
        let dir = try TempDir()
        let path = dir.path("fields.sqlite")
        try makeStore(path)
        let edits = [
            "occurrence = 1", "item_index = 7", "prompt = prompt || ' '", "raw_output = 'Unique Raw Texts'",
            "parsed_answer = 'no'", "answer_id = answer_id || 'x'", "visual_tokens = 63",
            "generated_tokens = 4", "kept_json = '[[1,5,8]]'", "total_ms = 99", "prefill_ms = 1",
            "prefill_flops = 1", "kv_cache_bytes = 1",
        ]
        for edit in edits {
            let copy = dir.path("copy-\(UUID().uuidString).sqlite")
            try FileManager.default.copyItem(atPath: path, toPath: copy)
            try tamper(copy, "UPDATE predictions SET \(edit) WHERE question_id = 'q1'")
            let report = try ResultsStore(path: copy, readonly: true).verify()
            XCTAssertEqual(report.changed.map(\.questionID), ["\"q1\""], edit)
        }
        // The run key: answers moved to another run no longer match.
        let copy = dir.path("key.sqlite")
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        try tamper(copy, "UPDATE runs SET run_key = 'f' || substr(run_key, 2)")
        XCTAssertEqual(try ResultsStore(path: copy, readonly: true).verify().changed.count, 3)
    }

    func testAnswersWrittenBeforeChecksumsAreReadAndCounted() throws {
        let dir = try TempDir()
        let path = dir.path("old.sqlite")
        try makeStore(path)
        try tamper(path, "UPDATE predictions SET checksum = NULL WHERE question_id <> 'q2'")
        let store = try ResultsStore(path: path, readonly: true)
        let run = try XCTUnwrap(store.run(key: sampleConfig().key))
        XCTAssertEqual(try store.predictions(run.id).count, 3)
        let report = try store.verify()
        XCTAssertEqual(report.checked, 3)
        XCTAssertEqual(report.withoutChecksum, 2)
        XCTAssertEqual(report.changed, [])
    }

    func testTheSerialisationIsUnambiguous() {
        let config = sampleConfig()
        var a = samplePrediction(run: RunID(1), config: config, index: 0)
        var b = a
        a.prompt = "ab"; a.rawOutput = "c"
        b.prompt = "a"; b.rawOutput = "bc"
        XCTAssertNotEqual(AnswerChecksum.compute(runKey: config.key, a), AnswerChecksum.compute(runKey: config.key, b))
        var c = a, d = a
        c.questionID = .int(7); d.questionID = .string("7")
        XCTAssertNotEqual(AnswerChecksum.compute(runKey: config.key, c), AnswerChecksum.compute(runKey: config.key, d))
        // The run id is local to a file; the checksum survives merging into another file.
        var e = a
        e.runID = RunID(42)
        XCTAssertEqual(AnswerChecksum.compute(runKey: config.key, a), AnswerChecksum.compute(runKey: config.key, e))
    }
}
