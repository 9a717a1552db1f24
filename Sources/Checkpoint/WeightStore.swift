import Foundation

/// All tensors of one model folder, by name, memory-mapped.
///
/// Opens a `*.safetensors` file set (or a sharded one described by `model.safetensors.index.json`),
/// else PyTorch `.bin` weights (`pytorch_model.bin` or `pytorch_model.bin.index.json` shards) as
/// liuhaotian/llava-v1.5-7b and openai/clip-vit-large-patch14-336 ship them.
public final class WeightStore {
    /// Where the tensors came from, for error messages.
    public let source: String
    private var table: [String: StoredTensor]
    private var unsupported: [String: String]
    /// Shard files kept alive for the mappings.
    public private(set) var files: [SafetensorsFile] = []

    /// Index files larger than this are refused (real ones are ~100 KB).
    static let maxIndexBytes = 64 * 1024 * 1024

    /// Opens the checkpoint in `directory` (safetensors preferred, else PyTorch `.bin`).
    public init(directory: URL) throws {
        source = directory.path
        table = [:]
        unsupported = [:]
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: directory.path, isDirectory: &isDir), isDir.boolValue else {
            throw CheckpointError("\(directory.path): model folder does not exist")
        }
        let index = directory.appendingPathComponent("model.safetensors.index.json")
        var shardNames: [String]
        if fm.fileExists(atPath: index.path) {
            shardNames = try Self.shardNames(fromIndex: index)
        } else {
            let entries = (try? fm.contentsOfDirectory(atPath: directory.path)) ?? []
            shardNames = entries.filter { $0.hasSuffix(".safetensors") }.sorted()
        }
        guard !shardNames.isEmpty else {
            try loadTorchBin(directory: directory)
            return
        }
        for shard in shardNames {
            let file = try SafetensorsFile(url: directory.appendingPathComponent(shard))
            files.append(file)
            for (name, t) in file.tensors {
                guard table[name] == nil, unsupported[name] == nil else {
                    throw CheckpointError("\(directory.path): tensor \(name) appears in more than one shard (\(shard))")
                }
                table[name] = t
            }
            for (name, d) in file.unsupportedTensors {
                guard table[name] == nil, unsupported[name] == nil else {
                    throw CheckpointError("\(directory.path): tensor \(name) appears in more than one shard (\(shard))")
                }
                unsupported[name] = d
            }
        }
    }

    /// PyTorch `torch.save` checkpoints (`pytorch_model.bin`, or shards listed in
    /// `pytorch_model.bin.index.json`), read by the restricted unpickler (see TorchBin/).
    private func loadTorchBin(directory: URL) throws {
        let fm = FileManager.default
        let index = directory.appendingPathComponent("pytorch_model.bin.index.json")
        let shards: [String]
        if fm.fileExists(atPath: index.path) {
            shards = try TorchCheckpoint.loadIndex(index).shards
        } else {
            shards = ((try? fm.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".bin") }.sorted()
        }
        guard !shards.isEmpty else {
            throw CheckpointError("\(directory.path): no *.safetensors or PyTorch *.bin weights (or their index) found")
        }
        for shard in shards {
            let contents = try TorchCheckpoint.loadContents(directory.appendingPathComponent(shard))
            for (name, t) in contents.tensors {
                guard table[name] == nil, unsupported[name] == nil else {
                    throw CheckpointError("\(directory.path): tensor \(name) appears in more than one shard (\(shard))")
                }
                table[name] = t
            }
            for (name, why) in contents.skipped where table[name] == nil { unsupported[name] = why }
        }
    }

    /// Wraps tensors loaded by another reader (e.g. PyTorch `.bin`).
    public init(tensors: [String: StoredTensor], source: String) {
        self.table = tensors
        self.unsupported = [:]
        self.source = source
    }

    /// Merges another store's tensors (e.g. a vision tower shipped inside the language checkpoint).
    public func merge(_ other: WeightStore) throws {
        for (name, t) in other.table {
            guard table[name] == nil else { throw CheckpointError("\(source): tensor \(name) also present in \(other.source)") }
            table[name] = t
        }
        files += other.files
    }

    /// Reads `weight_map` of a sharded index and returns the distinct shard file names.
    static func shardNames(fromIndex url: URL) throws -> [String] {
        let attrs = try? FileManager.default.attributesOfItem(atPath: url.path)
        if let size = attrs?[.size] as? NSNumber, size.intValue > maxIndexBytes {
            throw CheckpointError("\(url.path): index file is larger than \(maxIndexBytes) bytes")
        }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw CheckpointError("\(url.path): cannot read (\(error.localizedDescription))")
        }
        guard let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw CheckpointError("\(url.path): not a JSON object")
        }
        guard let map = obj["weight_map"] as? [String: Any] else {
            throw CheckpointError("\(url.path): missing weight_map")
        }
        var names = Set<String>()
        for (tensor, value) in map {
            guard let shard = value as? String else {
                throw CheckpointError("\(url.path): weight_map entry for \(tensor) is not a string")
            }
            // Shards must sit beside the index: refuse anything that could escape the folder.
            guard !shard.isEmpty, !shard.contains("/"), !shard.contains("\\"), shard != ".", !shard.contains("..") else {
                throw CheckpointError("\(url.path): weight_map entry for \(tensor) names shard '\(shard)', which is not a plain file name")
            }
            names.insert(shard)
        }
        return names.sorted()
    }

    /// All tensor names with a supported dtype, sorted.
    public var names: [String] { table.keys.sorted() }

    public func contains(_ name: String) -> Bool { table[name] != nil }

    /// The tensor called `name`, or an error naming it and the folder.
    public func tensor(_ name: String) throws -> StoredTensor {
        if let t = table[name] { return t }
        if let d = unsupported[name] {
            throw CheckpointError("\(source): tensor \(name) has dtype \(d); only F16, BF16 and F32 are supported")
        }
        throw CheckpointError("tensor \(name) missing in \(source)")
    }

    /// The tensor called `name`, checked to have exactly `shape`.
    public func tensor(_ name: String, shape: [Int]) throws -> StoredTensor {
        let t = try tensor(name)
        try Self.expectShape(t, shape)
        return t
    }

    /// Throws an error naming the tensor when its shape differs from `shape` (usually from the config).
    public static func expectShape(_ t: StoredTensor, _ shape: [Int]) throws {
        guard t.shape == shape else {
            throw CheckpointError("\(t.file.url.path): tensor \(t.name) has shape \(t.shape), but the config implies \(shape)")
        }
    }
}
