import Foundation
import XCTest
import GRDB
@testable import Store
import Records

/// Per-item claims let two processes evaluating one run split its items.
final class ClaimTests: XCTestCase {
    let config = sampleConfig()

    func testAClaimIsExclusiveUntilTheItemIsStored() throws {
        let dir = try TempDir()
        let path = dir.path("claims.sqlite")
        let a = try ResultsStore(path: path), b = try ResultsStore(path: path)
        let run = try a.beginRun(config, metadata: testMetadata, expectedItems: 3)
        let ownerA = ResultsStore.makeClaimOwner(), ownerB = ResultsStore.makeClaimOwner()
        XCTAssertNotEqual(ownerA, ownerB)
        let q0 = ItemKey(.string("q0")), q1 = ItemKey(.string("q1"))

        XCTAssertTrue(try a.claim(run: run, item: q0, owner: ownerA))
        XCTAssertFalse(try b.claim(run: run, item: q0, owner: ownerB), "held by a live owner")
        XCTAssertTrue(try a.claim(run: run, item: q0, owner: ownerA), "the owner may renew")
        XCTAssertTrue(try b.claim(run: run, item: q1, owner: ownerB), "other items are free")

        try a.record(samplePrediction(run: run, config: config, index: 0))
        XCTAssertFalse(try b.claim(run: run, item: q0, owner: ownerB), "answered: nothing left to claim")
        XCTAssertEqual(try a.queue.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM claims") }, 1, "recording released q0")

        try b.recordError(run: run, item: q1, itemIndex: 1, message: "image missing")
        XCTAssertTrue(try a.claim(run: run, item: q1, owner: ownerA), "an item error releases the claim")

        try a.resetRun(run)
        XCTAssertTrue(try b.claim(run: run, item: q1, owner: ownerB), "a restart forgets claims")
    }

    func testACrashedOwnersClaimExpires() throws {
        let dir = try TempDir()
        let store = try ResultsStore(path: dir.path("expire.sqlite"))
        let run = try store.beginRun(config, metadata: testMetadata)
        let item = ItemKey(.int(7))
        // An owner on another host (its process cannot be checked) that never comes back.
        let crashed = "other-host:123:abc"
        XCTAssertTrue(try store.claim(run: run, item: item, owner: crashed, ttl: 0.3))
        XCTAssertFalse(try store.claim(run: run, item: item, owner: "me:1:x"))
        usleep(400_000)
        XCTAssertTrue(try store.claim(run: run, item: item, owner: "me:1:x"), "expired")
    }

    func testAClaimOfAProcessThatExitedOnThisHostIsTakenAtOnce() throws {
        let dir = try TempDir()
        let store = try ResultsStore(path: dir.path("dead.sqlite"))
        let run = try store.beginRun(config, metadata: testMetadata)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/true")
        try p.run()
        p.waitUntilExit()
        let dead = "\(ProcessInfo.processInfo.hostName):\(p.processIdentifier):abc"
        let alive = "\(ProcessInfo.processInfo.hostName):\(getpid()):def"
        XCTAssertTrue(try store.claim(run: run, item: ItemKey(.int(1)), owner: dead))
        XCTAssertTrue(try store.claim(run: run, item: ItemKey(.int(2)), owner: alive))
        XCTAssertTrue(try store.claim(run: run, item: ItemKey(.int(1)), owner: "x:2:y"), "its process is gone")
        XCTAssertFalse(try store.claim(run: run, item: ItemKey(.int(2)), owner: "x:2:y"), "its process is alive")
    }
}
