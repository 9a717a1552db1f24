import Foundation
import XCTest
@testable import Checkpoint
import Tensor

/// ZIP container handling on archives built byte by byte: ZIP64 forms and damaged directories.
final class TorchBinArchiveTests: XCTestCase {
    private let weights: [Float] = [0.5, -1.25, 2, 3.5, -0.125, 8]
    private let bias: [Float] = [1.5, -2.75, 1e-3]

    private func specs() -> [TorchBinBuilder.TensorSpec] {
        [
            .init(name: "layer.weight", key: "0", numel: 6, size: [2, 3]),
            .init(name: "layer.bias", storage: "FloatStorage", key: "1", numel: 3, size: [3]),
            .init(name: "layer.tail", key: "0", numel: 6, offset: 4, size: [1, 2]),
        ]
    }

    private func storages() -> [(String, [UInt8])] {
        [("0", TorchBinBuilder.halfBytes(weights)), ("1", TorchBinBuilder.floatBytes(bias))]
    }

    private func load(_ bytes: [UInt8]) throws -> [String: StoredTensor] {
        let dir = try TorchBinTempDir()
        return try TorchCheckpoint.load(try dir.write(bytes))
    }

    private func checkValues(_ tensors: [String: StoredTensor], file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(Set(tensors.keys), ["layer.weight", "layer.bias", "layer.tail"], file: file, line: line)
        XCTAssertEqual(tensors["layer.weight"]?.floats(), Tensor(shape: [2, 3], data: weights), file: file, line: line)
        XCTAssertEqual(tensors["layer.bias"]?.floats(), Tensor(shape: [3], data: bias), file: file, line: line)
        XCTAssertEqual(tensors["layer.tail"]?.floats(), Tensor(shape: [1, 2], data: [-0.125, 8]), file: file, line: line)
    }

    func testEveryZip64FormLoadsTheSameTensors() throws {
        for mode in [TorchBinBuilder.Zip64Mode.none, .endRecords, .full] {
            let bytes = TorchBinBuilder.archive(pickle: TorchBinBuilder.statePickle(specs()), storages: storages(), zip64: mode)
            try checkValues(try load(bytes))
        }
    }

    func testZip64ExtraFieldsAreDecoded() throws {
        let bytes = TorchBinBuilder.archive(pickle: TorchBinBuilder.statePickle(specs()), storages: storages(), zip64: .full)
        let dir = try TorchBinTempDir()
        let zip = try ZipDirectory(file: try MappedFile(url: try dir.write(bytes)))
        let entry = try XCTUnwrap(zip.entry(named: "archive/data/1"))
        XCTAssertEqual(entry.compressedSize, 12)
        XCTAssertEqual(entry.uncompressedSize, 12)
        XCTAssertEqual(entry.dataOffset % 64, 0)
        XCTAssertEqual(Array(try zip.storedBytes(entry)), TorchBinBuilder.floatBytes(bias))
    }

    /// A storage beyond 4 GiB, behind a 4.5 GiB member, as in a real 7B shard: only ZIP64 extra fields can
    /// locate it. The padding is a hole in a sparse file, so this costs no disk space or time.
    func testStorageBeyondFourGigabytes() throws {
        let members = [
            TorchBinBuilder.Member(name: "archive/data.pkl", data: TorchBinBuilder.statePickle(specs())),
            TorchBinBuilder.Member(name: "archive/data/pad", data: [], zeroFill: (9 << 29) + 3),
            TorchBinBuilder.Member(name: "archive/data/0", data: storages()[0].1),
            TorchBinBuilder.Member(name: "archive/data/1", data: storages()[1].1),
        ]
        let dir = try TorchBinTempDir()
        let url = try dir.writeSparse(TorchBinBuilder.zipParts(members, zip64: .full))
        let zip = try ZipDirectory(file: try MappedFile(url: url))
        XCTAssertEqual(zip.entry(named: "archive/data/pad")?.compressedSize, (9 << 29) + 3)
        XCTAssertGreaterThan(try XCTUnwrap(zip.entry(named: "archive/data/1")).dataOffset, 1 << 32)
        try checkValues(try TorchCheckpoint.load(url))
    }

    func testArchiveCommentWithDecoySignatureIsSkipped() throws {
        var bytes = TorchBinBuilder.archive(pickle: TorchBinBuilder.statePickle(specs()), storages: storages())
        // A comment that itself looks like an end record (with a comment length that does not reach the end).
        let comment: [UInt8] = [0x50, 0x4B, 0x05, 0x06] + [UInt8](repeating: 0xEE, count: 26)
        bytes[bytes.count - 2] = UInt8(comment.count)
        bytes += comment
        try checkValues(try load(bytes))
    }

    func testDirectoryLimitsAreApplied() throws {
        let bytes = TorchBinBuilder.archive(pickle: TorchBinBuilder.statePickle(specs()), storages: storages())
        let dir = try TorchBinTempDir()
        let file = try MappedFile(url: try dir.write(bytes))
        var limits = ZipDirectory.Limits()
        limits.maxEntries = 3
        assertTorchBinError("limit 3") { try ZipDirectory(file: file, limits: limits) }
        limits = ZipDirectory.Limits()
        limits.maxNameLength = 10
        assertTorchBinError("16-byte name (limit 10)") { try ZipDirectory(file: file, limits: limits) }
    }

    func testEntryOffsetBeyondFileIsRefused() throws {
        var tamper = TorchBinBuilder.Tamper()
        tamper.localOffsetOverride["archive/data/0"] = 1 << 20
        for mode in [TorchBinBuilder.Zip64Mode.none, .full] {
            let bytes = TorchBinBuilder.archive(pickle: TorchBinBuilder.statePickle(specs()), storages: storages(),
                                                zip64: mode, tamper: tamper)
            assertTorchBinError("archive/data/0") { try load(bytes) }
        }
        // A 64-bit offset far beyond any file, as only a ZIP64 extra field can express.
        tamper.localOffsetOverride["archive/data/0"] = 1 << 62
        let bytes = TorchBinBuilder.archive(pickle: TorchBinBuilder.statePickle(specs()), storages: storages(),
                                            zip64: .full, tamper: tamper)
        assertTorchBinError("beyond") { try load(bytes) }
    }

    func testLocalHeaderMustMatchCentralName() throws {
        var tamper = TorchBinBuilder.Tamper()
        let good = TorchBinBuilder.archive(pickle: TorchBinBuilder.statePickle(specs()), storages: storages())
        let dir = try TorchBinTempDir()
        let zip = try ZipDirectory(file: try MappedFile(url: try dir.write(good, "good.bin")))
        // Point data/0's central record at data/1's local header.
        tamper.localOffsetOverride["archive/data/0"] = UInt64(try XCTUnwrap(zip.entry(named: "archive/data/1")).localHeaderOffset)
        let bytes = TorchBinBuilder.archive(pickle: TorchBinBuilder.statePickle(specs()), storages: storages(), tamper: tamper)
        assertTorchBinError("does not match") { try load(bytes) }
    }

    func testDeclaredEntryCountBeyondDirectoryIsRefused() throws {
        var tamper = TorchBinBuilder.Tamper()
        tamper.declaredEntryCount = 5_000
        let bytes = TorchBinBuilder.archive(pickle: TorchBinBuilder.statePickle(specs()), storages: storages(), tamper: tamper)
        assertTorchBinError("entries") { try load(bytes) }
        tamper.declaredEntryCount = 7
        let short = TorchBinBuilder.archive(pickle: TorchBinBuilder.statePickle(specs()), storages: storages(), tamper: tamper)
        assertTorchBinError("missing or damaged") { try load(short) }
    }

    func testDuplicateMembersAreRefused() throws {
        let members = [
            TorchBinBuilder.Member(name: "archive/data.pkl", data: TorchBinBuilder.statePickle([])),
            TorchBinBuilder.Member(name: "archive/data.pkl", data: TorchBinBuilder.statePickle([])),
        ]
        assertTorchBinError("duplicate") { try load(TorchBinBuilder.zip(members)) }
    }

    func testCompressedPickleIsRefusedClearly() throws {
        let bytes = TorchBinBuilder.archive(pickle: TorchBinBuilder.statePickle(specs()), storages: storages(), pickleMethod: 8)
        assertTorchBinError("compressed") { try load(bytes) }
    }

    func testMissingDataPklIsRefused() throws {
        let bytes = TorchBinBuilder.zip([TorchBinBuilder.Member(name: "archive/version", data: [0x33])])
        assertTorchBinError("data.pkl") { try load(bytes) }
        assertTorchBinError("end-of-central-directory") { try load(Array(repeating: 0, count: 100)) }
        assertTorchBinError("too small") { try load([]) }
    }

    func testBigEndianArchiveIsRefused() throws {
        let members = [
            TorchBinBuilder.Member(name: "archive/data.pkl", data: TorchBinBuilder.statePickle([])),
            TorchBinBuilder.Member(name: "archive/byteorder", data: Array("big".utf8)),
        ]
        assertTorchBinError("little-endian") { try load(TorchBinBuilder.zip(members)) }
    }

    func testStorageSmallerThanDeclaredIsRefused() throws {
        var s = specs()
        s[1].numel = 4  // FloatStorage of 4 elements, but the member holds 12 bytes
        s[1].size = [4]
        let bytes = TorchBinBuilder.archive(pickle: TorchBinBuilder.statePickle(s), storages: storages())
        assertTorchBinError("holds only 12 bytes") { try load(bytes) }
    }

    func testTensorPastItsStorageIsRefused() throws {
        var s = specs()
        s[2].offset = 5  // two elements from offset 5 of a 6-element storage
        assertTorchBinError("runs past storage 0") {
            try load(TorchBinBuilder.archive(pickle: TorchBinBuilder.statePickle(s), storages: storages()))
        }
        s[2].offset = -1
        assertTorchBinError("runs past storage 0") {
            try load(TorchBinBuilder.archive(pickle: TorchBinBuilder.statePickle(s), storages: storages()))
        }
    }

    func testNonContiguousStrideIsRefused() throws {
        var s = specs()
        s[0].stride = [1, 2]  // a transposed view
        assertTorchBinError("not contiguous") {
            try load(TorchBinBuilder.archive(pickle: TorchBinBuilder.statePickle(s), storages: storages()))
        }
        s[0].stride = [3, 1, 1]
        assertTorchBinError("differ in rank") {
            try load(TorchBinBuilder.archive(pickle: TorchBinBuilder.statePickle(s), storages: storages()))
        }
    }

    func testPathLikeStorageKeysAreRefused() throws {
        for key in ["../0", "/etc/passwd", "0/../1", ""] {
            var s = specs()
            s[0].key = key
            assertTorchBinError("not a plain storage name") {
                try load(TorchBinBuilder.archive(pickle: TorchBinBuilder.statePickle(s), storages: storages()))
            }
        }
        var s = specs()
        s[0].key = "7"
        assertTorchBinError("no member archive/data/7") {
            try load(TorchBinBuilder.archive(pickle: TorchBinBuilder.statePickle(s), storages: storages()))
        }
    }

    func testMisalignedStorageIsRefused() throws {
        // Without torch's padding members land wherever the names put them; a storage that is not
        // aligned to its element size must be refused, an aligned one loaded.
        var misalignedCases = 0
        for align in [1, 2, 3] {
            let bytes = TorchBinBuilder.archive(pickle: TorchBinBuilder.statePickle(specs()), storages: storages(), align: align)
            let dir = try TorchBinTempDir()
            let url = try dir.write(bytes)
            let zip = try ZipDirectory(file: try MappedFile(url: url))
            let half = try XCTUnwrap(zip.entry(named: "archive/data/0")), float = try XCTUnwrap(zip.entry(named: "archive/data/1"))
            if half.dataOffset % 2 != 0 || float.dataOffset % 4 != 0 {
                misalignedCases += 1
                assertTorchBinError("not aligned") { try TorchCheckpoint.load(url) }
            } else {
                try checkValues(try TorchCheckpoint.load(url))
            }
        }
        XCTAssertGreaterThan(misalignedCases, 0)
    }

    func testConflictingStorageTypesAreRefused() throws {
        var s = specs()
        s[2].storage = "FloatStorage"
        s[2].numel = 3
        assertTorchBinError("referenced as both") {
            try load(TorchBinBuilder.archive(pickle: TorchBinBuilder.statePickle(s), storages: storages()))
        }
    }
}
