import Foundation
import Model
import Records
import Tensor
import XCTest

/// The on-disk feature cache returns exactly what was stored, or nothing: never another image's features,
/// never a partial or damaged file's.
final class DiskFeatureCacheTests: XCTestCase {
    private var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory
            .appendingPathComponent("DiskFeatureCacheTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: root)
    }

    // MARK: - Helpers

    private func key(_ image: String, mode: String = "pad") -> FeatureKey {
        FeatureKey(imageDigest: SHA256Digest.hex(image), towerFingerprint: "clip-test/select-2", mode: mode)
    }

    /// Deterministic outputs whose values include the bit patterns a lossy round trip would change.
    private func outputs(views: Int, n: Int = 7, dv: Int = 5, heads: Int = 3, seed: UInt32 = 1) -> [VisionOutput] {
        var state = seed &* 2_654_435_761 | 1
        func next() -> Float {
            state ^= state << 13; state ^= state >> 17; state ^= state << 5
            return Float(bitPattern: state)  // any pattern: NaN payloads, subnormals, infinities, -0
        }
        return (0..<views).map { v in
            var features = (0..<(n * dv)).map { _ in next() }
            features[0] = -0.0
            features[1] = .leastNonzeroMagnitude
            features[2] = Float(bitPattern: 0x7FC0_1234)  // NaN with a payload
            return VisionOutput(features: Tensor(shape: [n, dv], data: features),
                                clsAttention: Tensor(shape: [heads, n], data: (0..<(heads * n)).map { _ in next() }),
                                milliseconds: 12.5 + Double(v) / 3)
        }
    }

    private func assertBitExact(_ got: [VisionOutput]?, _ want: [VisionOutput],
                                file: StaticString = #filePath, line: UInt = #line) {
        guard let got else { return XCTFail("expected a hit", file: file, line: line) }
        XCTAssertEqual(got.count, want.count, file: file, line: line)
        for (g, w) in zip(got, want) {
            XCTAssertEqual(g.features.shape, w.features.shape, file: file, line: line)
            XCTAssertEqual(g.clsAttention.shape, w.clsAttention.shape, file: file, line: line)
            XCTAssertEqual(g.features.data.map(\.bitPattern), w.features.data.map(\.bitPattern), file: file, line: line)
            XCTAssertEqual(g.clsAttention.data.map(\.bitPattern), w.clsAttention.data.map(\.bitPattern),
                           file: file, line: line)
            XCTAssertEqual(g.milliseconds.bitPattern, w.milliseconds.bitPattern, file: file, line: line)
        }
    }

    private func cacheFiles(_ dir: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
    }

    private func path(_ cache: DiskFeatureCache, _ key: FeatureKey) -> URL {
        cache.directory.appendingPathComponent(key.fileName)
    }

    /// Stores one entry, damages its file with `damage`, and checks the load is a counted, cleaned-up miss.
    private func assertDamagedFileIsRejected(_ damage: (inout [UInt8]) -> Void,
                                             file: StaticString = #filePath, line: UInt = #line) throws {
        let cache = try DiskFeatureCache(directory: root.appendingPathComponent(UUID().uuidString), maxBytes: 1 << 30)
        let k = key("damaged")
        try cache.store(k, outputs(views: 2))
        let url = path(cache, k)
        var bytes = [UInt8](try Data(contentsOf: url))
        damage(&bytes)
        try Data(bytes).write(to: url)
        XCTAssertNil(cache.load(k), file: file, line: line)
        XCTAssertEqual(cache.stats.corrupt, 1, file: file, line: line)
        XCTAssertEqual(cache.stats.misses, 1, file: file, line: line)
        XCTAssertEqual(cache.stats.hits, 0, file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path), "damaged file deleted", file: file, line: line)
        // And the recomputed outputs take its place.
        let fresh = outputs(views: 2)
        try cache.store(k, fresh)
        assertBitExact(cache.load(k), fresh, file: file, line: line)
    }

    /// A file written by hand in the cache's format, with a correct checksum, so that only the field under
    /// test is wrong.
    private func craftedFile(key k: FeatureKey, views: UInt32, dims: [(UInt32, UInt32, UInt32)],
                             payloadFloats: Int) -> [UInt8] {
        var bytes = Array("VPFEAT1".utf8) + [1]
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
        for field in [k.imageDigest, k.towerFingerprint, k.mode] {
            u32(UInt32(field.utf8.count)); bytes += Array(field.utf8)
        }
        u32(views)
        for (n, dv, h) in dims {
            u32(n); u32(dv); u32(h)
            withUnsafeBytes(of: (1.0 as Double).bitPattern.littleEndian) { bytes += $0 }
        }
        bytes += [UInt8](repeating: 0, count: 4 * payloadFloats)
        return bytes + SHA256Digest.hash(bytes)
    }

    // MARK: - Round trip

    func testRoundTripOneViewIsBitExact() throws {
        let cache = try DiskFeatureCache(directory: root, maxBytes: 1 << 30)
        let k = key("one"), stored = outputs(views: 1)
        XCTAssertNil(cache.load(k))
        try cache.store(k, stored)
        assertBitExact(cache.load(k), stored)
        XCTAssertEqual(cache.stats, {
            var s = DiskFeatureCacheStats(); s.hits = 1; s.misses = 1; s.stored = 1; return s
        }())
        XCTAssertEqual(try cacheFiles(root), [k.fileName], "no temporary file left behind")
    }

    func testRoundTripFiveViewsIsBitExact() throws {
        let cache = try DiskFeatureCache(directory: root, maxBytes: 1 << 30)
        let k = key("five", mode: "anyres-fixed672")
        // Real LLaVA-1.6 views share one shape; differing ones check the per-view header is honoured.
        let stored = (0..<5).map { v in outputs(views: 1, n: 4 + v, dv: 3 + 2 * v, heads: 1 + v, seed: UInt32(v + 9))[0] }
        try cache.store(k, stored)
        assertBitExact(cache.load(k), stored)
        // A second cache object (another shard) on the same directory reads it too.
        assertBitExact(try DiskFeatureCache(directory: root, maxBytes: 1 << 30).load(k), stored)
    }

    func testRealSizedViewRoundTrips() throws {
        let cache = try DiskFeatureCache(directory: root, maxBytes: 1 << 30)
        let k = key("real")
        let stored = outputs(views: 1, n: 576, dv: 1024, heads: 16)  // > one I/O chunk of float data
        try cache.store(k, stored)
        assertBitExact(cache.load(k), stored)
    }

    func testStoreReplacesAnEarlierEntry() throws {
        let cache = try DiskFeatureCache(directory: root, maxBytes: 1 << 30)
        let k = key("again")
        try cache.store(k, outputs(views: 1, seed: 1))
        let second = outputs(views: 1, seed: 2)
        try cache.store(k, second)
        assertBitExact(cache.load(k), second)
    }

    // MARK: - Keys

    func testFileNameSeparatesTheFields() {
        let a = FeatureKey(imageDigest: "ab", towerFingerprint: "c", mode: "pad")
        let b = FeatureKey(imageDigest: "a", towerFingerprint: "bc", mode: "pad")
        let c = FeatureKey(imageDigest: "ab", towerFingerprint: "c", mode: "crop")
        XCTAssertEqual(Set([a.fileName, b.fileName, c.fileName]).count, 3)
        XCTAssertEqual(a.fileName, FeatureKey(imageDigest: "ab", towerFingerprint: "c", mode: "pad").fileName)
        XCTAssertTrue(a.fileName.hasSuffix(".vfeat"))
        XCTAssertEqual(a.fileName.count, 64 + ".vfeat".count)
    }

    func testEveryKeyFieldSelectsItsOwnEntry() throws {
        let cache = try DiskFeatureCache(directory: root, maxBytes: 1 << 30)
        let k = key("img")
        try cache.store(k, outputs(views: 1))
        XCTAssertNil(cache.load(key("other-img")))
        XCTAssertNil(cache.load(key("img", mode: "crop")))
        XCTAssertNil(cache.load(FeatureKey(imageDigest: k.imageDigest, towerFingerprint: "other-tower", mode: k.mode)))
        XCTAssertEqual(cache.stats.misses, 3)
        XCTAssertEqual(cache.stats.corrupt, 0)
    }

    func testFileUnderAnotherKeysNameIsAMiss() throws {
        let cache = try DiskFeatureCache(directory: root, maxBytes: 1 << 30)
        let a = key("a"), b = key("b")
        let stored = outputs(views: 1)
        try cache.store(a, stored)
        // A renamed file (or, in principle, a name-hash collision): b's name, a's contents.
        try FileManager.default.copyItem(at: path(cache, a), to: path(cache, b))
        XCTAssertNil(cache.load(b), "never another image's features")
        XCTAssertEqual(cache.stats.corrupt, 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path(cache, b).path))
        assertBitExact(cache.load(a), stored)
    }

    func testDigestOfFileStreamsTheWholeFile() throws {
        let small = root.appendingPathComponent("abc.bin")
        try Data("abc".utf8).write(to: small)
        XCTAssertEqual(try FeatureKey.digest(ofFileAt: small),
                       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let empty = root.appendingPathComponent("empty.bin")
        try Data().write(to: empty)
        XCTAssertEqual(try FeatureKey.digest(ofFileAt: empty),
                       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        // Several read chunks, the last one partial.
        let large = root.appendingPathComponent("large.bin")
        let bytes = (0..<(3 << 20) + 12_345).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ ($0 >> 9)) }
        try Data(bytes).write(to: large)
        XCTAssertEqual(try FeatureKey.digest(ofFileAt: large), SHA256Digest.hex(bytes: SHA256Digest.hash(bytes)))
        XCTAssertThrowsError(try FeatureKey.digest(ofFileAt: root.appendingPathComponent("missing.bin")))
    }

    // MARK: - Damaged files

    func testTruncatedFileIsCorrupt() throws {
        try assertDamagedFileIsRejected { $0.removeLast(1) }
        try assertDamagedFileIsRejected { $0.removeLast($0.count / 2) }
        try assertDamagedFileIsRejected { $0 = Array($0.prefix(10)) }
        try assertDamagedFileIsRejected { $0 = [] }
    }

    func testExtendedFileIsCorrupt() throws {
        try assertDamagedFileIsRejected { $0 += [0] }
    }

    func testFlippedDataByteIsCorrupt() throws {
        try assertDamagedFileIsRejected { $0[$0.count - 32 - 5] ^= 0x01 }  // near the end of the data
        try assertDamagedFileIsRejected { $0[$0.count / 2] ^= 0x80 }
    }

    func testFlippedChecksumByteIsCorrupt() throws {
        try assertDamagedFileIsRejected { $0[$0.count - 1] ^= 0x01 }
    }

    func testFlippedHeaderByteIsCorrupt() throws {
        try assertDamagedFileIsRejected { $0[0] ^= 0x20 }   // magic
        try assertDamagedFileIsRejected { $0[7] = 2 }       // version
        try assertDamagedFileIsRejected { $0[8] ^= 0x01 }   // first key field's length
        try assertDamagedFileIsRejected { $0[20] ^= 0x01 }  // inside the image digest
        // The per-view dims and timing sit right after the keys; flip the lowest byte of view 0's N, then of
        // its milliseconds (which changes no size, so only the checksum can catch it).
        let k = key("damaged")
        let dimsAt = 8 + [k.imageDigest, k.towerFingerprint, k.mode].reduce(0) { $0 + 4 + $1.utf8.count } + 4
        try assertDamagedFileIsRejected { $0[dimsAt] ^= 0x01 }
        try assertDamagedFileIsRejected { $0[dimsAt + 12] ^= 0x01 }
    }

    func testAbsurdSizesAreRefusedBeforeReading() throws {
        let cache = try DiskFeatureCache(directory: root, maxBytes: 1 << 30)
        let k = key("absurd")
        // Each file has a valid checksum over what it holds; only the declared sizes are wrong.
        let cases: [(String, [UInt8])] = [
            ("65 views", craftedFile(key: k, views: 65, dims: Array(repeating: (1, 1, 1), count: 65), payloadFloats: 65 * 2)),
            ("4 billion views", craftedFile(key: k, views: .max, dims: [(1, 1, 1)], payloadFloats: 2)),
            ("zero views", craftedFile(key: k, views: 0, dims: [], payloadFloats: 0)),
            ("N over the bound", craftedFile(key: k, views: 1, dims: [(100_001, 1, 1)], payloadFloats: 200_002)),
            ("N of 4 billion", craftedFile(key: k, views: 1, dims: [(.max, 1, 1)], payloadFloats: 2)),
            ("Dv over the bound", craftedFile(key: k, views: 1, dims: [(1, 16_385, 1)], payloadFloats: 16_386)),
            ("H over the bound", craftedFile(key: k, views: 1, dims: [(1, 1, 257)], payloadFloats: 258)),
            ("zero N", craftedFile(key: k, views: 1, dims: [(0, 4, 4)], payloadFloats: 0)),
            ("sizes beyond the file", craftedFile(key: k, views: 1, dims: [(100_000, 16_384, 256)], payloadFloats: 2)),
            ("sizes short of the file", craftedFile(key: k, views: 1, dims: [(1, 1, 1)], payloadFloats: 3)),
        ]
        // Sanity: the crafting itself is right, so the refusals are about sizes.
        try Data(craftedFile(key: k, views: 1, dims: [(2, 3, 1)], payloadFloats: 8)).write(to: path(cache, k))
        XCTAssertEqual(cache.load(k)?.first?.features.shape, [2, 3])
        for (index, (label, bytes)) in cases.enumerated() {
            try Data(bytes).write(to: path(cache, k))
            XCTAssertNil(cache.load(k), label)
            XCTAssertEqual(cache.stats.corrupt, index + 1, label)
            XCTAssertFalse(FileManager.default.fileExists(atPath: path(cache, k).path), label)
        }
        // A key field claiming 4 GB.
        var huge = Array("VPFEAT1".utf8) + [1, 0xFF, 0xFF, 0xFF, 0xFF]
        huge += [UInt8](repeating: 0x41, count: 100)
        try Data(huge).write(to: path(cache, k))
        XCTAssertNil(cache.load(k))
        XCTAssertFalse(FileManager.default.fileExists(atPath: path(cache, k).path))
    }

    func testStoreRefusesOutputsItCouldNotReadBack() throws {
        let cache = try DiskFeatureCache(directory: root, maxBytes: 1 << 30)
        let k = key("bad")
        let good = outputs(views: 1)[0]
        let mismatched = VisionOutput(features: good.features, clsAttention: Tensor(zeros: [3, 8]), milliseconds: 0)
        let flat = VisionOutput(features: Tensor(zeros: [35]), clsAttention: good.clsAttention, milliseconds: 0)
        XCTAssertThrowsError(try cache.store(k, []))
        XCTAssertThrowsError(try cache.store(k, [mismatched]))
        XCTAssertThrowsError(try cache.store(k, [flat]))
        XCTAssertThrowsError(try cache.store(k, Array(repeating: good, count: 65)))
        XCTAssertThrowsError(try cache.store(FeatureKey(imageDigest: String(repeating: "x", count: 5000),
                                                        towerFingerprint: "t", mode: "pad"), [good]))
        XCTAssertEqual(try cacheFiles(root), [], "nothing written, no temporary left")
    }

    // MARK: - Size bound

    func testEvictionKeepsTheMostRecentlyUsed() throws {
        let probe = try DiskFeatureCache(directory: root.appendingPathComponent("probe"), maxBytes: 1 << 30)
        try probe.store(key("probe"), outputs(views: 1))
        let entrySize = try XCTUnwrap(
            FileManager.default.attributesOfItem(atPath: path(probe, key("probe")).path)[.size] as? Int64)

        let dir = root.appendingPathComponent("lru")
        let cache = try DiskFeatureCache(directory: dir, maxBytes: 3 * entrySize)
        let keys = ["a", "b", "c", "d"].map { key($0) }
        for (i, k) in keys.prefix(3).enumerated() {
            try cache.store(k, outputs(views: 1, seed: UInt32(i + 1)))
            // Explicit, well-separated times: the test must not depend on the filesystem's mtime resolution.
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: Double(i - 100))],
                                                  ofItemAtPath: path(cache, k).path)
        }
        // Files that are not entries are neither counted nor deleted, however old.
        let foreign = ["notes.txt", ".\(keys[0].fileName).123.abc.tmp", "old.vfeat.bak"]
        for name in foreign {
            try Data(repeating: 7, count: Int(entrySize)).write(to: dir.appendingPathComponent(name))
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -1000)],
                                                  ofItemAtPath: dir.appendingPathComponent(name).path)
        }
        XCTAssertEqual(cache.stats.evicted, 0, "three entries fit exactly")

        XCTAssertNotNil(cache.load(keys[0]), "a hit makes a the most recent")
        try cache.store(keys[3], outputs(views: 1, seed: 4))
        XCTAssertEqual(cache.stats.evicted, 1)
        XCTAssertNil(cache.load(keys[1]), "b was the least recently used")
        XCTAssertNotNil(cache.load(keys[0]))
        XCTAssertNotNil(cache.load(keys[2]))
        XCTAssertNotNil(cache.load(keys[3]))
        for name in foreign { XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path)) }
    }

    func testEntryLargerThanTheBoundIsNotWritten() throws {
        let cache = try DiskFeatureCache(directory: root, maxBytes: 100)
        try cache.store(key("big"), outputs(views: 1))
        XCTAssertEqual(cache.stats.tooLarge, 1)
        XCTAssertEqual(try cacheFiles(root), [])
        XCTAssertNil(cache.load(key("big")))
    }

    // MARK: - Concurrency

    func testConcurrentWritersOfOneKeyLeaveOneValidFile() throws {
        let k = key("shared")
        let stored = outputs(views: 3, n: 64, dv: 32, heads: 4)
        // Separate cache objects stand in for separate shard processes on one directory.
        let caches = try (0..<4).map { _ in try DiskFeatureCache(directory: root, maxBytes: 1 << 30) }
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            let cache = caches[worker % caches.count]
            for _ in 0..<10 {
                if worker % 2 == 0 {
                    do { try cache.store(k, stored) } catch { failures.add("store: \(error)") }
                } else if let seen = cache.load(k) {
                    // A reader sees a whole file or none: anything it returns is exactly what was stored.
                    if seen.map(\.features.data).map({ $0.map(\.bitPattern) })
                        != stored.map(\.features.data).map({ $0.map(\.bitPattern) }) {
                        failures.add("reader saw different features")
                    }
                }
            }
        }
        XCTAssertEqual(failures.all, [])
        XCTAssertEqual(caches.reduce(0) { $0 + $1.stats.corrupt }, 0, "no reader ever saw a partial file")
        XCTAssertEqual(try cacheFiles(root), [k.fileName], "one file, no temporaries")
        assertBitExact(caches[0].load(k), stored)
    }

    // MARK: - Directory

    func testDirectoryPathThatIsAFileIsRefused() throws {
        let file = root.appendingPathComponent("not-a-dir")
        try Data("x".utf8).write(to: file)
        XCTAssertThrowsError(try DiskFeatureCache(directory: file, maxBytes: 1 << 30)) { error in
            XCTAssertTrue("\(error)".contains("is not a directory"), "\(error)")
            XCTAssertTrue("\(error)".contains(file.path), "\(error)")
        }
        XCTAssertEqual(try String(contentsOf: file, encoding: .utf8), "x", "the file is left alone")
    }

    func testOpeningRemovesOnlyStaleTemporariesOfCrashedWriters() throws {
        // What a writer killed before its rename leaves: a hidden temporary beside the real entries.
        let first = try DiskFeatureCache(directory: root, maxBytes: 1 << 30)
        try first.store(key("kept"), outputs(views: 1))
        let name = key("x").fileName
        let stale = root.appendingPathComponent(".\(name).123.abc.tmp")
        let fresh = root.appendingPathComponent(".\(name).456.def.tmp")
        let foreign = root.appendingPathComponent(".notes.tmp")  // not the cache's: never touched
        for url in [stale, fresh, foreign] { try Data("partial".utf8).write(to: url) }
        let old = Date(timeIntervalSinceNow: -(DiskFeatureCache.staleTemporaryAge + 60))
        for url in [stale, foreign] {
            try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: url.path)
        }

        let cache = try DiskFeatureCache(directory: root, maxBytes: 1 << 30)
        XCTAssertEqual(cache.stats.staleTemporaries, 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale.path), "a crashed writer's file is removed")
        XCTAssertTrue(FileManager.default.fileExists(atPath: fresh.path), "a live writer's file may still be renamed")
        XCTAssertTrue(FileManager.default.fileExists(atPath: foreign.path))
        assertBitExact(cache.load(key("kept")), outputs(views: 1))
    }

    func testMissingDirectoryIsCreated() throws {
        let nested = root.appendingPathComponent("a/b/c")
        let cache = try DiskFeatureCache(directory: nested, maxBytes: 1 << 30)
        var isDirectory: ObjCBool = false
        XCTAssertTrue(FileManager.default.fileExists(atPath: nested.path, isDirectory: &isDirectory))
        XCTAssertTrue(isDirectory.boolValue)
        try cache.store(key("x"), outputs(views: 1))
        XCTAssertNotNil(cache.load(key("x")))
        XCTAssertThrowsError(try DiskFeatureCache(directory: nested, maxBytes: 0))
    }
}

private final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [String] = []
    func add(_ message: String) { lock.lock(); messages.append(message); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return messages }
}
