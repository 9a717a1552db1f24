import Foundation
import XCTest
import GRDB
@testable import Store
import Records

/// An SQLite file that is not a results database is refused for writing, never extended with our tables.
final class ForeignFileTests: XCTestCase {
    func tables(_ path: String) throws -> [String] {
        try DatabaseQueue(path: path).read {
            try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        }
    }

    func testAnSQLiteFileOfAnotherKindIsRefusedAndLeftAlone() throws {
        let dir = try TempDir()
        for (name, sql) in [
            ("other.sqlite", "CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)"),
            // Another GRDB application: a migrations table, but not ours.
            ("grdb-app.sqlite", "CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY); CREATE TABLE notes (body TEXT)"),
            // Tables named like ours but no migrations record.
            ("lookalike.sqlite", "CREATE TABLE runs (id INTEGER PRIMARY KEY)"),
        ] {
            let path = dir.path(name)
            try DatabaseQueue(path: path).write { try $0.execute(sql: sql) }
            let before = try tables(path)
            XCTAssertThrowsError(try ResultsStore(path: path), name) { error in
                XCTAssertEqual((error as? StoreError)?.kind, .refused, "\(name): \(error)")
                XCTAssertTrue("\(error)".contains("another kind"), "\(error)")
                XCTAssertTrue("\(error)".contains(path), "\(error)")
            }
            XCTAssertEqual(try tables(path), before, "\(name) is unchanged")
        }
    }

    func testAnEmptyFileOrANewPathBecomesAResultsDatabase() throws {
        let dir = try TempDir()
        let empty = dir.path("empty.sqlite")
        XCTAssertTrue(FileManager.default.createFile(atPath: empty, contents: Data()))
        for path in [empty, dir.path("sub/new.sqlite")] {
            let store = try ResultsStore(path: path)
            let config = sampleConfig()
            let run = try store.beginRun(config, metadata: testMetadata)
            try store.record(samplePrediction(run: run, config: config, index: 0))
            XCTAssertEqual(try ResultsStore(path: path).predictions(run).count, 1, "reopened for writing: ours")
        }
    }
}
