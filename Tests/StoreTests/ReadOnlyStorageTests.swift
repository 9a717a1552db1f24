import Foundation
import XCTest
@testable import Store
import Records

/// A results database on read-only storage (an archive mount, a read-only snapshot) can be read.
/// The storage is really read-only: a tmpfs remounted `ro` (tests run as root, and root ignores
/// permission bits, but not a read-only mount).
final class ReadOnlyStorageTests: XCTestCase {
    var mounts: [String] = []

    override func tearDown() {
        for m in mounts.reversed() { _ = run(["umount", m]) }
    }

    @discardableResult
    func run(_ args: [String]) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return -1 }
        p.waitUntilExit()
        return p.terminationStatus
    }

    func mountTmpfs(in dir: TempDir) throws -> String {
        guard geteuid() == 0 else { throw XCTSkip("mounting a tmpfs needs root") }
        let mnt = dir.path("mnt")
        try FileManager.default.createDirectory(atPath: mnt, withIntermediateDirectories: true)
        guard run(["mount", "-t", "tmpfs", "-o", "size=4096k", "tmpfs", mnt]) == 0 else { throw XCTSkip("cannot mount a tmpfs here") }
        mounts.append(mnt)
        return mnt
    }

    func remountReadOnly(_ mnt: String) throws {
        XCTAssertEqual(run(["mount", "-o", "remount,ro", mnt]), 0)
        XCTAssertEqual(access(mnt, W_OK), -1, "the mount is read-only")
    }

    func fill(_ path: String, items: Int) throws -> ResultsStore {
        let store = try ResultsStore(path: path)
        let config = sampleConfig()
        let run = try store.beginRun(config, metadata: testMetadata, expectedItems: items)
        for i in 0..<items { try store.record(samplePrediction(run: run, config: config, index: i)) }
        try store.finishRun(run)
        return store
    }

    func files(_ dir: String) throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: dir).sorted() }

    func testACleanlyClosedDatabaseOnReadOnlyStorageIsReadAndMerged() throws {
        let dir = try TempDir()
        let mnt = try mountTmpfs(in: dir)
        let path = mnt + "/runs.sqlite"
        _ = try fill(path, items: 4)
        XCTAssertEqual(try files(mnt), ["runs.sqlite"], "closed cleanly: no -wal/-shm left")
        try remountReadOnly(mnt)

        XCTAssertEqual(ResultsStore.readOnlyOpening(path: path), .immutable)
        let store = try ResultsStore(path: path, readonly: true)
        let run = try XCTUnwrap(store.run(key: sampleConfig().key))
        XCTAssertEqual(try store.predictions(run.id).map(\.itemIndex), [0, 1, 2, 3])
        XCTAssertTrue(try store.verify().isClean)
        // As a merge source.
        let target = try ResultsStore(path: dir.path("merged.sqlite"))
        XCTAssertEqual(try target.merge(from: [path]).predictionsAdded, 4)
        XCTAssertEqual(try files(mnt), ["runs.sqlite"])
        // Writing is still refused, naming the cause.
        XCTAssertThrowsError(try ResultsStore(path: path)) { XCTAssertTrue("\($0)".contains("read-only file system"), "\($0)") }
    }

    /// A writer killed before the storage turned read-only leaves -wal and -shm behind; its last
    /// commits are only in the -wal, so an immutable open (which ignores the -wal) would lose them.
    func testADatabaseLeftByAKilledWriterKeepsItsWALCommitsOrIsRefused() throws {
        let dir = try TempDir()
        let mnt = try mountTmpfs(in: dir)
        let live = mnt + "/live.sqlite"
        do {
            let writer = try fill(live, items: 5)
            // Copy the files as a SIGKILL leaves them: the WAL still holds the commits.
            for name in ["withshm", "noshm"] {
                try FileManager.default.createDirectory(atPath: "\(mnt)/\(name)", withIntermediateDirectories: true)
                for suffix in name == "withshm" ? ["", "-wal", "-shm"] : ["", "-wal"] {
                    try FileManager.default.copyItem(atPath: live + suffix, toPath: "\(mnt)/\(name)/runs.sqlite\(suffix)")
                }
            }
            XCTAssertGreaterThan(try XCTUnwrap(FileManager.default.attributesOfItem(atPath: live + "-wal")[.size] as? Int), 0)
            XCTAssertEqual(try writer.runs().count, 1)
        }
        try remountReadOnly(mnt)

        let withSHM = "\(mnt)/withshm/runs.sqlite"
        XCTAssertEqual(ResultsStore.readOnlyOpening(path: withSHM), .normal)
        let store = try ResultsStore(path: withSHM, readonly: true)
        let run = try XCTUnwrap(store.run(key: sampleConfig().key))
        XCTAssertEqual(try store.predictions(run.id).count, 5, "the commits in the -wal are read")

        let noSHM = "\(mnt)/noshm/runs.sqlite"
        guard case .refuse = ResultsStore.readOnlyOpening(path: noSHM) else { return XCTFail("must refuse") }
        XCTAssertThrowsError(try ResultsStore(path: noSHM, readonly: true)) { error in
            XCTAssertTrue("\(error)".contains("-wal holds commits not yet in the database file"), "\(error)")
        }
    }

    func testTheOpeningDecision() throws {
        let dir = try TempDir()
        let path = dir.path("d.sqlite")
        _ = try fill(path, items: 1)
        XCTAssertEqual(ResultsStore.readOnlyOpening(path: path), .normal, "writable folder")
        XCTAssertEqual(ResultsStore.readOnlyOpening(path: path, folderWritable: true), .normal)
        XCTAssertEqual(ResultsStore.readOnlyOpening(path: path, folderWritable: false), .immutable)
        FileManager.default.createFile(atPath: path + "-wal", contents: Data())
        XCTAssertEqual(ResultsStore.readOnlyOpening(path: path, folderWritable: false), .immutable, "an empty -wal holds nothing")
        FileManager.default.createFile(atPath: path + "-wal", contents: Data([1, 2, 3]))
        guard case .refuse = ResultsStore.readOnlyOpening(path: path, folderWritable: false) else { return XCTFail("non-empty -wal") }
        FileManager.default.createFile(atPath: path + "-shm", contents: Data())
        XCTAssertEqual(ResultsStore.readOnlyOpening(path: path, folderWritable: false), .normal, "-shm and -wal present")
    }

    /// The immutable opening itself, without a mount: a copy in a chmod 0555 folder, no -wal/-shm.
    func testTheImmutableOpeningReadsWithoutCreatingFiles() throws {
        let dir = try TempDir()
        let sub = dir.path("folder with ?odd# name%")
        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
        let path = sub + "/r.sqlite"
        _ = try fill(path, items: 3)
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: sub)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: sub) }
        XCTAssertTrue(ResultsStore.immutableURI(path).hasSuffix("?immutable=1"))
        let store = try ResultsStore(path: path, readonly: true, synchronous: .full, opening: .immutable)
        let run = try XCTUnwrap(store.run(key: sampleConfig().key))
        XCTAssertEqual(try store.predictions(run.id).count, 3)
        XCTAssertEqual(try files(sub), ["r.sqlite"])
    }

    func testReadingAWritableDatabaseLeavesNoFilesBehind() throws {
        let dir = try TempDir()
        let path = dir.path("r.sqlite")
        _ = try fill(path, items: 2)
        do {
            let store = try ResultsStore(path: path, readonly: true)
            XCTAssertEqual(try store.runs().count, 1)
        }
        XCTAssertEqual(try files(dir.url.path), ["r.sqlite"])
    }
}
