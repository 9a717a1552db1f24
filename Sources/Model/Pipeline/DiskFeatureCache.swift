import Foundation
import Records
import Tensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// An on-disk cache of the vision tower's output, shared by the shards of a sweep (possibly on several machines
// over one network filesystem). Nothing in a cache file is trusted: a file may be truncated by a crashed host,
// flipped by a disk, left over from another format version, or renamed by hand, and the worst any of these may
// cause is a recomputation.
//
// File layout (little-endian):
//   "VPFEAT1" (7 bytes), version (UInt8)
//   imageDigest, towerFingerprint, mode: UInt32 byte count + UTF-8 bytes each
//   view count (UInt32)
//   per view: N, Dv, H (UInt32 each), milliseconds (UInt64, the Float64's bit pattern)
//   per view: features N×Dv float32, then clsAttention H×N float32
//   SHA-256 of every byte above (32 bytes)

/// What a cached tower output is for: the image's bytes, the tower that saw them and how they were prepared.
public struct FeatureKey: Hashable, Sendable {
    /// SHA-256 hex of the image file's bytes.
    public let imageDigest: String
    /// Identifies the tower weights and configuration (select layer, image size, dtype).
    public let towerFingerprint: String
    /// Preprocessing mode, e.g. "pad", "crop", "anyres-fixed672".
    public let mode: String

    public init(imageDigest: String, towerFingerprint: String, mode: String) {
        self.imageDigest = imageDigest; self.towerFingerprint = towerFingerprint; self.mode = mode
    }

    /// The cache file's name. Each field is length-prefixed so that no two keys join to the same text, and the
    /// format version takes part so that binaries of different versions sharing a directory never read (and
    /// delete as unreadable) each other's files.
    public var fileName: String {
        var text = "vpfeat/\(DiskFeatureCache.formatVersion)"
        for field in [imageDigest, towerFingerprint, mode] { text += "/\(field.utf8.count):\(field)" }
        return SHA256Digest.hex(text) + "." + DiskFeatureCache.fileExtension
    }

    /// SHA-256 hex of the file's bytes, read in bounded chunks (images can be large; only one chunk is held).
    public static func digest(ofFileAt url: URL) throws -> String {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        var stream = SHA256Stream()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            chunk.withUnsafeBytes { stream.update($0) }
        }
        return SHA256Digest.hex(bytes: stream.finalize())
    }
}

/// Counters since the cache object was made (this process only).
public struct DiskFeatureCacheStats: Equatable, Sendable {
    /// Loads that returned the stored outputs.
    public var hits = 0
    /// Loads that returned nil, for any reason (absent or corrupt).
    public var misses = 0
    /// Of the misses: files that failed validation (including a file holding another key) and were deleted.
    public var corrupt = 0
    /// Files deleted to keep the directory under its size bound.
    public var evicted = 0
    /// Files written.
    public var stored = 0
    /// Stores skipped because one entry alone exceeds the size bound.
    public var tooLarge = 0
    /// Temporary files of writers that died mid-store (older than `DiskFeatureCache.staleTemporaryAge`),
    /// deleted when the cache was opened.
    public var staleTemporaries = 0

    public init() {}
}

/// Content-addressed, size-bounded on-disk cache of `[VisionOutput]` per image.
///
/// Safe for several threads and several processes on one directory: files appear only by atomic rename of a
/// completed, synced temporary file, so a reader sees a whole file or none; two writers of one key write the
/// same bytes, and the last rename wins.
public final class DiskFeatureCache: @unchecked Sendable {
    public static let fileExtension = "vfeat"
    static let magic: [UInt8] = Array("VPFEAT1".utf8)
    static let formatVersion: UInt8 = 1

    // Bounds on what a file may declare, checked before anything is allocated. The largest real outputs are
    // far below them (LLaVA-1.6: 5 views of 576 × 1024, 16 heads).
    static let maxViews = 64, maxPatches = 100_000, maxWidth = 16_384, maxHeads = 256
    static let maxKeyFieldBytes = 4096
    static let perViewHeaderBytes = 3 * 4 + 8
    static let maxHeaderBytes = magic.count + 1 + 3 * (4 + maxKeyFieldBytes) + 4 + maxViews * perViewHeaderBytes
    static let checksumBytes = 32
    /// Bytes per read or write call: large enough to be cheap, small enough that a lying size cannot make a
    /// read ask for more than exists.
    static let ioChunk = 4 << 20
    /// A temporary file this old belongs to a writer that crashed (a store takes well under a second per
    /// view); younger ones may still be written by a live shard on another host, so they stay.
    public static let staleTemporaryAge: TimeInterval = 3600

    public let directory: URL
    public let maxBytes: Int64

    private let lock = NSLock()
    private var _stats = DiskFeatureCacheStats()
    /// A consistent snapshot of the counters.
    public var stats: DiskFeatureCacheStats {
        lock.lock(); defer { lock.unlock() }
        return _stats
    }

    /// Opens (creating if needed) the cache at `directory`, holding at most `maxBytes` of `.vfeat` files.
    public init(directory: URL, maxBytes: Int64) throws {
        guard maxBytes > 0 else { throw ModelError("feature cache: the size bound must be positive, got \(maxBytes) bytes") }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw ModelError("feature cache: \(directory.path) exists and is not a directory")
            }
        } else {
            do {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            } catch {
                throw ModelError("feature cache: cannot create directory \(directory.path): \(error)")
            }
        }
        self.directory = directory
        self.maxBytes = maxBytes
        removeStaleTemporaries(now: Date())
    }

    /// A writer killed between creating its temporary file and the rename (kill -9, a crashed host) leaves the
    /// file behind; eviction never counts hidden files, so without this they would pile up unbounded.
    private func removeStaleTemporaries(now: Date) {
        let marker = "." + Self.fileExtension + "."
        let temporaries = regularFiles { $0.hasPrefix(".") && $0.hasSuffix(".tmp") && $0.contains(marker) }
        for file in temporaries where now.timeIntervalSince1970 - Double(file.mtime.tv_sec) > Self.staleTemporaryAge {
            if unlink(file.path) == 0 { bump { $0.staleTemporaries += 1 } }
        }
    }

    /// The directory's regular files (never symlinks, which could point outside it) whose names pass `keep`.
    private func regularFiles(named keep: (String) -> Bool) -> [(path: String, size: Int64, mtime: timespec, name: String)] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return [] }
        var files: [(path: String, size: Int64, mtime: timespec, name: String)] = []
        for name in names where keep(name) {
            let path = directory.appendingPathComponent(name).path
            var info = stat()
            guard lstat(path, &info) == 0, (info.st_mode & 0o170000) == 0o100000 /* S_ISREG */ else { continue }
            #if canImport(Darwin)
            let mtime = info.st_mtimespec
            #else
            let mtime = info.st_mtim
            #endif
            files.append((path, Int64(info.st_size), mtime, name))
        }
        return files
    }

    private func bump(_ change: (inout DiskFeatureCacheStats) -> Void) {
        lock.lock(); defer { lock.unlock() }
        change(&_stats)
    }

    // MARK: - Load

    private enum LoadFailure: Error { case corrupt }

    /// The outputs stored for `key`, or nil when there are none or the file fails validation (it is then
    /// deleted so that the recomputed outputs replace it).
    public func load(_ key: FeatureKey) -> [VisionOutput]? {
        let path = directory.appendingPathComponent(key.fileName).path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            bump { $0.misses += 1 }
            return nil
        }
        defer { close(fd) }
        do {
            let outputs = try read(fd: fd, expecting: key)
            // LRU by modification time: a hit makes the file recent. Failure (a read-only share, another
            // user's file) only makes eviction less accurate.
            _ = futimens(fd, nil)
            bump { $0.hits += 1 }
            return outputs
        } catch {
            removeIfStillSame(fd: fd, path: path)
            bump { $0.misses += 1; $0.corrupt += 1 }
            return nil
        }
    }

    /// Deletes `path` only if it is still the file `fd` read: another shard may have renamed a good file over
    /// the bad one meanwhile, and that one must stay.
    private func removeIfStillSame(fd: Int32, path: String) {
        var opened = stat(), current = stat()
        guard fstat(fd, &opened) == 0, stat(path, &current) == 0,
              opened.st_dev == current.st_dev, opened.st_ino == current.st_ino else { return }
        _ = unlink(path)
    }

    private func read(fd: Int32, expecting key: FeatureKey) throws -> [VisionOutput] {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw LoadFailure.corrupt }
        let fileSize = Int64(info.st_size)
        let smallest = Int64(Self.magic.count + 1 + 3 * 4 + 4 + Self.checksumBytes)
        guard fileSize >= smallest else { throw LoadFailure.corrupt }

        // The header is bounded, so reading its largest possible extent is safe whatever the file claims.
        var header = [UInt8](repeating: 0, count: Int(min(fileSize, Int64(Self.maxHeaderBytes))))
        try header.withUnsafeMutableBytes { try preadFully(fd, $0, at: 0) }

        var cursor = ByteCursor(header)
        guard let magic = cursor.bytes(Self.magic.count), magic == Self.magic,
              let version = cursor.u8(), version == Self.formatVersion else { throw LoadFailure.corrupt }
        var fields: [String] = []
        for _ in 0..<3 {
            guard let length = cursor.u32(), length <= Self.maxKeyFieldBytes,
                  let bytes = cursor.bytes(Int(length)) else { throw LoadFailure.corrupt }
            // Decoding repairs invalid UTF-8; a repaired field is not the bytes that were written.
            let text = String(decoding: bytes, as: UTF8.self)
            guard Array(text.utf8) == bytes else { throw LoadFailure.corrupt }
            fields.append(text)
        }
        // A renamed file, or a collision of the name hash, holds another image's features.
        guard fields == [key.imageDigest, key.towerFingerprint, key.mode] else { throw LoadFailure.corrupt }

        guard let views = cursor.u32(), views >= 1, views <= Self.maxViews else { throw LoadFailure.corrupt }
        var dims: [(n: Int, dv: Int, h: Int, ms: Double)] = []
        var payloadFloats: Int64 = 0
        for _ in 0..<Int(views) {
            guard let n = cursor.u32(), n >= 1, n <= Self.maxPatches,
                  let dv = cursor.u32(), dv >= 1, dv <= Self.maxWidth,
                  let h = cursor.u32(), h >= 1, h <= Self.maxHeads,
                  let msBits = cursor.u64() else { throw LoadFailure.corrupt }
            dims.append((Int(n), Int(dv), Int(h), Double(bitPattern: msBits)))
            // Bounded operands: at most 64 × 100_000 × (16_384 + 256), far inside Int64.
            payloadFloats += Int64(n) * (Int64(dv) + Int64(h))
        }
        let headerLength = cursor.offset
        guard fileSize == Int64(headerLength) + 4 * payloadFloats + Int64(Self.checksumBytes) else {
            throw LoadFailure.corrupt
        }

        var hash = SHA256Stream()
        header.withUnsafeBytes { hash.update(UnsafeRawBufferPointer(rebasing: $0[0..<headerLength])) }
        var offset = Int64(headerLength)
        func readFloats(_ count: Int) throws -> [Float] {
            let values = try [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                let raw = UnsafeMutableRawBufferPointer(buffer)
                try preadFully(fd, raw, at: offset)
                hash.update(UnsafeRawBufferPointer(raw))
                initialized = count
            }
            offset += Int64(count) * 4
            #if _endian(big)
            return values.map { Float(bitPattern: UInt32(littleEndian: $0.bitPattern)) }
            #else
            return values
            #endif
        }
        var outputs: [VisionOutput] = []
        outputs.reserveCapacity(dims.count)
        for d in dims {
            let features = try readFloats(d.n * d.dv)
            let attention = try readFloats(d.h * d.n)
            outputs.append(VisionOutput(features: Tensor(shape: [d.n, d.dv], data: features),
                                        clsAttention: Tensor(shape: [d.h, d.n], data: attention),
                                        milliseconds: d.ms))
        }
        var stored = [UInt8](repeating: 0, count: Self.checksumBytes)
        try stored.withUnsafeMutableBytes { try preadFully(fd, $0, at: offset) }
        guard stored == hash.finalize() else { throw LoadFailure.corrupt }
        return outputs
    }

    // MARK: - Store

    /// Writes `outputs` under `key` (replacing any file there), then evicts least-recently-used files if the
    /// directory's `.vfeat` files exceed the bound. An entry larger than the whole bound is not written.
    public func store(_ key: FeatureKey, _ outputs: [VisionOutput]) throws {
        let header = try Self.encodeHeader(key, outputs)
        let size = Int64(header.count) + Int64(Self.checksumBytes)
            + outputs.reduce(Int64(0)) { $0 + 4 * Int64($1.features.count + $1.clsAttention.count) }
        guard size <= maxBytes else {
            bump { $0.tooLarge += 1 }
            return
        }

        let name = key.fileName
        let finalPath = directory.appendingPathComponent(name).path
        // Hidden, not `.vfeat`, and unique across processes and hosts: eviction never counts or deletes it,
        // and O_EXCL refuses the (astronomically unlikely) clash instead of sharing a file.
        let tempPath = directory.appendingPathComponent(
            ".\(name).\(getpid()).\(String(UInt64.random(in: .min ... .max), radix: 16)).tmp").path
        let fd = open(tempPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Self.posixError("cannot create \(tempPath)") }
        var renamed = false
        defer { if !renamed { _ = unlink(tempPath) } }
        do {
            defer { close(fd) }
            var hash = SHA256Stream()
            try header.withUnsafeBytes { hash.update($0); try writeFully(fd, $0) }
            for output in outputs {
                for tensor in [output.features, output.clsAttention] {
                    #if _endian(big)
                    let data = tensor.data.map { Float(bitPattern: $0.bitPattern.littleEndian) }
                    #else
                    let data = tensor.data
                    #endif
                    try data.withUnsafeBytes { hash.update($0); try writeFully(fd, $0) }
                }
            }
            try hash.finalize().withUnsafeBytes { try writeFully(fd, $0) }
            // The rename must not become visible before the data: otherwise a crash could leave a whole-looking
            // name over missing blocks.
            guard fsync(fd) == 0 else { throw Self.posixError("cannot sync \(tempPath)") }
        }
        guard rename(tempPath, finalPath) == 0 else { throw Self.posixError("cannot rename \(tempPath) to \(finalPath)") }
        renamed = true
        syncDirectory()
        bump { $0.stored += 1 }
        evictIfNeeded()
    }

    static func encodeHeader(_ key: FeatureKey, _ outputs: [VisionOutput]) throws -> [UInt8] {
        guard (1...maxViews).contains(outputs.count) else {
            throw ModelError("feature cache: \(outputs.count) views; expected 1...\(maxViews)")
        }
        var bytes = magic + [formatVersion]
        for field in [key.imageDigest, key.towerFingerprint, key.mode] {
            let utf8 = Array(field.utf8)
            guard utf8.count <= maxKeyFieldBytes else {
                throw ModelError("feature cache: key field of \(utf8.count) bytes; at most \(maxKeyFieldBytes)")
            }
            append(UInt32(utf8.count), to: &bytes)
            bytes += utf8
        }
        append(UInt32(outputs.count), to: &bytes)
        for (v, output) in outputs.enumerated() {
            let f = output.features.shape, a = output.clsAttention.shape
            guard f.count == 2, a.count == 2, f[0] == a[1],
                  (1...maxPatches).contains(f[0]), (1...maxWidth).contains(f[1]), (1...maxHeads).contains(a[0]) else {
                throw ModelError("feature cache: view \(v) has features \(f) and attention \(a); expected [N, Dv] and "
                                 + "[H, N] with N ≤ \(maxPatches), Dv ≤ \(maxWidth), H ≤ \(maxHeads)")
            }
            append(UInt32(f[0]), to: &bytes)
            append(UInt32(f[1]), to: &bytes)
            append(UInt32(a[0]), to: &bytes)
            append(output.milliseconds.bitPattern, to: &bytes)
        }
        return bytes
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    /// Makes the rename itself durable. Best effort: some filesystems refuse to sync a directory.
    private func syncDirectory() {
        let fd = open(directory.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    // MARK: - Eviction

    /// Deletes the least-recently-used `.vfeat` files until the rest fit in `maxBytes`. Other shards list,
    /// touch and delete concurrently, so a file may vanish between listing and deletion; that is not an error.
    private func evictIfNeeded() {
        var entries = regularFiles { $0.hasSuffix("." + Self.fileExtension) && !$0.hasPrefix(".") }
        var total = entries.reduce(Int64(0)) { $0 + $1.size }
        guard total > maxBytes else { return }
        // Oldest first; the name breaks ties so that every shard agrees on the order.
        entries.sort { ($0.mtime.tv_sec, $0.mtime.tv_nsec, $0.name) < ($1.mtime.tv_sec, $1.mtime.tv_nsec, $1.name) }
        for entry in entries {
            guard total > maxBytes else { break }
            if unlink(entry.path) == 0 {
                bump { $0.evicted += 1 }
                total -= entry.size
            } else if errno == ENOENT {
                total -= entry.size  // another shard evicted it
            }
        }
    }

    static func posixError(_ what: String) -> ModelError {
        ModelError("feature cache: \(what): \(String(cString: strerror(errno)))")
    }
}

/// Bounds-checked little-endian reads from a header buffer: nil past the end, never a trap.
private struct ByteCursor {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func bytes(_ count: Int) -> [UInt8]? {
        guard count >= 0, count <= bytes.count - offset else { return nil }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    mutating func u8() -> UInt8? { bytes(1).map { $0[0] } }

    mutating func u32() -> UInt32? {
        bytes(4).map { b in b.reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) } }
    }

    mutating func u64() -> UInt64? {
        bytes(8).map { b in b.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
    }
}

private func preadFully(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, at start: Int64) throws {
    var done = 0
    while done < buffer.count {
        let want = min(buffer.count - done, DiskFeatureCache.ioChunk)
        let got = pread(fd, buffer.baseAddress! + done, want, off_t(start + Int64(done)))
        if got < 0 && errno == EINTR { continue }
        // Short file (truncated since fstat) or an I/O error: either way the entry is unusable.
        guard got > 0 else { throw DiskFeatureCache.posixError("short read") }
        done += got
    }
}

private func writeFully(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) throws {
    var done = 0
    while done < buffer.count {
        let want = min(buffer.count - done, DiskFeatureCache.ioChunk)
        let wrote = write(fd, buffer.baseAddress! + done, want)
        if wrote < 0 && errno == EINTR { continue }
        guard wrote > 0 else { throw DiskFeatureCache.posixError("write failed") }
        done += wrote
    }
}
