import Foundation
import XCTest
@testable import Store
import Records

/// Durability against SIGKILL: a child process (`store-writer`) records items in a loop and is
/// killed at random moments; every item it reported as recorded must be present exactly once and
/// the database must pass `PRAGMA integrity_check`.
final class KillDurabilityTests: XCTestCase {
    static let writerConfig = RunConfig(modelID: "writer-model", checkpointFingerprint: "fp", dataset: "synthetic",
                                        split: "test", pruning: .pruned(.vispruner, tokens: 64, ratio: 0.5), maxNewTokens: 16)

    func writerURL() throws -> URL {
        // The helper is built next to the test bundle (same products directory).
        var dirs = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(), Bundle.main.bundleURL]
        dirs += Bundle.allBundles.map { $0.bundleURL.deletingLastPathComponent() }
        for d in dirs {
            let exe = d.appendingPathComponent("store-writer")
            if FileManager.default.isExecutableFile(atPath: exe.path) { return exe }
        }
        throw XCTSkip("store-writer helper not found next to the test binary (looked in \(dirs.map(\.path)))")
    }

    /// Starts the writer; returns the process and a reader collecting "done N" lines.
    func startWriter(_ exe: URL, db: String, first: Int, count: Int, delayMs: Int) throws -> (Process, LineCollector) {
        let p = Process()
        p.executableURL = exe
        p.arguments = [db, String(first), String(count), String(delayMs)]
        let out = Pipe()
        p.standardOutput = out
        let collector = LineCollector(out.fileHandleForReading)
        try p.run()
        return (p, collector)
    }

    func testKilledWriterLeavesEveryReportedItemExactlyOnce() throws {
        let exe = try writerURL()
        let dir = try TempDir()
        let db = dir.path("kill.sqlite")
        // Enough items that the writer is still running when the kills come (a commit takes ~0.1 ms here).
        let total = 4000
        var reported = Set<Int>()
        var rng = SystemRandomNumberGenerator()
        var kills = 0
        for round in 0..<8 {
            let (p, lines) = try startWriter(exe, db: db, first: 0, count: total, delayMs: 0)
            let waitMs = Int.random(in: 30...250, using: &rng)
            usleep(useconds_t(waitMs * 1000))
            if p.isRunning {
                kill(p.processIdentifier, SIGKILL)
                kills += 1
            }
            p.waitUntilExit()
            let done = lines.finish()
            reported.formUnion(done)
            // Each round must be able to open the file left by a kill and keep going.
            let store = try ResultsStore(path: db)
            XCTAssertEqual(try store.integrityCheck(), ["ok"], "round \(round)")
            if reported.count == total { break }
        }
        print("kill test: \(kills) kills, \(reported.count) of \(total) items reported before the final run")
        XCTAssertGreaterThan(kills, 0, "the writer finished before any kill; the test proved nothing")
        // A final unkilled run completes the set.
        let (p, lines) = try startWriter(exe, db: db, first: 0, count: total, delayMs: 0)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        reported.formUnion(lines.finish())

        let store = try ResultsStore(path: db)
        XCTAssertEqual(try store.integrityCheck(), ["ok"])
        let run = try XCTUnwrap(store.run(key: Self.writerConfig.key))
        let preds = try store.predictions(run.id)
        XCTAssertEqual(preds.count, total, "every item exactly once (UNIQUE(run, question_id) forbids more)")
        XCTAssertEqual(Set(preds.map(\.itemIndex)), Set(0..<total))
        XCTAssertTrue(reported.isSubset(of: Set(preds.map(\.itemIndex))))
        for p in preds {
            let expected: QuestionID = p.itemIndex % 2 == 0 ? .int(Int64(p.itemIndex)) : .string("q\(p.itemIndex)")
            XCTAssertEqual(p.questionID, expected)
            XCTAssertEqual(p.parsedAnswer, "answer \(p.itemIndex)")
        }
        XCTAssertEqual(run.status, .complete)
    }

    func testReportedItemsSurviveAKillBeforeTheRunFinishes() throws {
        let exe = try writerURL()
        let dir = try TempDir()
        let db = dir.path("partial.sqlite")
        let (p, lines) = try startWriter(exe, db: db, first: 0, count: 100_000, delayMs: 1)
        // Wait until some items are in, then kill.
        let deadline = Date().addingTimeInterval(30)
        while lines.count < 20 && Date() < deadline { usleep(10_000) }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let reported = lines.finish()
        XCTAssertGreaterThanOrEqual(reported.count, 20)
        let store = try ResultsStore(path: db)
        XCTAssertEqual(try store.integrityCheck(), ["ok"])
        let run = try XCTUnwrap(store.run(key: Self.writerConfig.key))
        XCTAssertEqual(run.status, .running, "a killed run is left running, not complete")
        let stored = Set(try store.predictions(run.id).map(\.itemIndex))
        XCTAssertTrue(reported.isSubset(of: stored))
        // At most the one item being written when the kill came may be present unreported.
        XCTAssertLessThanOrEqual(stored.count - reported.count, 1)
    }

    /// Two processes creating the same new file at once both succeed (the loser of the schema race
    /// retries; before, it could fail on the migrations table the winner was still creating).
    func testTwoProcessesCreateOneNewDatabaseAtOnce() throws {
        let exe = try writerURL()
        let dir = try TempDir()
        for round in 0..<15 {
            let db = dir.path("new-\(round).sqlite")
            let (a, la) = try startWriter(exe, db: db, first: 0, count: 3, delayMs: 0)
            let (b, lb) = try startWriter(exe, db: db, first: 3, count: 3, delayMs: 0)
            a.waitUntilExit()
            b.waitUntilExit()
            XCTAssertEqual(a.terminationStatus, 0, "round \(round)")
            XCTAssertEqual(b.terminationStatus, 0, "round \(round)")
            XCTAssertEqual(la.finish().count + lb.finish().count, 6, "round \(round)")
        }
    }

    func testTwoProcessesWriteOneDatabaseConcurrently() throws {
        let exe = try writerURL()
        let dir = try TempDir()
        let db = dir.path("shared.sqlite")
        let (a, la) = try startWriter(exe, db: db, first: 0, count: 150, delayMs: 0)
        let (b, lb) = try startWriter(exe, db: db, first: 150, count: 150, delayMs: 0)
        a.waitUntilExit()
        b.waitUntilExit()
        XCTAssertEqual(a.terminationStatus, 0)
        XCTAssertEqual(b.terminationStatus, 0)
        XCTAssertEqual(la.finish().count + lb.finish().count, 300)
        let store = try ResultsStore(path: db)
        let run = try XCTUnwrap(store.run(key: Self.writerConfig.key))
        XCTAssertEqual(try store.predictions(run.id).map(\.itemIndex), Array(0..<300))
    }
}

/// Collects "done N" lines from a child's stdout on a background thread.
final class LineCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Int] = []
    private let finished = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            var buffer = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                buffer.append(chunk)
                while let nl = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: buffer[buffer.startIndex..<nl], as: UTF8.self)
                    buffer.removeSubrange(buffer.startIndex...nl)
                    if line.hasPrefix("done "), let n = Int(line.dropFirst(5)) { append(n) }
                }
            }
            finished.signal()
        }
    }

    private func append(_ n: Int) { lock.lock(); items.append(n); lock.unlock() }

    var count: Int { lock.lock(); defer { lock.unlock() }; return items.count }

    /// Waits for end of output and returns the indices reported, checking none was reported twice.
    func finish() -> Set<Int> {
        finished.wait()
        lock.lock(); defer { lock.unlock() }
        let set = Set(items)
        XCTAssertEqual(set.count, items.count, "an item was reported twice")
        return set
    }
}
