import Foundation
import GRDB
import Records

/// What `ResultsStore.merge(from:)` did.
public struct MergeReport: Equatable, Sendable {
    /// A stored prediction and an incoming one for the same run and question that differ in content.
    /// The stored one is kept.
    public struct Conflict: Equatable, Sendable {
        public var runKey: String
        public var runLabel: String
        public var questionID: QuestionID
        public var occurrence: Int
        /// The question id names more than one item of the run (MME's two questions per image),
        /// so the occurrence is needed to say which one differs.
        public var repeatedID: Bool
        /// The file the rejected row came from.
        public var source: String
        /// Content fields that differ (timings are never compared).
        public var fields: [String]
    }

    /// A score present in both files with different values; the stored value is kept.
    public struct ScoreConflict: Equatable, Sendable {
        public var runKey: String
        public var metric: String
        public var kept: Double
        public var rejected: Double
        public var source: String
    }

    /// Source files read.
    public var sources: [String] = []
    /// Runs created in the target because it had no run with their key.
    public var runsAdded = 0
    /// Runs that already existed in the target (or earlier sources) and were extended.
    public var runsMatched = 0
    public var predictionsAdded = 0
    /// Incoming rows identical in content to a stored one, dropped.
    public var duplicatesCollapsed = 0
    public var conflicts: [Conflict] = []
    public var scoreConflicts: [ScoreConflict] = []
    /// Keys of merged runs that still lack items after the merge (status `incomplete`).
    public var incompleteRuns: [String] = []
    /// Runs whose scores in the target were deleted because the merge added predictions to them.
    public var staleScoresCleared: [String] = []
    /// Source runs whose scores were not copied because that copy of the run was incomplete.
    public var partialScoresDropped: [String] = []

    public var hasConflicts: Bool { !conflicts.isEmpty || !scoreConflicts.isEmpty }
}

extension ResultsStore {
    /// Copies every run, prediction, item error and score of the databases at `paths` into this one.
    /// Runs are matched by key. Predictions identical in content to a stored one are collapsed;
    /// differing ones are listed as conflicts and never overwrite the stored row. Each source is
    /// merged in one transaction, so an interrupted merge leaves whole sources merged or not at all.
    /// Afterwards each touched run is `complete` if all its expected items are present, else `incomplete`.
    /// Scores describe one exact answer set, so a source's scores are copied only from a complete
    /// run, and a target run that gains predictions loses its (now stale) scores.
    public func merge(from paths: [String]) throws -> MergeReport {
        var report = MergeReport()
        var touched = Set<String>()
        let selfReal = URL(fileURLWithPath: path).resolvingSymlinksInPath().standardizedFileURL.path
        for source in paths {
            let real = URL(fileURLWithPath: source).resolvingSymlinksInPath().standardizedFileURL.path
            guard real != selfReal else {
                throw StoreError(.refused, "\(source): is the merge target itself")
            }
            guard FileManager.default.fileExists(atPath: source) else {
                throw StoreError(.notFound, "\(source): no such results database")
            }
            let src = try ResultsStore(path: source, readonly: true)
            let incoming = try src.readAll()
            report.sources.append(source)
            try write { db in
                for item in incoming {
                    let targetID: RunID
                    if let id = try Int64.fetchOne(db, sql: "SELECT id FROM runs WHERE run_key = ?", arguments: [item.run.key]) {
                        targetID = RunID(id)
                        report.runsMatched += 1
                        // The larger expected count wins: a `--limit` copy must not shrink the whole run.
                        try db.execute(sql: """
                            UPDATE runs SET
                                expected_items = CASE WHEN ?1 IS NULL THEN expected_items
                                                      WHEN expected_items IS NULL THEN ?1
                                                      ELSE MAX(expected_items, ?1) END,
                                started_at = MIN(started_at, ?2),
                                benchmark_items = COALESCE(benchmark_items, ?4)
                            WHERE id = ?3
                            """, arguments: [item.run.expectedItems, item.run.startedAt, id, item.run.benchmarkItems])
                    } else {
                        try Self.insertRun(db, config: item.run.config, metadata: item.run.metadata,
                                           startedAt: item.run.startedAt, finishedAt: item.run.finishedAt,
                                           status: item.run.status, expectedItems: item.run.expectedItems)
                        targetID = RunID(db.lastInsertedRowID)
                        try db.execute(sql: "UPDATE runs SET benchmark_items = ? WHERE id = ?",
                                       arguments: [item.run.benchmarkItems, targetID.rawValue])
                        report.runsAdded += 1
                    }
                    // Each shard measured its own process: the merged run's peak is the largest.
                    if let peak = item.run.peakRSSBytes { try Self.raisePeakRSS(db, run: targetID, to: peak) }
                    touched.insert(item.run.key)

                    var added = 0
                    for var p in item.predictions {
                        p.runID = targetID
                        if let row = try Row.fetchOne(db, sql: """
                            SELECT * FROM predictions WHERE run_id = ? AND question_id = ? AND occurrence = ?
                            """, arguments: [targetID.rawValue, Self.dbValue(p.questionID), p.occurrence]) {
                            let stored = try Self.checkedPrediction(from: row, run: item.run, path: path)
                            let diff = stored.differingFields(from: p)
                            if diff.isEmpty {
                                report.duplicatesCollapsed += 1
                            } else {
                                let repeated = try p.occurrence > 0
                                    || item.predictions.contains { $0.questionID == p.questionID && $0.occurrence != p.occurrence }
                                    || Bool.fetchOne(db, sql: """
                                        SELECT EXISTS(SELECT 1 FROM predictions WHERE run_id = ? AND question_id = ? AND occurrence <> ?)
                                        """, arguments: [targetID.rawValue, Self.dbValue(p.questionID), p.occurrence]) == true
                                report.conflicts.append(.init(runKey: item.run.key, runLabel: item.run.config.label,
                                                              questionID: p.questionID, occurrence: p.occurrence,
                                                              repeatedID: repeated, source: source, fields: diff))
                            }
                            continue
                        }
                        try Self.insertPrediction(db, p, createdAt: item.createdAt[p.key] ?? Date())
                        try db.execute(sql: "DELETE FROM item_errors WHERE run_id = ? AND question_id = ? AND occurrence = ?",
                                       arguments: [targetID.rawValue, Self.dbValue(p.questionID), p.occurrence])
                        report.predictionsAdded += 1
                        added += 1
                    }
                    if added > 0 {
                        let cleared = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM scores WHERE run_id = ?",
                                                       arguments: [targetID.rawValue]) ?? 0
                        if cleared > 0 {
                            try db.execute(sql: "DELETE FROM scores WHERE run_id = ?", arguments: [targetID.rawValue])
                            try db.execute(sql: "DELETE FROM score_units WHERE run_id = ?", arguments: [targetID.rawValue])
                            report.staleScoresCleared.append(item.run.key)
                        }
                    }
                    for e in item.errors where !(try Self.exists(db, run: targetID, item: ItemKey(e.questionID, occurrence: e.occurrence))) {
                        try db.execute(sql: """
                            INSERT OR REPLACE INTO item_errors (run_id, question_id, occurrence, item_index, message, at)
                            VALUES (?, ?, ?, ?, ?, ?)
                            """, arguments: [targetID.rawValue, Self.dbValue(e.questionID), e.occurrence, e.itemIndex, e.message, e.at])
                    }
                    if !item.run.isComplete && !item.scores.isEmpty { report.partialScoresDropped.append(item.run.key) }
                    for (i, m) in item.scores.enumerated() where item.run.isComplete {
                        if let stored = try Double.fetchOne(db, sql: "SELECT value FROM scores WHERE run_id = ? AND metric = ?",
                                                            arguments: [targetID.rawValue, m.name]) {
                            if stored != m.value {
                                report.scoreConflicts.append(.init(runKey: item.run.key, metric: m.name, kept: stored,
                                                                   rejected: m.value, source: source))
                            }
                        } else {
                            try db.execute(sql: "INSERT INTO scores (run_id, metric, value, position) VALUES (?, ?, ?, ?)",
                                           arguments: [targetID.rawValue, m.name, m.value, i])
                        }
                    }
                    if item.run.isComplete, let units = item.units,
                       try Self.fetchUnits(db, run: targetID, path: self.path) == nil {
                        try db.execute(sql: "INSERT INTO score_units (run_id, units_json) VALUES (?, ?)",
                                       arguments: [targetID.rawValue, String(decoding: try JSONEncoder().encode(units), as: UTF8.self)])
                    }
                }
            }
        }
        // Status reflects the merged whole, not any one shard.
        for key in touched.sorted() {
            guard let info = try run(key: key) else { continue }
            let status: RunStatus = info.isComplete ? .complete : .incomplete
            try write { db in
                try db.execute(sql: "UPDATE runs SET status = ?, finished_at = COALESCE(finished_at, ?) WHERE id = ?",
                               arguments: [status.rawValue, Date(), info.id.rawValue])
            }
            if !info.isComplete { report.incompleteRuns.append(key) }
        }
        return report
    }

    struct RunDump {
        var run: RunInfo
        var predictions: [PredictionRecord]
        var createdAt: [ItemKey: Date]
        var errors: [ItemError]
        var scores: [Metric]
        var units: UnitScores?
    }

    /// Every run of this database with its rows, read in one transaction so a source that is
    /// still being written is seen at a single consistent point.
    func readAll() throws -> [RunDump] {
        try read { db in
            let ids = try Int64.fetchAll(db, sql: "SELECT id FROM runs ORDER BY id")
            return try ids.compactMap { raw -> RunDump? in
                let id = RunID(raw)
                guard let run = try Self.fetchRun(db, id: id, path: path) else { return nil }
                var preds: [PredictionRecord] = []
                var created: [ItemKey: Date] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT * FROM predictions WHERE run_id = ? ORDER BY item_index, id",
                                            arguments: [raw]) {
                    // A source row that changed after it was written must not spread into the merged file.
                    let p = try Self.checkedPrediction(from: row, run: run, path: path)
                    preds.append(p)
                    created[p.key] = row["created_at"]
                }
                return RunDump(run: run, predictions: preds, createdAt: created,
                               errors: try Self.fetchErrors(db, run: id, path: path),
                               scores: try Self.fetchScores(db, run: id), units: try Self.fetchUnits(db, run: id, path: path))
            }
        }
    }
}
