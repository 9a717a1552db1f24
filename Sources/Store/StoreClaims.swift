import Foundation
import GRDB
import Records

/// Per-item claims: two processes evaluating the same run in one database split its items instead
/// of both answering every one of them (which wastes the machine and, with sampling engines, would
/// make the stored answer depend on which process committed first).
///
/// A claim is a lease: it lasts `ttl` seconds unless its owner stores the item (prediction or item
/// error) first, which deletes it. A crashed owner's claims therefore free themselves; on the same
/// host a claim whose process no longer exists is taken over at once, so re-running a killed eval
/// right away does not skip the item it was answering.
extension ResultsStore {
    /// Longer than any single item takes on a CPU; a claim outliving its item only costs a
    /// duplicate answer, which `record` refuses and the evaluator treats as done.
    public static let defaultClaimTTL: TimeInterval = 30 * 60

    /// `host:pid:random`: unique per evaluator, and the pid lets a claim of a dead process on this
    /// host be recognised.
    public static func makeClaimOwner() -> String {
        "\(ProcessInfo.processInfo.hostName):\(getpid()):\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
    }

    /// Takes `item` for `owner`: true unless the item already has a prediction (nothing left to do)
    /// or another owner holds a claim on it that has not expired.
    public func claim(run: RunID, item: ItemKey, owner: String, ttl: TimeInterval = defaultClaimTTL) throws -> Bool {
        try write { db in
            if try Self.exists(db, run: run, item: item) { return false }
            let now = Date().timeIntervalSince1970
            if let row = try Row.fetchOne(db, sql: """
                SELECT owner, expires_at FROM claims WHERE run_id = ? AND question_id = ? AND occurrence = ?
                """, arguments: [run.rawValue, Self.dbValue(item.questionID), item.occurrence]) {
                let holder: String = row["owner"]
                let expires: Double = row["expires_at"]
                if holder != owner && expires > now && !Self.ownerIsGone(holder) { return false }
            }
            try db.execute(sql: """
                INSERT OR REPLACE INTO claims (run_id, question_id, occurrence, owner, expires_at) VALUES (?, ?, ?, ?, ?)
                """, arguments: [run.rawValue, Self.dbValue(item.questionID), item.occurrence, owner, now + ttl])
            return true
        }
    }

    static func releaseClaim(_ db: Database, run: RunID, item: ItemKey) throws {
        try db.execute(sql: "DELETE FROM claims WHERE run_id = ? AND question_id = ? AND occurrence = ?",
                       arguments: [run.rawValue, dbValue(item.questionID), item.occurrence])
    }

    /// The owner ran on this host and its process has exited (a pid reused by another process
    /// keeps the claim until it expires, which is only slower, never wrong).
    static func ownerIsGone(_ owner: String) -> Bool {
        let parts = owner.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 3, let pid = Int32(parts[parts.count - 2]), pid > 0 else { return false }
        guard parts.dropLast(2).joined(separator: ":") == ProcessInfo.processInfo.hostName else { return false }
        return kill(pid, 0) != 0 && errno == ESRCH
    }
}
