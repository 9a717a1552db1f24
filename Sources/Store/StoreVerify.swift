import Foundation
import GRDB
import Records

/// What `ResultsStore.verify()` found.
public struct VerifyReport: Equatable, Sendable {
    /// A stored answer whose content no longer matches its checksum, or that cannot be decoded.
    public struct ChangedAnswer: Equatable, Sendable {
        public var runKey: String
        public var runLabel: String
        /// The question id as stored (its JSON literal), so an undecodable id can still be named.
        public var questionID: String
        public var occurrence: Int
        public var itemIndex: Int
        public var reason: String
    }

    /// Answers read.
    public var checked = 0
    /// Answers written before checksums existed; their content cannot be checked.
    public var withoutChecksum = 0
    public var changed: [ChangedAnswer] = []
    /// `PRAGMA integrity_check` lines; `["ok"]` for a sound file.
    public var integrity: [String] = []

    public var isClean: Bool { changed.isEmpty && integrity == ["ok"] }
}

extension ResultsStore {
    /// Checks every stored answer against its checksum and the file with SQLite's integrity check,
    /// listing every bad row rather than stopping at the first (as `predictions` does).
    public func verify() throws -> VerifyReport {
        var report = VerifyReport()
        report.integrity = try integrityCheck()
        try read { db in
            for raw in try Int64.fetchAll(db, sql: "SELECT id FROM runs ORDER BY id") {
                guard let run = try Self.fetchRun(db, id: RunID(raw), path: path) else { continue }
                let rows = try Row.fetchCursor(db, sql: "SELECT * FROM predictions WHERE run_id = ? ORDER BY item_index, id",
                                               arguments: [raw])
                while let row = try rows.next() {
                    report.checked += 1
                    func changed(_ reason: String) {
                        let qid = (try? Self.questionID(row["question_id"], path: path).jsonLiteral)
                            ?? String(describing: row["question_id"] as DatabaseValue)
                        report.changed.append(.init(runKey: run.key, runLabel: run.config.label, questionID: qid,
                                                    occurrence: row["occurrence"], itemIndex: row["item_index"], reason: reason))
                    }
                    let p: PredictionRecord
                    do { p = try Self.prediction(from: row, path: path) } catch {
                        changed("cannot be read: \(error)")
                        continue
                    }
                    switch Self.checksumState(row, p, runKey: run.key) {
                    case .matches: break
                    case .absent: report.withoutChecksum += 1
                    case .mismatch: changed("content differs from its checksum")
                    }
                }
            }
        }
        return report
    }
}
