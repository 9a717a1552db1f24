import Foundation

/// Everything found in one torch.save archive.
public struct TorchCheckpointContents: @unchecked Sendable {
    /// Floating-point (F16/BF16/F32) tensors by state-dict key, mapped in place.
    public let tensors: [String: StoredTensor]
    /// State-dict keys in the order the file lists them (tensors only).
    public let order: [String]
    /// Keys that were not loaded, with the reason (integer buffers such as CLIP's `position_ids`,
    /// float64 tensors, non-tensor values).
    public let skipped: [String: String]
}

/// Reads PyTorch `torch.save` checkpoints (`pytorch_model.bin`, `pytorch_model-0000N-of-0000M.bin`) without
/// Python: the zip container is mapped and the `data.pkl` pickle is interpreted by a restricted unpickler
/// that accepts only the globals torch uses to describe tensors. Tensor bytes are never copied.
public enum TorchCheckpoint {
    /// Bounds applied while reading; the defaults fit multi-gigabyte LLaVA shards.
    public struct Options: Sendable {
        /// Bounds on the zip central directory.
        public var zip = ZipDirectory.Limits()
        /// Bounds on the `data.pkl` interpreter.
        public var unpickler = UnpicklerLimits()
        /// Largest `data.pkl` accepted (a 7B shard's is well under 1 MiB).
        public var maxPickleBytes = 1 << 26
        /// Also CRC-check every storage member (reads the whole file; off by default).
        public var verifyStorageChecksums = false
        /// The defaults.
        public init() {}
    }

    /// The floating-point tensors of a torch.save archive, keyed by state-dict name.
    public static func load(_ url: URL) throws -> [String: StoredTensor] {
        try loadContents(url).tensors
    }

    /// The tensors of a torch.save archive together with the keys that were skipped.
    public static func loadContents(_ url: URL, options: Options = Options()) throws -> TorchCheckpointContents {
        let file = try MappedFile(url: url)
        let zip = try ZipDirectory(file: file, limits: options.zip)
        let path = url.path

        // torch.save puts every member under one top-level folder whose name varies with the torch
        // version ("archive", or the file's stem), so find it from data.pkl.
        let pickles = zip.entries.filter { $0.name.hasSuffix("/data.pkl") && $0.name.split(separator: "/", omittingEmptySubsequences: false).count == 2 }
        guard pickles.count == 1, let pickle = pickles.first else {
            throw CheckpointError("\(path): \(pickles.isEmpty ? "no" : "more than one") <archive>/data.pkl member; "
                + "not a torch.save checkpoint")
        }
        let prefix = String(pickle.name.dropLast("data.pkl".count))
        if let order = zip.entry(named: prefix + "byteorder") {
            let text = String(decoding: try zip.storedBytes(order), as: UTF8.self)
            guard text == "little" else {
                throw CheckpointError("\(path): byteorder is '\(text.prefix(16))'; only little-endian checkpoints are supported")
            }
        }
        guard pickle.method == 0 else {
            throw CheckpointError("\(path): \(pickle.name) is compressed (method \(pickle.method)); torch.save writes it "
                + "stored, and compressed pickles are not supported")
        }
        guard pickle.compressedSize <= options.maxPickleBytes else {
            throw CheckpointError("\(path): \(pickle.name) is \(pickle.compressedSize) bytes (limit \(options.maxPickleBytes))")
        }
        try zip.verifyChecksum(pickle)

        var storages: [String: TorchStorageRef] = [:]
        let persistentLoad: RestrictedUnpickler.PersistentLoad = { pid in
            let ref = try resolveStorage(pid, zip: zip, prefix: prefix, path: path, verify: options.verifyStorageChecksums)
            if let seen = storages[ref.key] {
                guard seen.kind == ref.kind, seen.elementCount == ref.elementCount else {
                    throw CheckpointError("\(path): storage \(ref.key) is referenced as both \(seen.kind.rawValue)"
                        + "[\(seen.elementCount)] and \(ref.kind.rawValue)[\(ref.elementCount)]")
                }
            }
            storages[ref.key] = ref
            return .storage(ref)
        }
        var unpickler = RestrictedUnpickler(bytes: try zip.storedBytes(pickle), context: "\(path): \(pickle.name)",
                                            limits: options.unpickler, persistentLoad: persistentLoad,
                                            buildTensor: { try contiguousTensor($0, offset: $1, size: $2, stride: $3) })
        return try unpickler.run { try collect($0, file: file, path: path) }
    }

    // MARK: - Storages and tensors

    /// Interprets a persistent id `('storage', torch.XStorage, key, location, numel)` as a zip member.
    static func resolveStorage(_ pid: PickleValue, zip: ZipDirectory, prefix: String, path: String,
                               verify: Bool) throws -> TorchStorageRef
    {
        guard case .tuple(let t) = pid, case let f = t.items, f.count == 5, case .string("storage") = f[0] else {
            throw CheckpointError("\(path): persistent id is a \(pid.kindName), expected ('storage', type, key, location, numel)")
        }
        guard case .global(.storageType(let kind)) = f[1] else {
            throw CheckpointError("\(path): persistent id storage type is a \(f[1].kindName)")
        }
        guard case .string(let key) = f[2], isSafeKey(key) else {
            throw CheckpointError("\(path): persistent id key \(f[2].kindName) is not a plain storage name")
        }
        guard case .string = f[3] else { throw CheckpointError("\(path): storage \(key) location is a \(f[3].kindName)") }
        guard case .int(let numel) = f[4], numel >= 0 else {
            throw CheckpointError("\(path): storage \(key) element count is a \(f[4].kindName)")
        }
        let memberName = prefix + "data/" + key
        guard let entry = zip.entry(named: memberName) else {
            throw CheckpointError("\(path): storage \(key) has no member \(memberName) in the archive")
        }
        let (bytes, overflow) = numel.multipliedReportingOverflow(by: kind.elementSize)
        guard !overflow, bytes <= entry.compressedSize else {
            throw CheckpointError("\(path): storage \(key) declares \(numel) × \(kind.rawValue) but its member holds only "
                + "\(entry.compressedSize) bytes")
        }
        _ = try zip.storedBytes(entry) // refuses compressed members
        // Element loads assume natural alignment; torch.save aligns every member to 64 bytes.
        guard entry.dataOffset % kind.elementSize == 0 else {
            throw CheckpointError("\(path): storage \(key) starts at offset \(entry.dataOffset), not aligned to "
                + "\(kind.elementSize) bytes")
        }
        if verify { try zip.verifyChecksum(entry) }
        return TorchStorageRef(key: key, kind: kind, elementCount: numel, entry: entry)
    }

    /// torch names storages by small integers; anything path-like is refused outright.
    static func isSafeKey(_ key: String) -> Bool {
        !key.isEmpty && key.count <= 64 && key.utf8.allSatisfy {
            ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x5F
        }
    }

    /// A tensor view of `storage`, which must be row-major contiguous and lie inside the storage.
    static func contiguousTensor(_ storage: TorchStorageRef, offset: Int, size: [Int], stride: [Int]) throws -> TorchTensorRef {
        guard size.count == stride.count else {
            throw CheckpointError("tensor size \(size) and stride \(stride) differ in rank")
        }
        var count = 1
        for d in size {
            guard d >= 0 else { throw CheckpointError("tensor size \(size) has a negative dimension") }
            let (p, o) = count.multipliedReportingOverflow(by: d)
            guard !o else { throw CheckpointError("tensor size \(size) overflows") }
            count = p
        }
        if count > 0 {
            var expected = 1
            for i in stride.indices.reversed() {
                // torch ignores the stride of a size-1 dimension when deciding contiguity, and so do we.
                if size[i] != 1, stride[i] != expected {
                    throw CheckpointError("tensor size \(size) has stride \(stride), which is not contiguous row-major "
                        + "(expected \(rowMajorStrides(size))); re-save it with .contiguous()")
                }
                expected *= size[i]
            }
        }
        let (end, o) = offset.addingReportingOverflow(count)
        guard offset >= 0, !o, end <= storage.elementCount else {
            throw CheckpointError("tensor size \(size) at storage offset \(offset) runs past storage \(storage.key) "
                + "of \(storage.elementCount) elements")
        }
        return TorchTensorRef(kind: storage.kind, shape: size, fileOffset: storage.entry.dataOffset + offset * storage.kind.elementSize,
                              storageKey: storage.key)
    }

    private static func rowMajorStrides(_ size: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: size.count)
        var acc = 1
        for i in size.indices.reversed() {
            s[i] = acc
            acc *= size[i]
        }
        return s
    }

    /// Turns the unpickled root (a dict or OrderedDict of tensors) into `StoredTensor`s.
    static func collect(_ root: PickleValue, file: MappedFile, path: String) throws -> TorchCheckpointContents {
        guard case .dict(let dict) = root else {
            throw CheckpointError("\(path): checkpoint root is a \(root.kindName), expected a state dict")
        }
        var tensors: [String: StoredTensor] = [:]
        var order: [String] = []
        var skipped: [String: String] = [:]
        for key in dict.keys {
            guard case .string(let name) = key, let value = dict.values[key] else {
                throw CheckpointError("\(path): state dict has a non-string key")
            }
            guard case .tensor(let t) = value else {
                skipped[name] = "not a tensor (\(value.kindName))"
                continue
            }
            guard let dtype = t.kind.storedDType else {
                skipped[name] = "unsupported element type torch.\(t.kind.rawValue)"
                continue
            }
            tensors[name] = try StoredTensor(name: name, dtype: dtype, shape: t.shape, file: file, offset: t.fileOffset)
            order.append(name)
        }
        return TorchCheckpointContents(tensors: tensors, order: order, skipped: skipped)
    }
}
