import Foundation

@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

public typealias FuzzTestFunction = @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32

/// Runs libFuzzer's driver (same command line as libFuzzer's own `main`) on `test`.
///
/// Each target exports both `LLVMFuzzerTestOneInput` and `<Module>_main`, which calls this: SwiftPM sometimes
/// renames an executable's entry point to `<Module>_main` and aliases `main` to it (so libFuzzer's `main`
/// is never linked), and sometimes does not (with `--sanitize`, and then libFuzzer's `main` is used).
public func runFuzzerDriver(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                            _ test: FuzzTestFunction) -> Int32 {
    var c = argc
    var v = argv
    return LLVMFuzzerRunDriver(&c, &v, test)
}

/// The bytes libFuzzer hands to `LLVMFuzzerTestOneInput` (a null pointer comes with size 0).
public func fuzzInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Data {
    guard let data, size > 0 else { return Data() }
    return Data(bytes: data, count: size)
}

/// A per-process scratch file for parsers that only take a URL; one path is reused so runs do not fill the disk.
public final class ScratchFile {
    public let url: URL

    public init(name: String) {
        let dir = Self.directory
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        url = dir.appendingPathComponent(name)
        atexit { try? FileManager.default.removeItem(at: ScratchFile.directory) }
    }

    /// Rewriting a file on every execution costs real I/O on a disk (the fuzzers sat in uninterruptible
    /// sleep); tmpfs keeps it in memory. Falls back to the temp dir where /dev/shm is not writable.
    static let directory: URL = {
        let shm = "/dev/shm"
        let base = access(shm, W_OK) == 0 ? URL(fileURLWithPath: shm, isDirectory: true)
                                           : FileManager.default.temporaryDirectory
        return base.appendingPathComponent("vispruner-fuzz-\(getpid())", isDirectory: true)
    }()

    /// Replaces the file's contents; a write failure is an environment problem, not a finding, so it stops the run.
    public func write(_ data: Data) -> URL {
        do { try data.write(to: url) } catch {
            fatalError("cannot write the scratch file \(url.path): \(error)")
        }
        return url
    }
}

/// Reads little-endian integers off the front of the input, for targets that derive parameters from it.
public struct ByteCursor {
    public private(set) var rest: Data

    public init(_ data: Data) { rest = data }

    public mutating func byte() -> UInt8 {
        guard let b = rest.first else { return 0 }
        rest = rest.dropFirst()
        return b
    }
}

/// A zip archive of stored (uncompressed) members with valid CRCs, as torch.save writes them.
public enum StoredZip {
    /// Member data starts on this boundary, as torch.save aligns it; the checkpoint reader refuses
    /// misaligned storages.
    static let alignment = 64

    public static func make(_ members: [(name: String, bytes: Data)]) -> Data {
        var out = Data()
        var central = Data()
        for m in members {
            let offset = out.count
            let name = Data(m.name.utf8)
            let crc = crc32(m.bytes)
            // Padding goes in an extra field (id "FB", as torch uses); a field needs at least its 4-byte header.
            var pad = (alignment - (offset + 30 + name.count) % alignment) % alignment
            if pad < 4 { pad += alignment }
            out.append(le32(0x0403_4b50))
            out.append(le16(20)); out.append(le16(0)); out.append(le16(0))
            out.append(le16(0)); out.append(le16(0))
            out.append(le32(crc)); out.append(le32(UInt32(m.bytes.count))); out.append(le32(UInt32(m.bytes.count)))
            out.append(le16(UInt16(name.count))); out.append(le16(UInt16(pad)))
            out.append(name)
            out.append(le16(0x4246)); out.append(le16(UInt16(pad - 4)))
            out.append(Data(count: pad - 4))
            out.append(m.bytes)

            central.append(le32(0x0201_4b50))
            central.append(le16(20)); central.append(le16(20)); central.append(le16(0)); central.append(le16(0))
            central.append(le16(0)); central.append(le16(0))
            central.append(le32(crc)); central.append(le32(UInt32(m.bytes.count))); central.append(le32(UInt32(m.bytes.count)))
            central.append(le16(UInt16(name.count))); central.append(le16(0)); central.append(le16(0))
            central.append(le16(0)); central.append(le16(0)); central.append(le32(0))
            central.append(le32(UInt32(offset)))
            central.append(name)
        }
        let directoryOffset = out.count
        out.append(central)
        out.append(le32(0x0605_4b50))
        out.append(le16(0)); out.append(le16(0))
        out.append(le16(UInt16(members.count))); out.append(le16(UInt16(members.count)))
        out.append(le32(UInt32(central.count))); out.append(le32(UInt32(directoryOffset)))
        out.append(le16(0))
        return out
    }

    private static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func crc32(_ data: Data) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in data { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    private static func le16(_ v: UInt16) -> Data { withUnsafeBytes(of: v.littleEndian) { Data($0) } }
    private static func le32(_ v: UInt32) -> Data { withUnsafeBytes(of: v.littleEndian) { Data($0) } }
}
