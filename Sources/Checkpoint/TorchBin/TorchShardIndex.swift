import Foundation

/// The contents of a `pytorch_model.bin.index.json`: which shard file holds each tensor.
public struct TorchShardIndex: Sendable, Equatable {
    /// Tensor name → shard file name (a bare file name in the index's folder).
    public let weightMap: [String: String]
    /// `metadata.total_size` when present (bytes of all tensors).
    public let totalSize: Int?

    /// The distinct shard file names, sorted.
    public var shards: [String] { Array(Set(weightMap.values)).sorted() }

    /// An index from its parts (normally obtained from `TorchCheckpoint.loadIndex`).
    public init(weightMap: [String: String], totalSize: Int?) {
        self.weightMap = weightMap
        self.totalSize = totalSize
    }
}

extension TorchCheckpoint {
    /// Largest index file accepted (a 7B model's is about 30 KB).
    static let maxIndexBytes = 64 << 20

    /// Parses a `pytorch_model.bin.index.json`. Shard names must be plain file names (no `/`, `\`, `..`),
    /// so an index can never point outside its own folder.
    public static func loadIndex(_ url: URL) throws -> TorchShardIndex {
        let path = url.path
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        if let size = attributes?[.size] as? Int, size > maxIndexBytes {
            throw CheckpointError("\(path): index is \(size) bytes (limit \(maxIndexBytes))")
        }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw CheckpointError("\(path): cannot read index (\(error.localizedDescription))")
        }
        guard data.count <= maxIndexBytes else { throw CheckpointError("\(path): index larger than \(maxIndexBytes) bytes") }
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: data) } catch {
            throw CheckpointError("\(path): index is not valid JSON (\(error.localizedDescription))")
        }
        guard let object = json as? [String: Any] else { throw CheckpointError("\(path): index is not a JSON object") }
        guard let map = object["weight_map"] as? [String: Any] else {
            throw CheckpointError("\(path): index has no \"weight_map\" object")
        }
        var weightMap: [String: String] = [:]
        for (tensor, value) in map {
            guard let shard = value as? String else {
                throw CheckpointError("\(path): weight_map[\"\(tensor)\"] is not a string")
            }
            guard isPlainFileName(shard) else {
                throw CheckpointError("\(path): weight_map[\"\(tensor)\"] names shard '\(shard)', which is not a plain file name")
            }
            weightMap[tensor] = shard
        }
        var totalSize: Int?
        if let metadata = object["metadata"] as? [String: Any], let total = metadata["total_size"] {
            guard let n = total as? NSNumber, n.doubleValue >= 0, n.doubleValue == n.doubleValue.rounded(), n.doubleValue < 9e18 else {
                throw CheckpointError("\(path): metadata.total_size is not a non-negative integer")
            }
            totalSize = n.intValue
        }
        return TorchShardIndex(weightMap: weightMap, totalSize: totalSize)
    }

    /// Loads every shard an index names (from the index's folder) and merges their tensors.
    /// Each tensor the index maps must be in its shard (as a tensor or a skipped non-float buffer);
    /// a name present in two shards is an error.
    public static func loadSharded(index url: URL) throws -> [String: StoredTensor] {
        let index = try loadIndex(url)
        let folder = url.deletingLastPathComponent()
        var merged: [String: StoredTensor] = [:]
        var expected: [String: [String]] = [:]
        for (tensor, shard) in index.weightMap { expected[shard, default: []].append(tensor) }
        for shard in index.shards {
            let contents = try loadContents(folder.appendingPathComponent(shard))
            for name in expected[shard] ?? [] where contents.tensors[name] == nil && contents.skipped[name] == nil {
                throw CheckpointError("\(url.path): weight_map puts \(name) in \(shard), which does not contain it")
            }
            for (name, tensor) in contents.tensors {
                guard merged[name] == nil else {
                    throw CheckpointError("\(url.path): tensor \(name) appears in more than one shard (again in \(shard))")
                }
                merged[name] = tensor
            }
        }
        return merged
    }

    static func isPlainFileName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 255 && name != "." && !name.contains("..")
            && !name.contains("/") && !name.contains("\\") && !name.utf8.contains(0)
    }
}
