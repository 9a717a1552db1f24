import Foundation

/// One member of a ZIP archive, located inside a `MappedFile` (nothing is extracted or copied).
public struct ZipEntry: Sendable, Equatable {
    /// The member name exactly as stored (UTF-8); never used as a file-system path.
    public let name: String
    /// 0 = stored, 8 = deflate. Only stored members can be mapped.
    public let method: UInt16
    /// CRC-32 from the central directory.
    public let crc32: UInt32
    /// Bytes the member occupies in the file (from the central directory or its ZIP64 extra field).
    public let compressedSize: Int
    /// Bytes of the member once decompressed (equal to `compressedSize` for stored members).
    public let uncompressedSize: Int
    /// Offset of the member's local header in the file.
    public let localHeaderOffset: Int
    /// Offset of the member's first data byte in the file (after the local header, name and extra field).
    public let dataOffset: Int
}

/// A bounded, validating reader of a ZIP central directory (with ZIP64) over a memory-mapped file.
///
/// torch.save writes an uncompressed ZIP whose local headers carry zero sizes (data descriptors
/// follow the data), so the central directory is the authority for sizes; the local header is read
/// only to find where each member's data starts. Every offset and length is checked against the
/// file size before it is dereferenced, so a truncated or hostile file gives a `CheckpointError`.
public struct ZipDirectory: @unchecked Sendable {
    /// Limits on what a central directory may declare.
    public struct Limits: Sendable {
        /// Most members a directory may declare.
        public var maxEntries: Int = 1 << 20
        /// Longest member name accepted, in bytes.
        public var maxNameLength: Int = 4096
        /// The defaults.
        public init() {}
    }

    /// The mapped archive; member bytes are views into it.
    public let file: MappedFile
    /// Members in central-directory order.
    public let entries: [ZipEntry]
    private let byName: [String: Int]

    /// Reads and validates the central directory of `file`; throws a `CheckpointError` naming the file on damage.
    public init(file: MappedFile, limits: Limits = Limits()) throws {
        self.file = file
        let reader = ZipByteReader(file: file)
        let end = try Self.findEndOfCentralDirectory(reader)
        let directory = try Self.centralDirectoryBounds(reader, eocd: end)
        guard directory.count <= limits.maxEntries else {
            throw reader.error("declares \(directory.count) entries (limit \(limits.maxEntries))")
        }
        // Each central header is at least 46 bytes, so the count cannot exceed what the directory can hold.
        guard directory.count <= directory.size / 46 + 1 else {
            throw reader.error("declares \(directory.count) entries in a \(directory.size)-byte central directory")
        }
        var entries: [ZipEntry] = []
        entries.reserveCapacity(directory.count)
        var byName: [String: Int] = [:]
        var pos = directory.offset
        let directoryEnd = directory.offset + directory.size
        for index in 0..<directory.count {
            let entry = try Self.readCentralHeader(reader, at: &pos, limit: directoryEnd, index: index, limits: limits)
            guard byName[entry.name] == nil else { throw reader.error("duplicate entry \(entry.name)") }
            byName[entry.name] = entries.count
            entries.append(entry)
        }
        self.entries = entries
        self.byName = byName
    }

    /// The member called `name`, if present.
    public func entry(named name: String) -> ZipEntry? {
        byName[name].map { entries[$0] }
    }

    /// The bytes of a stored member, viewed in place (valid while `file` is alive); compressed members are refused.
    public func storedBytes(_ entry: ZipEntry) throws -> UnsafeRawBufferPointer {
        guard entry.method == 0 else {
            throw CheckpointError("\(file.url.path): zip entry \(entry.name) uses compression method \(entry.method); "
                + "only stored (uncompressed) entries are supported, as torch.save writes them")
        }
        return UnsafeRawBufferPointer(start: file.base + entry.dataOffset, count: entry.compressedSize)
    }

    /// Computes the CRC-32 of a stored member and compares it with the directory's value.
    public func verifyChecksum(_ entry: ZipEntry) throws {
        let actual = ZipCRC32.checksum(try storedBytes(entry))
        guard actual == entry.crc32 else {
            throw CheckpointError(String(format: "%@: zip entry %@ fails its CRC-32 check (stored %08x, computed %08x)",
                                         file.url.path, entry.name, entry.crc32, actual))
        }
    }

    // MARK: - Parsing

    private struct EndRecord {
        let position: Int
        let entryCount: Int
        let directorySize: Int
        let directoryOffset: Int
        let diskNumber: Int
        let directoryDisk: Int
        let entriesOnDisk: Int
    }

    private static let eocdSignature: UInt32 = 0x0605_4b50
    private static let zip64LocatorSignature: UInt32 = 0x0706_4b50
    private static let zip64EndSignature: UInt32 = 0x0606_4b50
    private static let centralSignature: UInt32 = 0x0201_4b50
    private static let localSignature: UInt32 = 0x0403_4b50

    /// Scans backwards over at most the 64 KiB a comment can occupy for a record whose comment ends the file.
    private static func findEndOfCentralDirectory(_ r: ZipByteReader) throws -> EndRecord {
        let size = r.size
        guard size >= 22 else { throw r.error("is too small to be a zip archive (\(size) bytes; truncated?)") }
        if r.u8(0) == 0x80 {
            // A pickle PROTO opcode first: torch.save's pre-1.6 format, a bare pickle stream.
            throw CheckpointError("\(r.file.url.path): legacy (pre-1.6, non-zip) torch.save format; re-save it with "
                + "torch >= 1.6 or convert it to safetensors")
        }
        let lowest = max(0, size - 22 - 0xFFFF)
        var pos = size - 22
        while pos >= lowest {
            if r.u32(pos) == eocdSignature, pos + 22 + Int(r.u16(pos + 20)) == size {
                return EndRecord(position: pos,
                                 entryCount: Int(r.u16(pos + 10)),
                                 directorySize: Int(r.u32(pos + 12)),
                                 directoryOffset: Int(r.u32(pos + 16)),
                                 diskNumber: Int(r.u16(pos + 4)),
                                 directoryDisk: Int(r.u16(pos + 6)),
                                 entriesOnDisk: Int(r.u16(pos + 8)))
            }
            pos -= 1
        }
        throw r.error("has no end-of-central-directory record (not a zip archive, or truncated)")
    }

    /// Resolves the central directory's offset, size and entry count, preferring the ZIP64 record when present.
    private static func centralDirectoryBounds(_ r: ZipByteReader, eocd: EndRecord)
        throws -> (offset: Int, size: Int, count: Int)
    {
        var offset = eocd.directoryOffset
        var size = eocd.directorySize
        var count = eocd.entryCount
        var disk = eocd.diskNumber, directoryDisk = eocd.directoryDisk, onDisk = eocd.entriesOnDisk
        let locator = eocd.position - 20
        if locator >= 0, r.u32(locator) == zip64LocatorSignature {
            let recordOffset = try r.checkedInt(r.u64(locator + 8), "ZIP64 end record offset")
            guard Int(r.u32(locator + 16)) <= 1 else { throw r.error("is a multi-disk zip archive (unsupported)") }
            guard recordOffset <= locator - 56 else {
                throw r.error("has a ZIP64 end record offset \(recordOffset) outside the file")
            }
            guard r.u32(recordOffset) == zip64EndSignature else {
                throw r.error("has no ZIP64 end-of-central-directory record at offset \(recordOffset)")
            }
            disk = Int(r.u32(recordOffset + 16))
            directoryDisk = Int(r.u32(recordOffset + 20))
            onDisk = try r.checkedInt(r.u64(recordOffset + 24), "ZIP64 entries on disk")
            count = try r.checkedInt(r.u64(recordOffset + 32), "ZIP64 entry count")
            size = try r.checkedInt(r.u64(recordOffset + 40), "ZIP64 central directory size")
            offset = try r.checkedInt(r.u64(recordOffset + 48), "ZIP64 central directory offset")
            guard offset <= recordOffset, size <= recordOffset - offset else {
                throw r.error("declares a central directory (offset \(offset), \(size) bytes) overlapping its end records")
            }
        } else {
            guard eocd.entryCount != 0xFFFF, eocd.directorySize != 0xFFFF_FFFF, eocd.directoryOffset != 0xFFFF_FFFF else {
                throw r.error("needs ZIP64 records but has no ZIP64 locator (truncated?)")
            }
            guard offset <= eocd.position, size <= eocd.position - offset else {
                throw r.error("declares a central directory (offset \(offset), \(size) bytes) outside the file (truncated?)")
            }
        }
        guard disk == 0, directoryDisk == 0, onDisk == count else {
            throw r.error("is a multi-disk zip archive (unsupported)")
        }
        return (offset, size, count)
    }

    private static func readCentralHeader(_ r: ZipByteReader, at pos: inout Int, limit: Int, index: Int,
                                          limits: Limits) throws -> ZipEntry
    {
        guard pos <= limit - 46, r.u32(pos) == centralSignature else {
            throw r.error("central directory entry \(index) at offset \(pos) is missing or damaged")
        }
        let flags = r.u16(pos + 8)
        let method = r.u16(pos + 10)
        let crc = r.u32(pos + 16)
        var compressed = UInt64(r.u32(pos + 20))
        var uncompressed = UInt64(r.u32(pos + 24))
        let nameLength = Int(r.u16(pos + 28))
        let extraLength = Int(r.u16(pos + 30))
        let commentLength = Int(r.u16(pos + 32))
        var diskStart = UInt64(r.u16(pos + 34))
        var localOffset = UInt64(r.u32(pos + 42))
        let variable = nameLength + extraLength + commentLength
        guard nameLength <= limits.maxNameLength else {
            throw r.error("central directory entry \(index) has a \(nameLength)-byte name (limit \(limits.maxNameLength))")
        }
        guard variable <= limit - (pos + 46) else {
            throw r.error("central directory entry \(index) runs past the end of the directory")
        }
        let nameBytes = r.bytes(pos + 46, nameLength)
        guard let name = String(validatingUTF8Bytes: nameBytes) else {
            throw r.error("central directory entry \(index) has a name that is not valid UTF-8")
        }
        guard flags & 0x0001 == 0 else { throw r.error("entry \(name) is encrypted (unsupported)") }

        // ZIP64 extended information holds, in this order, only the fields saturated in the fixed header.
        var extra = pos + 46 + nameLength
        let extraEnd = extra + extraLength
        while extra + 4 <= extraEnd {
            let id = r.u16(extra), length = Int(r.u16(extra + 2))
            let body = extra + 4
            guard length <= extraEnd - body else { throw r.error("entry \(name) has a damaged extra field") }
            if id == 0x0001 {
                var cursor = body
                func next(_ what: String) throws -> UInt64 {
                    guard cursor + 8 <= body + length else {
                        throw r.error("entry \(name) has a ZIP64 extra field too short for its \(what)")
                    }
                    defer { cursor += 8 }
                    return r.u64(cursor)
                }
                if uncompressed == 0xFFFF_FFFF { uncompressed = try next("uncompressed size") }
                if compressed == 0xFFFF_FFFF { compressed = try next("compressed size") }
                if localOffset == 0xFFFF_FFFF { localOffset = try next("local header offset") }
                if diskStart == 0xFFFF {
                    guard cursor + 4 <= body + length else {
                        throw r.error("entry \(name) has a ZIP64 extra field too short for its disk number")
                    }
                    diskStart = UInt64(r.u32(cursor))
                }
            }
            extra = body + length
        }
        guard diskStart == 0 else { throw r.error("entry \(name) lives on another disk (multi-disk archives unsupported)") }
        let compressedSize = try r.checkedInt(compressed, "compressed size of \(name)")
        let uncompressedSize = try r.checkedInt(uncompressed, "uncompressed size of \(name)")
        let headerOffset = try r.checkedInt(localOffset, "local header offset of \(name)")
        if method == 0, compressedSize != uncompressedSize {
            throw r.error("stored entry \(name) declares different compressed (\(compressedSize)) and "
                + "uncompressed (\(uncompressedSize)) sizes")
        }
        pos += 46 + variable

        // The local header repeats the name and has its own extra field (torch pads it to align the data).
        guard headerOffset <= r.size - 30, r.u32(headerOffset) == localSignature else {
            throw r.error("entry \(name): local header at offset \(headerOffset) is missing or outside the file (truncated?)")
        }
        let localName = Int(r.u16(headerOffset + 26)), localExtra = Int(r.u16(headerOffset + 28))
        let dataOffset = headerOffset + 30 + localName + localExtra
        guard localName == nameLength, dataOffset <= r.size, r.bytes(headerOffset + 30, localName).elementsEqual(nameBytes) else {
            throw r.error("entry \(name): local header at offset \(headerOffset) does not match the central directory")
        }
        guard compressedSize <= r.size - dataOffset else {
            throw r.error("entry \(name): \(compressedSize) bytes at offset \(dataOffset) run past the end of the "
                + "\(r.size)-byte file (truncated?)")
        }
        return ZipEntry(name: name, method: method, crc32: crc, compressedSize: compressedSize,
                        uncompressedSize: uncompressedSize, localHeaderOffset: headerOffset, dataOffset: dataOffset)
    }
}

/// Little-endian reads from a mapped file. Callers check bounds first; reads are unaligned-safe.
struct ZipByteReader {
    let file: MappedFile
    var size: Int { file.size }

    func error(_ what: String) -> CheckpointError { CheckpointError("\(file.url.path): zip archive \(what)") }

    func u8(_ at: Int) -> UInt8 { file.base.load(fromByteOffset: at, as: UInt8.self) }
    func u16(_ at: Int) -> UInt16 { UInt16(littleEndian: file.base.loadUnaligned(fromByteOffset: at, as: UInt16.self)) }
    func u32(_ at: Int) -> UInt32 { UInt32(littleEndian: file.base.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
    func u64(_ at: Int) -> UInt64 { UInt64(littleEndian: file.base.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
    func bytes(_ at: Int, _ count: Int) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: file.base + at, count: count) }

    /// A 64-bit field as an `Int` no larger than the file (anything larger cannot describe this file).
    func checkedInt(_ value: UInt64, _ what: String) throws -> Int {
        guard value <= UInt64(size) else { throw error("has \(what) \(value) beyond the \(size)-byte file (truncated?)") }
        return Int(value)
    }
}

extension String {
    /// Decodes UTF-8, returning nil (rather than repairing) when the bytes are not valid UTF-8.
    init?(validatingUTF8Bytes bytes: UnsafeRawBufferPointer) {
        guard let s = String(validating: bytes.assumingMemoryBound(to: UInt8.self), as: UTF8.self) else { return nil }
        self = s
    }
}

/// CRC-32 (ISO-HDLC, as ZIP uses), table-driven so it stays usable in debug builds for small members.
enum ZipCRC32 {
    private static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { t in
            for b in bytes { crc = t[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
        }
        return ~crc
    }
}
