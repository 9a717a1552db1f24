import Foundation
import XCTest
@testable import Checkpoint
import Tensor

/// Builds torch.save-shaped archives byte by byte, so malformed and ZIP64 variants can be made
/// without PyTorch. The opcode stream mirrors what torch 2.13 writes (see Resources/TorchBin/make_fixtures.py).
enum TorchBinBuilder {
    /// How the archive records sizes and offsets.
    enum Zip64Mode {
        /// Classic records only.
        case none
        /// ZIP64 end record + locator beside valid classic values (what torch writes for small files).
        case endRecords
        /// Saturated classic fields with ZIP64 extra fields and end records (what a >4 GiB shard needs).
        case full
    }

    struct Member {
        var name: String
        var data: [UInt8]
        var method: UInt16 = 0
        /// When non-zero the member is this many zero bytes, left as a hole (sparse file) and not CRC'd.
        var zeroFill: Int = 0
    }

    /// Overrides applied while writing the central directory (to make corrupt archives).
    struct Tamper {
        var localOffsetOverride: [String: UInt64] = [:]
        var declaredEntryCount: Int?
    }

    static func zip(_ members: [Member], zip64: Zip64Mode = .endRecords, align: Int = 64, tamper: Tamper = Tamper()) -> [UInt8] {
        let parts = zipParts(members, zip64: zip64, align: align, tamper: tamper)
        precondition(parts.count == 1, "zero-filled members need zipParts")
        return parts[0].bytes
    }

    /// The archive as byte runs at file offsets; the gaps between runs are zero-filled members' data.
    static func zipParts(_ members: [Member], zip64: Zip64Mode = .endRecords, align: Int = 64,
                         tamper: Tamper = Tamper()) -> [(offset: Int, bytes: [UInt8])]
    {
        var parts: [(offset: Int, bytes: [UInt8])] = []
        var out: [UInt8] = []
        var base = 0  // file offset of out[0]
        var offsets: [Int] = []
        for m in members {
            offsets.append(base + out.count)
            let name = Array(m.name.utf8)
            // Pad the local extra field (id "FB", as torch does) so the data starts on an `align` boundary.
            var extraLength = 0
            if align > 1 {
                let unpadded = base + out.count + 30 + name.count + 4
                extraLength = 4 + (align - unpadded % align) % align
            }
            le32(&out, 0x0403_4b50); le16(&out, 20); le16(&out, 0); le16(&out, m.method)
            le16(&out, 0); le16(&out, 0)
            le32(&out, crc(m.data)); le32(&out, UInt32(truncatingIfNeeded: m.data.count))
            le32(&out, UInt32(truncatingIfNeeded: m.data.count))
            le16(&out, UInt16(name.count)); le16(&out, UInt16(extraLength))
            out += name
            if extraLength > 0 {
                out += Array("FB".utf8); le16(&out, UInt16(extraLength - 4))
                out += [UInt8](repeating: 0x5A, count: extraLength - 4)
            }
            out += m.data
            if m.zeroFill > 0 {
                parts.append((base, out))
                base += out.count + m.zeroFill
                out = []
            }
        }
        let directoryOffset = base + out.count
        for (m, offset) in Swift.zip(members, offsets) {
            let name = Array(m.name.utf8)
            let size = UInt64(m.zeroFill > 0 ? m.zeroFill : m.data.count)
            let localOffset = tamper.localOffsetOverride[m.name] ?? UInt64(offset)
            let full = zip64 == .full
            le32(&out, 0x0201_4b50); le16(&out, 0x031e); le16(&out, 45); le16(&out, 0); le16(&out, m.method)
            le16(&out, 0); le16(&out, 0); le32(&out, crc(m.data))
            le32(&out, full ? 0xFFFF_FFFF : UInt32(size)); le32(&out, full ? 0xFFFF_FFFF : UInt32(size))
            le16(&out, UInt16(name.count)); le16(&out, full ? 28 : 0); le16(&out, 0); le16(&out, 0); le16(&out, 0); le32(&out, 0)
            le32(&out, full ? 0xFFFF_FFFF : UInt32(truncatingIfNeeded: localOffset))
            out += name
            if full {
                le16(&out, 1); le16(&out, 24)
                le64(&out, size); le64(&out, size); le64(&out, localOffset)
            }
        }
        let directorySize = base + out.count - directoryOffset
        let count = tamper.declaredEntryCount ?? members.count
        if zip64 != .none {
            let record = base + out.count
            le32(&out, 0x0606_4b50); le64(&out, 44); le16(&out, 0x031e); le16(&out, 45); le32(&out, 0); le32(&out, 0)
            le64(&out, UInt64(count)); le64(&out, UInt64(count)); le64(&out, UInt64(directorySize)); le64(&out, UInt64(directoryOffset))
            le32(&out, 0x0706_4b50); le32(&out, 0); le64(&out, UInt64(record)); le32(&out, 1)
        }
        let full = zip64 == .full
        le32(&out, 0x0605_4b50); le16(&out, 0); le16(&out, 0)
        le16(&out, full ? 0xFFFF : UInt16(min(count, 0xFFFF))); le16(&out, full ? 0xFFFF : UInt16(min(count, 0xFFFF)))
        le32(&out, full ? 0xFFFF_FFFF : UInt32(directorySize)); le32(&out, full ? 0xFFFF_FFFF : UInt32(directoryOffset))
        le16(&out, 0)
        parts.append((base, out))
        return parts
    }

    /// A tensor as `_rebuild_tensor_v2` arguments.
    struct TensorSpec {
        var name: String
        var storage: String = "HalfStorage"
        var key: String
        var numel: Int
        var offset: Int = 0
        var size: [Int]
        var stride: [Int]? = nil
    }

    /// A protocol-2 state-dict pickle in torch's layout (OrderedDict + _rebuild_tensor_v2 per entry).
    static func statePickle(_ tensors: [TensorSpec]) -> [UInt8] {
        var p = TorchBinPickleWriter()
        p.proto(2)
        p.global("collections", "OrderedDict"); p.op(0x29); p.op(0x52) // OrderedDict()
        p.op(0x28)
        for t in tensors {
            p.unicode(t.name)
            p.global("torch._utils", "_rebuild_tensor_v2")
            p.op(0x28)
            p.op(0x28); p.unicode("storage"); p.global("torch", t.storage); p.unicode(t.key); p.unicode("cpu"); p.int(t.numel); p.op(0x74)
            p.op(0x51) // BINPERSID
            p.int(t.offset)
            p.intTuple(t.size)
            p.intTuple(t.stride ?? rowMajor(t.size))
            p.op(0x89)
            p.global("collections", "OrderedDict"); p.op(0x29); p.op(0x52)
            p.op(0x74); p.op(0x52)
        }
        p.op(0x75); p.op(0x2E)
        return p.bytes
    }

    /// A complete archive: `archive/data.pkl`, `archive/data/<key>` storages and the small metadata members.
    static func archive(pickle: [UInt8], storages: [(String, [UInt8])], zip64: Zip64Mode = .endRecords, align: Int = 64,
                        pickleMethod: UInt16 = 0, tamper: Tamper = Tamper()) -> [UInt8]
    {
        var members = [Member(name: "archive/data.pkl", data: pickle, method: pickleMethod)]
        members.append(Member(name: "archive/byteorder", data: Array("little".utf8)))
        for (key, bytes) in storages { members.append(Member(name: "archive/data/\(key)", data: bytes)) }
        members.append(Member(name: "archive/version", data: Array("3\n".utf8)))
        return zip(members, zip64: zip64, align: align, tamper: tamper)
    }

    static func rowMajor(_ size: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: size.count)
        var acc = 1
        for i in size.indices.reversed() { s[i] = acc; acc *= size[i] }
        return s
    }

    static func halfBytes(_ values: [Float]) -> [UInt8] {
        values.flatMap { v -> [UInt8] in let b = Float16(v).bitPattern; return [UInt8(b & 0xFF), UInt8(b >> 8)] }
    }

    static func floatBytes(_ values: [Float]) -> [UInt8] {
        values.flatMap { v -> [UInt8] in let b = v.bitPattern; return (0..<4).map { UInt8((b >> (8 * $0)) & 0xFF) } }
    }

    static func le16(_ o: inout [UInt8], _ v: UInt16) { o += [UInt8(v & 0xFF), UInt8(v >> 8)] }
    static func le32(_ o: inout [UInt8], _ v: UInt32) { for i in 0..<4 { o.append(UInt8((v >> (8 * UInt32(i))) & 0xFF)) } }
    static func le64(_ o: inout [UInt8], _ v: UInt64) { for i in 0..<8 { o.append(UInt8((v >> (8 * UInt64(i))) & 0xFF)) } }

    static func crc(_ bytes: [UInt8]) -> UInt32 { bytes.withUnsafeBytes { ZipCRC32.checksum($0) } }
}

/// Emits pickle opcodes (only what the tests need).
struct TorchBinPickleWriter {
    var bytes: [UInt8] = []

    mutating func op(_ code: UInt8) { bytes.append(code) }
    mutating func proto(_ v: UInt8) { bytes += [0x80, v] }
    mutating func global(_ module: String, _ name: String) { bytes += [0x63] + Array("\(module)\n\(name)\n".utf8) }
    mutating func unicode(_ s: String) {
        let u = Array(s.utf8)
        bytes.append(0x58); TorchBinBuilder.le32(&bytes, UInt32(u.count)); bytes += u
    }
    mutating func shortUnicode(_ s: String) {
        let u = Array(s.utf8)
        bytes += [0x8C, UInt8(u.count)] + u
    }
    mutating func int(_ v: Int) {
        if v >= 0, v < 256 { bytes += [0x4B, UInt8(v)] }
        else if v >= 0, v < 65536 { bytes.append(0x4D); TorchBinBuilder.le16(&bytes, UInt16(v)) }
        else if v >= Int(Int32.min), v <= Int(Int32.max) { bytes.append(0x4A); TorchBinBuilder.le32(&bytes, UInt32(bitPattern: Int32(v))) }
        else { bytes += [0x8A, 8]; TorchBinBuilder.le64(&bytes, UInt64(bitPattern: Int64(v))) }
    }
    mutating func intTuple(_ v: [Int]) {
        switch v.count {
        case 0: op(0x29)
        case 1: int(v[0]); op(0x85)
        case 2: int(v[0]); int(v[1]); op(0x86)
        case 3: int(v[0]); int(v[1]); int(v[2]); op(0x87)
        default: op(0x28); v.forEach { int($0) }; op(0x74)
        }
    }
}

/// Writes bytes to a fresh file in a per-test temporary folder.
final class TorchBinTempDir {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("torchbin-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// Writes byte runs at their offsets, leaving the gaps as holes (a sparse file on most file systems).
    func writeSparse(_ parts: [(offset: Int, bytes: [UInt8])], _ name: String = "sparse.bin") throws -> URL {
        let file = url.appendingPathComponent(name)
        let fd = open(file.path, O_CREAT | O_WRONLY | O_TRUNC, 0o600)
        guard fd >= 0 else { throw CheckpointError("cannot create \(file.path)") }
        defer { close(fd) }
        for part in parts {
            let written = part.bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(part.offset)) }
            guard written == part.bytes.count else { throw CheckpointError("short write to \(file.path)") }
        }
        return file
    }

    func write(_ bytes: [UInt8], _ name: String = "model.bin") throws -> URL {
        let file = url.appendingPathComponent(name)
        try Data(bytes).write(to: file)
        return file
    }
}

/// The committed real torch.save outputs beside this test target.
enum TorchBinFixtures {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Resources").appendingPathComponent("TorchBin")

    static func url(_ name: String) throws -> URL {
        let u = folder.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: u.path) else {
            throw XCTSkip("fixture \(u.path) is missing (run make_fixtures.py there)")
        }
        return u
    }
}

/// Asserts that `body` throws a `CheckpointError` whose message contains `fragment`.
func assertTorchBinError<T>(_ fragment: String, file: StaticString = #filePath, line: UInt = #line,
                                 _ body: () throws -> T)
{
    do {
        _ = try body()
        XCTFail("expected an error containing '\(fragment)', but it succeeded", file: file, line: line)
    } catch let e as CheckpointError {
        XCTAssertTrue(e.message.contains(fragment), "error '\(e.message)' does not mention '\(fragment)'", file: file, line: line)
    } catch {
        XCTFail("expected a CheckpointError, got \(error)", file: file, line: line)
    }
}
