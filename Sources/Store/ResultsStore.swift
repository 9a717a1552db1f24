import Foundation
import GRDB
import Records

/// The SQLite results database: runs, one prediction per answered item, item errors, and scores.
///
/// Opened in WAL mode with a busy timeout so that several processes can write to the same file.
/// Every write is one IMMEDIATE transaction, so a process killed at any instant leaves a valid
/// database holding exactly the items whose `record` call returned.
///
/// Safe to share between threads: GRDB's `DatabaseQueue` serialises all access.
public final class ResultsStore: @unchecked Sendable {
    /// The database file.
    public let path: String
    let queue: DatabaseQueue

    /// How long a writer waits for another process's lock before failing.
    public static let busyTimeout: TimeInterval = 60

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    /// `readonly` opens an existing file without migrating it, also from read-only storage.
    /// An existing SQLite file without this tool's tables is refused for writing.
    public convenience init(path: String, readonly: Bool = false) throws {
        try self.init(path: path, readonly: readonly, synchronous: .full)
    }

    /// How hard SQLite pushes each commit to the disk (`PRAGMA synchronous`).
    enum Synchronous: String {
        /// fsync the WAL on every commit: a committed answer survives a power loss or a node crash.
        /// In WAL mode NORMAL only syncs at checkpoints, so the last transactions before a power
        /// loss can vanish although `record` returned, i.e. after `eval` reported them stored.
        case full = "FULL"
        /// Only for measuring what FULL costs.
        case normal = "NORMAL"
    }

    /// `opening` overrides the read-only decision (tests run as root, for whom permission bits
    /// never make a folder unwritable).
    init(path: String, readonly: Bool, synchronous: Synchronous, opening: ReadOnlyOpening? = nil) throws {
        self.path = path
        var config = Configuration()
        config.readonly = readonly
        config.busyMode = .timeout(Self.busyTimeout)
        config.foreignKeysEnabled = true
        if !readonly { config.journalMode = .wal }
        var openPath = path
        var queryOnly = false
        if readonly {
            guard FileManager.default.fileExists(atPath: path) else {
                throw StoreError(.notFound, "\(path): no such results database")
            }
            switch opening ?? Self.readOnlyOpening(path: path) {
            case .normal:
                // A read-only SQLite connection cannot remove the -wal and -shm files it creates, so
                // every `report` would leave them behind. Where the file may be written anyway,
                // open it read-write but refuse writes with query_only: then closing the last
                // connection cleans up as a writer's does.
                let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
                if access(path, W_OK) == 0 && access(dir, W_OK) == 0 {
                    config.readonly = false
                    queryOnly = true
                }
            case .immutable: openPath = Self.immutableURI(path)
            case .refuse(let reason): throw StoreError(.io, "\(path): cannot open results database read-only: \(reason)")
            }
        }
        do {
            if !readonly {
                let dir = URL(fileURLWithPath: path).deletingLastPathComponent()
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            }
            queue = try Self.openQueue(path: openPath, configuration: config)
            // Not in `prepareDatabase`: GRDB sets NORMAL after it when it switches the file to WAL.
            // A DatabaseQueue keeps this one connection for its whole life.
            try queue.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = \(synchronous.rawValue)") }
            if queryOnly { try queue.writeWithoutTransaction { try $0.execute(sql: "PRAGMA query_only = 1") } }
            // Each answer is two small commits (claim, record) of a few pages; SQLite's default
            // checkpoint at 1000 pages (4 MB) lets the WAL outgrow a small or nearly full disk,
            // which then stops the run although the answers themselves would fit.
            if !readonly { try queue.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_autocheckpoint = 100") } }
        } catch {
            throw StoreError(.io, "\(path): cannot open results database: \(error)\(Self.writeDiagnosis(path, readonly: readonly))")
        }
        if readonly {
            let hasRuns = try wrap { try queue.read { try $0.tableExists("runs") } }
            guard hasRuns else { throw StoreError(.corrupt, "\(path): not a results database (no 'runs' table)") }
        } else {
            try migrate()
        }
    }

    /// How a read-only open reaches the file.
    enum ReadOnlyOpening: Equatable {
        /// An ordinary read-only connection (sees other processes' commits as they happen).
        case normal
        /// `immutable=1`: SQLite neither creates nor locks the -shm/-wal files. Only safe when
        /// nothing can be writing the file, which read-only storage guarantees.
        case immutable
        case refuse(String)
    }

    /// A WAL database needs its -shm file, which SQLite creates beside the database; on read-only
    /// storage (a mounted archive, a read-only snapshot) that fails with "unable to open database
    /// file". `access` reports a read-only mount even to root, who ignores permission bits.
    static func readOnlyOpening(path: String, folderWritable: Bool? = nil) -> ReadOnlyOpening {
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        if folderWritable ?? (access(dir, W_OK) == 0) { return .normal }
        // SQLite (3.22+) reads a WAL database through -shm and -wal files that are already there.
        let fm = FileManager.default
        if fm.fileExists(atPath: path + "-shm") && fm.fileExists(atPath: path + "-wal") { return .normal }
        // An immutable open ignores the WAL: answers committed there but not yet copied into the
        // main file would silently be missing.
        if let size = (try? fm.attributesOfItem(atPath: path + "-wal"))?[.size] as? NSNumber, size.intValue > 0 {
            return .refuse("""
                it is on read-only storage and \(path)-wal holds commits not yet in the database file \
                (the writer did not close it cleanly); copy the file and its -wal to writable storage and open the copy
                """)
        }
        return .immutable
    }

    /// The SQLite URI that opens `path` immutable (GRDB passes a `file:` name through to SQLite,
    /// which interprets it when built with SQLITE_USE_URI, as Debian's and Apple's libsqlite3 are;
    /// otherwise the open fails rather than creating a file, since the connection is read-only).
    static func immutableURI(_ path: String) -> String {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/-._~")
        return "file:" + (absolute.addingPercentEncoding(withAllowedCharacters: allowed) ?? absolute) + "?immutable=1"
    }

    /// Opens the queue, retrying while another process holds the lock: switching a new file to WAL
    /// (`PRAGMA journal_mode = WAL`) needs an exclusive lock and SQLite does not wait for it through
    /// the busy handler, so two processes creating one database at once could fail with "database
    /// is locked".
    static func openQueue(path: String, configuration: Configuration) throws -> DatabaseQueue {
        var attempt = 0
        while true {
            do {
                return try DatabaseQueue(path: path, configuration: configuration)
            } catch let error as DatabaseError where [.SQLITE_BUSY, .SQLITE_LOCKED].contains(error.resultCode) && attempt < 100 {
                attempt += 1
                usleep(useconds_t(Int.random(in: 5_000...50_000)))
            }
        }
    }

    /// Why a file or its folder cannot be written, when that explains an open failure (SQLite only
    /// says "unable to open database file"). `access` reports a read-only mount even to root.
    static func writeDiagnosis(_ path: String, readonly: Bool) -> String {
        if readonly { return "" }
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let target = FileManager.default.fileExists(atPath: path) ? path : dir
        guard access(target, W_OK) != 0 else { return "" }
        let reason = errno == EROFS ? "is on a read-only file system" : "is not writable (\(String(cString: strerror(errno))))"
        return " (\(target) \(reason))"
    }

    /// Two processes opening a new file at once may both try to create the tables; the loser's
    /// transaction rolls back and a retry then sees the schema already applied. The check for a
    /// newer schema is retried too: while the other process is creating the tables it can see
    /// the migrations table appear and vanish again (seen as "no such table: grdb_migrations").
    private func migrate() throws {
        var lastError: Error?
        for attempt in 0..<8 {
            do {
                // Adding our tables to another program's database would corrupt its meaning for
                // both; an empty file, or one another process is just creating, is ours to fill.
                let tables = try queue.read {
                    try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
                }
                let ours = tables.contains("runs") && tables.contains("grdb_migrations")
                guard ours || Set(tables).isSubset(of: ["grdb_migrations"]) else {
                    throw StoreError(.refused, """
                        \(path): an SQLite database of another kind (tables: \(tables.sorted().joined(separator: ", "))); \
                        refusing to add results tables to it
                        """)
                }
                // A file written by a newer tool has migrations this build does not know; writing to
                // it could break that tool's invariants.
                let superseded = try queue.read { try StoreSchema.migrator.hasBeenSuperseded($0) }
                guard !superseded else {
                    throw StoreError(.refused, "\(path): created by a newer vispruner (unknown schema migrations); refusing to write to it")
                }
                try StoreSchema.migrator.migrate(queue)
                return
            } catch let error as StoreError {
                throw error
            } catch {
                lastError = error
                usleep(useconds_t(20_000 * (attempt + 1)))
            }
        }
        throw StoreError(.io, "\(path): cannot create or upgrade the schema: \(lastError.map { "\($0)" } ?? "unknown error")")
    }

    // MARK: - Runs

    /// Returns the run for `config`, creating it if this database has none. An existing run keeps
    /// its provenance; `expectedItems`, when given, replaces the stored count, and a finished run
    /// goes back to `running` (resuming it). `benchmarkItems` is the size of the benchmark's whole
    /// question file (so a `--limit` run is known as a subset).
    public func beginRun(_ config: RunConfig, metadata: RunMetadata, expectedItems: Int? = nil,
                         benchmarkItems: Int? = nil) throws -> RunID {
        let key = config.key
        return try write { db in
            if let id = try Int64.fetchOne(db, sql: "SELECT id FROM runs WHERE run_key = ?", arguments: [key]) {
                try db.execute(sql: """
                    UPDATE runs SET status = 'running', finished_at = NULL, stop_reason = NULL,
                        expected_items = COALESCE(?, expected_items), benchmark_items = COALESCE(?, benchmark_items) WHERE id = ?
                    """, arguments: [expectedItems, benchmarkItems, id])
                return RunID(id)
            }
            try Self.insertRun(db, config: config, metadata: metadata, startedAt: Date(), finishedAt: nil,
                               status: .running, expectedItems: expectedItems)
            let id = db.lastInsertedRowID
            try db.execute(sql: "UPDATE runs SET benchmark_items = ? WHERE id = ?", arguments: [benchmarkItems, id])
            return RunID(id)
        }
    }

    static func insertRun(_ db: Database, config: RunConfig, metadata: RunMetadata, startedAt: Date,
                          finishedAt: Date?, status: RunStatus, expectedItems: Int?) throws {
        try db.execute(sql: """
            INSERT INTO runs (run_key, config_json, model_id, checkpoint_fingerprint, method, tokens,
                important_ratio, dataset, split, max_new_tokens, seed, tool_version, git_commit, host,
                started_at, finished_at, status, expected_items)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [config.key, config.canonicalJSON, config.modelID, config.checkpointFingerprint,
                             config.method, config.tokens, config.ratio.isFinite ? config.ratio : 0,
                             config.dataset, config.split, config.maxNewTokens, Int64(bitPattern: config.seed),
                             metadata.toolVersion, metadata.gitCommit, metadata.host, startedAt, finishedAt,
                             status.rawValue, expectedItems])
    }

    /// Marks the run finished: `complete` when every expected item is present, else `incomplete`
    /// (or `failed` when `failed` is set). Returns the updated run.
    /// `peakRSSBytes` (this process's peak resident set) raises the run's recorded peak: a resumed run or
    /// another process sharing it keeps the largest any of them saw.
    @discardableResult
    public func finishRun(_ run: RunID, failed: Bool = false, peakRSSBytes: Int64? = nil) throws -> RunInfo {
        try write { db in
            guard let info = try Self.fetchRun(db, id: run, path: path) else {
                throw StoreError(.notFound, "\(path): no run with id \(run)")
            }
            let status: RunStatus = failed ? .failed : (info.isComplete ? .complete : .incomplete)
            try db.execute(sql: "UPDATE runs SET status = ?, finished_at = ? WHERE id = ?",
                           arguments: [status.rawValue, Date(), run.rawValue])
            if let peakRSSBytes { try Self.raisePeakRSS(db, run: run, to: peakRSSBytes) }
        }
        guard let info = try self.run(run) else { throw StoreError(.notFound, "\(path): no run with id \(run)") }
        return info
    }

    static func raisePeakRSS(_ db: Database, run: RunID, to bytes: Int64) throws {
        try db.execute(sql: "UPDATE runs SET peak_rss_bytes = MAX(COALESCE(peak_rss_bytes, 0), ?) WHERE id = ?",
                       arguments: [bytes, run.rawValue])
    }

    /// Marks a run stopped from outside (a signal): status `incomplete` unless every item is in, with the reason.
    @discardableResult
    public func markInterrupted(_ run: RunID, reason: String) throws -> RunInfo {
        try finishRun(run)
        try write { db in
            try db.execute(sql: "UPDATE runs SET stop_reason = ? WHERE id = ?", arguments: [reason, run.rawValue])
        }
        guard let updated = try self.run(run) else { throw StoreError(.notFound, "\(path): no run with id \(run)") }
        return updated
    }

    /// Deletes the run's predictions, errors and scores (for `--restart`) and marks it running.
    public func resetRun(_ run: RunID) throws {
        try write { db in
            try db.execute(sql: "DELETE FROM predictions WHERE run_id = ?", arguments: [run.rawValue])
            try db.execute(sql: "DELETE FROM item_errors WHERE run_id = ?", arguments: [run.rawValue])
            try db.execute(sql: "DELETE FROM scores WHERE run_id = ?", arguments: [run.rawValue])
            try db.execute(sql: "DELETE FROM claims WHERE run_id = ?", arguments: [run.rawValue])
            try db.execute(sql: "UPDATE runs SET status = 'running', finished_at = NULL, started_at = ? WHERE id = ?",
                           arguments: [Date(), run.rawValue])
        }
    }

    public func run(_ id: RunID) throws -> RunInfo? {
        try read { db in try Self.fetchRun(db, id: id, path: path) }
    }

    /// The run whose config has this key, if this database holds it.
    public func run(key: String) throws -> RunInfo? {
        try read { db in
            guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM runs WHERE run_key = ?", arguments: [key]) else { return nil }
            return try Self.fetchRun(db, id: RunID(id), path: path)
        }
    }

    /// All runs, oldest first.
    public func runs() throws -> [RunInfo] {
        try read { db in
            try Int64.fetchAll(db, sql: "SELECT id FROM runs ORDER BY id").compactMap {
                try Self.fetchRun(db, id: RunID($0), path: path)
            }
        }
    }

    static func fetchRun(_ db: Database, id: RunID, path: String) throws -> RunInfo? {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT r.*, (SELECT COUNT(*) FROM predictions p WHERE p.run_id = r.id) AS done,
                   (SELECT COUNT(*) FROM item_errors e WHERE e.run_id = r.id) AS errs
            FROM runs r WHERE r.id = ?
            """, arguments: [id.rawValue]) else { return nil }
        let json: String = row["config_json"]
        let config: RunConfig
        do { config = try RunConfig.decode(json: json) } catch {
            throw StoreError(.corrupt, "\(path): run \(id): config_json is not a valid run config: \(error)")
        }
        let statusText: String = row["status"]
        guard let status = RunStatus(rawValue: statusText) else {
            throw StoreError(.corrupt, "\(path): run \(id): unknown status '\(statusText)'")
        }
        guard let started: Date = row["started_at"] else {
            throw StoreError(.corrupt, "\(path): run \(id): started_at is not a date")
        }
        return RunInfo(id: id, key: row["run_key"], config: config,
                       metadata: RunMetadata(toolVersion: row["tool_version"], gitCommit: row["git_commit"], host: row["host"]),
                       startedAt: started, finishedAt: row["finished_at"], status: status,
                       expectedItems: row["expected_items"], doneItems: row["done"], errorItems: row["errs"],
                       // Absent from files written before it existed when they are opened read-only.
                       benchmarkItems: row.hasColumn("benchmark_items") ? row["benchmark_items"] : nil,
                       stopReason: row.hasColumn("stop_reason") ? row["stop_reason"] : nil,
                       peakRSSBytes: row.hasColumn("peak_rss_bytes") ? row["peak_rss_bytes"] : nil)
    }

    // MARK: - Items

    /// Ids that have a prediction in this run. With repeated ids (MME) an id is listed once any
    /// of its items is done; resuming uses `doneItems`, which tells them apart.
    public func doneQuestionIDs(_ run: RunID) throws -> Set<QuestionID> {
        Set(try doneItems(run).map(\.questionID))
    }

    /// Items that already have a prediction in this run (what a resumed run skips).
    public func doneItems(_ run: RunID) throws -> Set<ItemKey> {
        try read { db in
            var keys = Set<ItemKey>()
            let rows = try Row.fetchCursor(db, sql: "SELECT question_id, occurrence FROM predictions WHERE run_id = ?",
                                           arguments: [run.rawValue])
            while let row = try rows.next() {
                keys.insert(ItemKey(try Self.questionID(row[0], path: path), occurrence: row[1]))
            }
            return keys
        }
    }

    /// Stores one prediction in its own transaction and clears any earlier error for the item.
    /// Throws `StoreError(.duplicate)` if the item already has a prediction in this run.
    public func record(_ p: PredictionRecord) throws {
        try write { db in
            if try Self.exists(db, run: p.runID, item: p.key) {
                throw StoreError(.duplicate, "\(path): run \(p.runID) already has a prediction for question \(p.key)")
            }
            try Self.insertPrediction(db, p, createdAt: Date())
            try db.execute(sql: "DELETE FROM item_errors WHERE run_id = ? AND question_id = ? AND occurrence = ?",
                           arguments: [p.runID.rawValue, Self.dbValue(p.questionID), p.occurrence])
        }
    }

    static func exists(_ db: Database, run: RunID, item: ItemKey) throws -> Bool {
        try Bool.fetchOne(db, sql: """
            SELECT EXISTS(SELECT 1 FROM predictions WHERE run_id = ? AND question_id = ? AND occurrence = ?)
            """, arguments: [run.rawValue, dbValue(item.questionID), item.occurrence]) ?? false
    }

    static func insertPrediction(_ db: Database, _ p: PredictionRecord, createdAt: Date) throws {
        guard let runKey = try String.fetchOne(db, sql: "SELECT run_key FROM runs WHERE id = ?", arguments: [p.runID.rawValue]) else {
            throw StoreError(.notFound, "no run with id \(p.runID) for question \(p.key)")
        }
        let t = p.timings
        // NULL, not 0, says "not recorded", so that a report tells a missing cost from a free one.
        let c: ItemCost? = p.cost.isRecorded ? p.cost : nil
        try db.execute(sql: """
            INSERT INTO predictions (run_id, question_id, occurrence, item_index, prompt, raw_output, parsed_answer,
                answer_id, visual_tokens, generated_tokens, kept_json, load_ms, preprocess_ms, vision_ms,
                prune_ms, projector_ms, prefill_ms, decode_ms, total_ms, created_at, checksum,
                vision_flops, projector_flops, prefill_flops, decode_flops, kv_cache_bytes, image_path, selection_margin)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [p.runID.rawValue, dbValue(p.questionID), p.occurrence, p.itemIndex, p.prompt, p.rawOutput,
                             p.parsedAnswer, p.answerID, p.visualTokens, p.generatedTokens, keptJSON(p.kept),
                             t.load, t.preprocess, t.vision, t.prune, t.projector, t.prefill, t.decode, t.total, createdAt,
                             AnswerChecksum.compute(runKey: runKey, p),
                             c?.visionFLOPs, c?.projectorFLOPs, c?.prefillFLOPs, c?.decodeFLOPs, c?.kvCacheBytes,
                             p.imagePath?.rawValue, p.selectionMargin])
        try releaseClaim(db, run: p.runID, item: p.key)
    }

    /// Records that an item failed (replacing an earlier error for it); the item stays not done.
    public func recordError(run: RunID, item: ItemKey, itemIndex: Int, message: String) throws {
        try write { db in
            try db.execute(sql: """
                INSERT OR REPLACE INTO item_errors (run_id, question_id, occurrence, item_index, message, at)
                VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [run.rawValue, Self.dbValue(item.questionID), item.occurrence, itemIndex, message, Date()])
            try Self.releaseClaim(db, run: run, item: item)
        }
    }

    /// Items of the run whose last attempt failed, in question-file order.
    public func errors(_ run: RunID) throws -> [ItemError] {
        try read { db in try Self.fetchErrors(db, run: run, path: path) }
    }

    static func fetchErrors(_ db: Database, run: RunID, path: String) throws -> [ItemError] {
        try Row.fetchAll(db, sql: "SELECT * FROM item_errors WHERE run_id = ? ORDER BY item_index",
                         arguments: [run.rawValue]).map { row in
            ItemError(questionID: try questionID(row["question_id"], path: path), occurrence: row["occurrence"],
                      itemIndex: row["item_index"],
                      message: row["message"], at: row["at"] ?? Date(timeIntervalSince1970: 0))
        }
    }

    /// The run's predictions in question-file order.
    ///
    /// Throws `StoreError(.corrupt)` naming the row if any answer's bytes changed after it was
    /// stored (checksum mismatch): every score, export and table reads answers through here, and
    /// a number computed over an altered answer must not reach a paper. Dropping the row instead
    /// would silently turn a complete run into a partial one. `verify()` lists all such rows.
    public func predictions(_ run: RunID) throws -> [PredictionRecord] {
        try read { db in try Self.fetchPredictions(db, run: run, path: path) }
    }

    static func fetchPredictions(_ db: Database, run: RunID, path: String) throws -> [PredictionRecord] {
        guard let info = try fetchRun(db, id: run, path: path) else { return [] }
        return try Row.fetchAll(db, sql: "SELECT * FROM predictions WHERE run_id = ? ORDER BY item_index, id",
                                arguments: [run.rawValue]).map { try checkedPrediction(from: $0, run: info, path: path) }
    }

    /// Whether a stored row still has the content it was written with.
    enum ChecksumState: Equatable {
        case matches
        /// Written before checksums existed (NULL).
        case absent
        case mismatch
    }

    static func checksumState(_ row: Row, _ p: PredictionRecord, runKey: String) -> ChecksumState {
        // The column is missing from files predating it when they are opened read-only.
        guard let stored: String = row.hasColumn("checksum") ? row["checksum"] : nil else { return .absent }
        return AnswerChecksum.matches(stored, runKey: runKey, p) ? .matches : .mismatch
    }

    static func checkedPrediction(from row: Row, run: RunInfo, path: String) throws -> PredictionRecord {
        let p = try prediction(from: row, path: path)
        guard checksumState(row, p, runKey: run.key) != .mismatch else {
            throw StoreError(.corrupt, """
                \(path): run \(run.config.label): the stored answer to question \(p.questionID.jsonLiteral) \
                occurrence \(p.occurrence) was changed after it was written (checksum mismatch); \
                `vispruner verify --db \(path)` lists every changed answer
                """)
        }
        return p
    }

    static func prediction(from row: Row, path: String) throws -> PredictionRecord {
        let qid = try questionID(row["question_id"], path: path)
        let keptText: String = row["kept_json"]
        guard let kept = try? JSONDecoder().decode([[Int]].self, from: Data(keptText.utf8)) else {
            throw StoreError(.corrupt, "\(path): prediction for question \(qid.jsonLiteral): kept_json is not a list of index lists")
        }
        return PredictionRecord(
            runID: RunID(row["run_id"]), questionID: qid, itemIndex: row["item_index"], prompt: row["prompt"],
            rawOutput: row["raw_output"], parsedAnswer: row["parsed_answer"], answerID: row["answer_id"],
            visualTokens: row["visual_tokens"], generatedTokens: row["generated_tokens"], kept: kept,
            // projector_ms is absent from files written before it existed when they are opened read-only.
            timings: StageTimings(load: row["load_ms"], preprocess: row["preprocess_ms"], vision: row["vision_ms"],
                                  prune: row["prune_ms"], projector: (row["projector_ms"] as Double?) ?? 0,
                                  prefill: row["prefill_ms"], decode: row["decode_ms"], total: row["total_ms"]),
            occurrence: row["occurrence"], cost: itemCost(from: row), imagePath: try imagePath(from: row, qid: qid, path: path),
            selectionMargin: row.hasColumn("selection_margin") ? row["selection_margin"] : nil)
    }

    /// NULL or a column absent from an older file opened read-only reads as nil; any other value than a known
    /// path is corruption.
    static func imagePath(from row: Row, qid: QuestionID, path: String) throws -> ImagePath? {
        guard row.hasColumn("image_path"), let text: String = row["image_path"] else { return nil }
        guard let p = ImagePath(rawValue: text) else {
            throw StoreError(.corrupt, "\(path): prediction for question \(qid.jsonLiteral): image_path '\(text)' is not one of \(ImagePath.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return p
    }

    /// NULL (or a column absent from an older file opened read-only) reads as 0, i.e. not recorded.
    static func itemCost(from row: Row) -> ItemCost {
        func value(_ column: String) -> Int64 { row.hasColumn(column) ? (row[column] as Int64?) ?? 0 : 0 }
        return ItemCost(visionFLOPs: value("vision_flops"), projectorFLOPs: value("projector_flops"),
                        prefillFLOPs: value("prefill_flops"), decodeFLOPs: value("decode_flops"),
                        kvCacheBytes: value("kv_cache_bytes"))
    }

    // MARK: - Scores

    /// Replaces the run's scores with `metrics` (kept in the given order) and its resampling units with `units`.
    public func setScores(_ run: RunID, _ metrics: [Metric], units: UnitScores? = nil) throws {
        let unitsJSON = try units.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        try write { db in
            try db.execute(sql: "DELETE FROM scores WHERE run_id = ?", arguments: [run.rawValue])
            try db.execute(sql: "DELETE FROM score_units WHERE run_id = ?", arguments: [run.rawValue])
            for (i, m) in metrics.enumerated() {
                try db.execute(sql: "INSERT OR REPLACE INTO scores (run_id, metric, value, position) VALUES (?, ?, ?, ?)",
                               arguments: [run.rawValue, m.name, m.value, i])
            }
            if let unitsJSON {
                try db.execute(sql: "INSERT INTO score_units (run_id, units_json) VALUES (?, ?)", arguments: [run.rawValue, unitsJSON])
            }
        }
    }

    /// The run's resampling units, or nil when none are stored (scored before they were kept, or by a scorer
    /// that gives none).
    public func scoreUnits(_ run: RunID) throws -> UnitScores? {
        try read { db in try Self.fetchUnits(db, run: run, path: path) }
    }

    static func fetchUnits(_ db: Database, run: RunID, path: String) throws -> UnitScores? {
        // A file written before the table existed, opened read-only, has none.
        guard try db.tableExists("score_units"),
              let text = try String.fetchOne(db, sql: "SELECT units_json FROM score_units WHERE run_id = ?", arguments: [run.rawValue])
        else { return nil }
        do { return try JSONDecoder().decode(UnitScores.self, from: Data(text.utf8)) } catch {
            throw StoreError(.corrupt, "\(path): the score units of run \(run) are not readable: \(error)")
        }
    }

    public func scores(_ run: RunID) throws -> [Metric] {
        try read { db in try Self.fetchScores(db, run: run) }
    }

    static func fetchScores(_ db: Database, run: RunID) throws -> [Metric] {
        try Row.fetchAll(db, sql: "SELECT metric, value FROM scores WHERE run_id = ? ORDER BY position, metric",
                         arguments: [run.rawValue]).map { Metric($0["metric"], $0["value"]) }
    }

    // MARK: - Maintenance

    /// `PRAGMA integrity_check` lines; `["ok"]` for a sound file.
    public func integrityCheck() throws -> [String] {
        try read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
    }

    // MARK: - Helpers

    static func dbValue(_ id: QuestionID) -> DatabaseValue {
        switch id {
        case .int(let v): return v.databaseValue
        case .string(let s): return s.databaseValue
        }
    }

    static func questionID(_ value: DatabaseValue, path: String) throws -> QuestionID {
        switch value.storage {
        case .int64(let v): return .int(v)
        case .string(let s): return .string(s)
        default: throw StoreError(.corrupt, "\(path): a question_id is neither an integer nor text")
        }
    }

    static func keptJSON(_ kept: [[Int]]) -> String {
        "[" + kept.map { "[" + $0.map(String.init).joined(separator: ",") + "]" }.joined(separator: ",") + "]"
    }

    func write<T>(_ body: (Database) throws -> T) throws -> T {
        try wrap {
            try queue.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                guard let result else { throw StoreError(.io, "\(path): transaction produced no result") }
                return result
            }
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try wrap { try queue.read(body) }
    }

    func wrap<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as StoreError { throw e } catch {
            // SQLITE_READONLY / SQLITE_CANTOPEN alone do not say that the disk is the cause.
            var hint = ""
            if let db = error as? DatabaseError, [.SQLITE_READONLY, .SQLITE_CANTOPEN].contains(db.resultCode) {
                hint = Self.writeDiagnosis(path, readonly: false)
            }
            throw StoreError(.io, "\(path): \(error)\(hint)")
        }
    }
}
