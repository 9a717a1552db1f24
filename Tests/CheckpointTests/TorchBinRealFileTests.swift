import Foundation
import XCTest
@testable import Checkpoint
import Tensor

/// Parity with files written by real `torch.save` (torch 2.13, see Resources/TorchBin/make_fixtures.py).
final class TorchBinRealFileTests: XCTestCase {
    private func expected() throws -> [String: Any] {
        let data = try Data(contentsOf: try TorchBinFixtures.url("expected.json"))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Compares every recorded tensor of `fileName` (dtype, shape, every value exactly) with what the loader maps.
    private func checkAgainstTorch(_ fileName: String, tensors: [String: StoredTensor]? = nil) throws {
        let record = try XCTUnwrap(try expected()[fileName] as? [String: Any])
        let want = try XCTUnwrap(record["tensors"] as? [String: [String: Any]])
        let wantSkipped = try XCTUnwrap(record["skipped"] as? [String])
        let got: [String: StoredTensor]
        if let tensors {
            got = tensors
        } else {
            let contents = try TorchCheckpoint.loadContents(try TorchBinFixtures.url(fileName))
            got = contents.tensors
            XCTAssertEqual(Set(contents.skipped.keys), Set(wantSkipped), "\(fileName): skipped keys")
            XCTAssertEqual(Set(contents.order), Set(want.keys))
            XCTAssertEqual(contents.order.count, want.count)
        }
        XCTAssertEqual(Set(got.keys), Set(want.keys), "\(fileName): tensor names")
        for (name, spec) in want {
            let t = try XCTUnwrap(got[name], "\(fileName): \(name) missing")
            XCTAssertEqual(t.name, name)
            XCTAssertEqual(t.dtype.rawValue, spec["dtype"] as? String, "\(fileName): \(name) dtype")
            XCTAssertEqual(t.shape, spec["shape"] as? [Int], "\(fileName): \(name) shape")
            let values = try XCTUnwrap(spec["values"] as? [Double]).map(Float.init)
            XCTAssertEqual(t.floats().data, values, "\(fileName): \(name) values")
        }
    }

    func testStateDictMatchesTorch() throws {
        // OrderedDict with _metadata (BUILD), fp16/fp32/bf16, shared storage at offsets, a Parameter, a 0-d tensor.
        try checkAgainstTorch("state.bin")
        let contents = try TorchCheckpoint.loadContents(try TorchBinFixtures.url("state.bin"))
        XCTAssertTrue(contents.skipped["position_ids"]?.contains("LongStorage") ?? false, "\(contents.skipped)")
    }

    func testSharedStorageViewsPointIntoOneMember() throws {
        let tensors = try TorchCheckpoint.load(try TorchBinFixtures.url("state.bin"))
        let a = try XCTUnwrap(tensors["shared.a"]), b = try XCTUnwrap(tensors["shared.b"])
        // shared.a = base[3:7] and shared.b = base[6:12]: element 6 of base is a[3] and b[0].
        XCTAssertEqual(b.offset - a.offset, 3 * 4)
        XCTAssertEqual(a.floats().data[3], b.floats().data[0])
    }

    func testPlainDictShardsMatchTorch() throws {
        try checkAgainstTorch("shard-1.bin")
        try checkAgainstTorch("shard-2.bin")
    }

    func testShardIndexAndShardedLoad() throws {
        let indexURL = try TorchBinFixtures.url("index.json")
        let index = try TorchCheckpoint.loadIndex(indexURL)
        XCTAssertEqual(index.shards, ["shard-1.bin", "shard-2.bin"])
        XCTAssertEqual(index.weightMap["lm_head.weight"], "shard-2.bin")
        let merged = try TorchCheckpoint.loadSharded(index: indexURL)
        XCTAssertEqual(Set(merged.keys), Set(index.weightMap.keys))
        XCTAssertEqual(index.totalSize, merged.values.reduce(0) { $0 + $1.byteCount })
        let all = try expected()
        var union: [String: StoredTensor] = [:]
        for shard in index.shards {
            let names = Set(try XCTUnwrap((all[shard] as? [String: Any])?["tensors"] as? [String: Any]).keys)
            union.merge(merged.filter { names.contains($0.key) }) { a, _ in a }
            try checkAgainstTorch(shard, tensors: merged.filter { names.contains($0.key) })
        }
        XCTAssertEqual(union.count, merged.count)
    }

    func testLegacyFormatIsRefused() throws {
        assertTorchBinError("legacy") { try TorchCheckpoint.load(try TorchBinFixtures.url("legacy.bin")) }
    }

    func testZipDirectoryOfTorchFile() throws {
        let zip = try ZipDirectory(file: try MappedFile(url: try TorchBinFixtures.url("state.bin")))
        XCTAssertNotNil(zip.entry(named: "state/data.pkl"))
        for entry in zip.entries {
            XCTAssertEqual(entry.method, 0)
            XCTAssertNoThrow(try zip.verifyChecksum(entry), entry.name)
            if entry.name.contains("/data/") { XCTAssertEqual(entry.dataOffset % 64, 0, "torch aligns storages") }
        }
    }

    /// Every prefix of a real file must fail with an error, never crash or read out of bounds.
    func testEveryTruncationFailsCleanly() throws {
        let bytes = [UInt8](try Data(contentsOf: try TorchBinFixtures.url("state.bin")))
        let dir = try TorchBinTempDir()
        let url = dir.url.appendingPathComponent("cut.bin")
        let fd = open(url.path, O_CREAT | O_RDWR | O_TRUNC, 0o600)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        XCTAssertEqual(bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }, bytes.count)
        var failures = 0
        for length in stride(from: bytes.count - 1, through: 0, by: -1) {
            XCTAssertEqual(ftruncate(fd, off_t(length)), 0)
            do {
                _ = try TorchCheckpoint.load(url)
                XCTFail("a \(length)-byte prefix of \(bytes.count) loaded")
            } catch is CheckpointError {
                failures += 1
            }
        }
        XCTAssertEqual(failures, bytes.count)
    }

    /// Random byte corruption (seeded) must give a result or a `CheckpointError`, never a crash.
    func testRandomCorruptionNeverCrashes() throws {
        let original = [UInt8](try Data(contentsOf: try TorchBinFixtures.url("state.bin")))
        let dir = try TorchBinTempDir()
        var rng = TorchBinRandom(seed: 0x7043_4B50)
        var loaded = 0, refused = 0
        for round in 0..<300 {
            var bytes = original
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let at = Int(rng.next() % UInt64(bytes.count))
                bytes[at] = UInt8(truncatingIfNeeded: rng.next())
            }
            let url = try dir.write(bytes, "fuzz-\(round).bin")
            do {
                let tensors = try TorchCheckpoint.load(url)
                for t in tensors.values { _ = t.floats() }
                loaded += 1
            } catch is CheckpointError {
                refused += 1
            }
            try FileManager.default.removeItem(at: url)
        }
        XCTAssertEqual(loaded + refused, 300)
        XCTAssertGreaterThan(refused, 0)
    }

    func testPickleChecksumMismatchIsReported() throws {
        var bytes = [UInt8](try Data(contentsOf: try TorchBinFixtures.url("state.bin")))
        let zip = try ZipDirectory(file: try MappedFile(url: try TorchBinFixtures.url("state.bin")))
        let pickle = try XCTUnwrap(zip.entry(named: "state/data.pkl"))
        // Change one character of a key name: still a well-formed pickle, so only the CRC can catch it.
        let keyAt = try XCTUnwrap(findBytes(Array("proj.weight".utf8), in: bytes, from: pickle.dataOffset))
        bytes[keyAt] = UInt8(ascii: "q")
        let dir = try TorchBinTempDir()
        assertTorchBinError("CRC-32") { try TorchCheckpoint.load(try dir.write(bytes)) }
    }

    func testStorageChecksumsAreCheckedOnRequest() throws {
        var bytes = [UInt8](try Data(contentsOf: try TorchBinFixtures.url("state.bin")))
        let zip = try ZipDirectory(file: try MappedFile(url: try TorchBinFixtures.url("state.bin")))
        let storage = try XCTUnwrap(zip.entry(named: "state/data/0"))
        bytes[storage.dataOffset] ^= 0x55
        let dir = try TorchBinTempDir()
        let url = try dir.write(bytes)
        XCTAssertNoThrow(try TorchCheckpoint.load(url), "storage CRCs are not read by default")
        var options = TorchCheckpoint.Options()
        options.verifyStorageChecksums = true
        assertTorchBinError("CRC-32") { try TorchCheckpoint.loadContents(url, options: options) }
    }

    private func findBytes(_ needle: [UInt8], in hay: [UInt8], from start: Int) -> Int? {
        guard needle.count <= hay.count else { return nil }
        for i in start...(hay.count - needle.count) where hay[i..<(i + needle.count)].elementsEqual(needle) { return i }
        return nil
    }
}

/// A small deterministic generator for fuzz tests (TorchBinRandom).
struct TorchBinRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
