import Foundation
import XCTest
import GRDB
@testable import Store
import Records

/// Commits reach the disk before `record` returns (`PRAGMA synchronous = FULL` on every connection).
final class DurabilityTests: XCTestCase {
    func synchronous(_ store: ResultsStore) throws -> Int? {
        try store.queue.read { try Int.fetchOne($0, sql: "PRAGMA synchronous") }
    }

    func testEveryConnectionOfTheStoreSyncsEachCommit() throws {
        let dir = try TempDir()
        let path = dir.path("durable.sqlite")
        let config = sampleConfig()
        do {
            let store = try ResultsStore(path: path)
            // GRDB itself leaves WAL connections at NORMAL (1), which can lose the last commits on power loss.
            XCTAssertEqual(try synchronous(store), 2, "FULL on a new file")
            XCTAssertEqual(try store.queue.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }, "wal")
            let run = try store.beginRun(config, metadata: testMetadata)
            try store.record(samplePrediction(run: run, config: config, index: 0))
            XCTAssertEqual(try synchronous(store), 2, "still FULL after writing")
        }
        let reopened = try ResultsStore(path: path)
        XCTAssertEqual(try synchronous(reopened), 2, "FULL after reopening an existing file")
        let second = try ResultsStore(path: path)
        XCTAssertEqual(try synchronous(second), 2, "FULL on a second store on the same file")
        XCTAssertEqual(try synchronous(ResultsStore(path: path, readonly: true)), 2)
    }

    /// Prints (does not assert) what FULL costs per answer compared with NORMAL; the numbers in
    /// results/README.md come from here.
    func testMeasureTheCostOfSyncingEachAnswer() throws {
        let dir = try TempDir()
        let n = 300
        var perAnswer: [ResultsStore.Synchronous: Double] = [:]
        for setting in [ResultsStore.Synchronous.normal, .full, .normal, .full] {
            let store = try ResultsStore(path: dir.path("cost-\(setting.rawValue)-\(UUID().uuidString).sqlite"),
                                         readonly: false, synchronous: setting)
            let config = sampleConfig()
            let run = try store.beginRun(config, metadata: testMetadata)
            let start = Date()
            for i in 0..<n { try store.record(samplePrediction(run: run, config: config, index: i)) }
            perAnswer[setting] = Date().timeIntervalSince(start) / Double(n) * 1000
        }
        print(String(format: "durability cost: %d answers, synchronous=NORMAL %.3f ms/answer, FULL %.3f ms/answer",
                     n, perAnswer[.normal] ?? -1, perAnswer[.full] ?? -1))
    }
}
