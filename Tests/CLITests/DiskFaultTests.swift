import Foundation
import Store
import TestSupport
import XCTest

/// A results database on a disk that fills up mid-run, or that is (or becomes) read-only: the
/// eval stops with a clear error, and the database keeps every answer stored before the fault and
/// passes SQLite's integrity check; once space is back, the run resumes to exactly one answer per
/// item. The faults are real: a small tmpfs is mounted for each case (as root, which CI is); a
/// non-root run cannot mount, so it checks read-only with permissions and skips the full disk.
final class DiskFaultTests: XCTestCase {
    var work: URL!
    var mounts: [URL] = []

    override func setUpWithError() throws {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("diskfault-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        for m in mounts.reversed() { _ = try? shell(["umount", m.path]) }
        try? FileManager.default.removeItem(at: work)
    }

    var isRoot: Bool { geteuid() == 0 }

    @discardableResult
    func shell(_ args: [String]) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        return p.terminationStatus
    }

    /// A fresh tmpfs of `kilobytes` at a new folder under `work`.
    func mountTmpfs(kilobytes: Int) throws -> URL {
        let dir = work.appendingPathComponent("mnt\(mounts.count)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let status = try shell(["mount", "-t", "tmpfs", "-o", "size=\(kilobytes)k", "tmpfs", dir.path])
        XCTAssertEqual(status, 0, "mount -t tmpfs failed although running as root")
        guard status == 0 else { throw XCTSkip("cannot mount a tmpfs here") }
        mounts.append(dir)
        return dir
    }

    func evalArgs(db: URL, tokens: Int = 64) throws -> [String] {
        ["eval", "--model", try Fixtures.require("fixtures/llava15-tiny").path, "--dataset", "pope",
         "--tokens", "\(tokens)", "--ratio", "0.5", "--data-root", try Fixtures.require("datasets-samples").path,
         "--db", db.path, "--max-new-tokens", "6", "--out", work.appendingPathComponent("out").path, "--quiet", "--no-score"]
    }

    func storedCount(_ db: URL) -> Int {
        guard let store = try? ResultsStore(path: db.path, readonly: true) else { return 0 }
        return ((try? store.runs()) ?? []).reduce(0) { $0 + ((try? store.predictions($1.id).count) ?? 0) }
    }

    /// Copies the database (and its WAL) somewhere writable and checks it there.
    func checkedCopy(of db: URL, named name: String) throws -> ResultsStore {
        let dst = work.appendingPathComponent(name)
        for suffix in ["", "-wal", "-shm"] {
            let src = URL(fileURLWithPath: db.path + suffix)
            if FileManager.default.fileExists(atPath: src.path) {
                try FileManager.default.copyItem(at: src, to: URL(fileURLWithPath: dst.path + suffix))
            }
        }
        let store = try ResultsStore(path: dst.path)
        XCTAssertEqual(try store.integrityCheck(), ["ok"])
        return store
    }

    func itemCount() throws -> Int {
        let file = try Fixtures.require("datasets-samples").appendingPathComponent("pope/llava_pope_test.jsonl")
        return try String(contentsOf: file, encoding: .utf8).split(separator: "\n").count
    }

    func testDiskFillsUpMidRun() throws {
        guard isRoot else { throw XCTSkip("filling a disk needs a tmpfs mount, which needs root") }
        let disk = try mountTmpfs(kilobytes: 1024)
        let db = disk.appendingPathComponent("run.sqlite")
        let errFile = work.appendingPathComponent("stderr.txt")
        let p = try CLIRunner.start(try evalArgs(db: db), stderrFile: errFile)
        // Once a few answers are stored, take every free byte.
        let deadline = Date().addingTimeInterval(120)
        while p.isRunning && Date() < deadline && storedCount(db) < 3 { usleep(5_000) }
        let filler = disk.appendingPathComponent("filler")
        XCTAssertTrue(FileManager.default.createFile(atPath: filler.path, contents: nil))
        let h = try FileHandle(forWritingTo: filler)
        let chunk = Data(count: 4096)
        while (try? h.write(contentsOf: chunk)) != nil {}
        try? h.close()
        p.waitUntilExit()
        let stderr = (try? String(contentsOf: errFile, encoding: .utf8)) ?? ""
        XCTAssertNotEqual(p.terminationStatus, 0, "eval must fail on a full disk")
        XCTAssertTrue(stderr.contains("database or disk is full"), stderr)
        XCTAssertTrue(stderr.contains(db.path), "the error names the database: \(stderr)")

        let before = try checkedCopy(of: db, named: "after-full.sqlite")
        let kept = try before.runs().reduce(0) { $0 + (try before.predictions($1.id).count) }
        XCTAssertGreaterThanOrEqual(kept, 3, "answers stored before the disk filled up are intact")

        // Space is back: the run resumes and ends with exactly one answer per item.
        try FileManager.default.removeItem(at: filler)
        let resumed = try CLIRunner.run(try evalArgs(db: db))
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let store = try ResultsStore(path: db.path, readonly: true)
        XCTAssertEqual(try store.integrityCheck(), ["ok"])
        let got = try store.runs().flatMap { try store.predictions($0.id) }
        XCTAssertEqual(got.count, try itemCount())
        XCTAssertEqual(Set(got.map(\.key)).count, got.count, "no duplicates")
    }

    func testReadOnlyDisk() throws {
        let disk = isRoot ? try mountTmpfs(kilobytes: 2048) : work.appendingPathComponent("ro")
        try FileManager.default.createDirectory(at: disk, withIntermediateDirectories: true)
        let db = disk.appendingPathComponent("run.sqlite")
        // Half a run, then the disk turns read-only under the database.
        let p = try CLIRunner.start(try evalArgs(db: db))
        let deadline = Date().addingTimeInterval(120)
        while p.isRunning && Date() < deadline && storedCount(db) < 3 { usleep(5_000) }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        if isRoot {
            XCTAssertEqual(try shell(["mount", "-o", "remount,ro", disk.path]), 0)
        } else {
            try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: disk.path)
            try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: db.path)
        }
        defer { if !isRoot { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: disk.path) } }

        for (what, target) in [("resume", db), ("new database", disk.appendingPathComponent("new.sqlite"))] {
            let r = try CLIRunner.run(try evalArgs(db: target, tokens: 32))
            XCTAssertNotEqual(r.status, 0, what)
            XCTAssertTrue(r.stderr.contains(target.path), "\(what): the error names the database: \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(isRoot ? "read-only file system" : "not writable"), "\(what): \(r.stderr)")
        }
        let copy = try checkedCopy(of: db, named: "after-ro.sqlite")
        XCTAssertGreaterThanOrEqual(try copy.runs().reduce(0) { $0 + (try copy.predictions($1.id).count) }, 3)
    }
}
