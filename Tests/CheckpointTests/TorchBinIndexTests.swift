import Foundation
import XCTest
@testable import Checkpoint
import Tensor

/// `pytorch_model.bin.index.json` parsing and sharded loading.
final class TorchBinIndexTests: XCTestCase {
    private func writeIndex(_ json: String, in dir: TorchBinTempDir) throws -> URL {
        try dir.write(Array(json.utf8), "pytorch_model.bin.index.json")
    }

    private func shard(_ names: [String], values: [Float]) -> [UInt8] {
        let specs = names.enumerated().map { i, n in
            TorchBinBuilder.TensorSpec(name: n, storage: "FloatStorage", key: "\(i)", numel: 1, size: [1])
        }
        let storages = values.enumerated().map { ("\($0.offset)", TorchBinBuilder.floatBytes([$0.element])) }
        return TorchBinBuilder.archive(pickle: TorchBinBuilder.statePickle(specs), storages: storages)
    }

    func testIndexIsParsed() throws {
        let dir = try TorchBinTempDir()
        let url = try writeIndex(#"{"metadata": {"total_size": 16}, "weight_map": {"a": "m-1.bin", "b": "m-2.bin", "c": "m-1.bin"}}"#, in: dir)
        let index = try TorchCheckpoint.loadIndex(url)
        XCTAssertEqual(index, TorchShardIndex(weightMap: ["a": "m-1.bin", "b": "m-2.bin", "c": "m-1.bin"], totalSize: 16))
        XCTAssertEqual(index.shards, ["m-1.bin", "m-2.bin"])
        let noMetadata = try writeIndex(#"{"weight_map": {}}"#, in: dir)
        XCTAssertNil(try TorchCheckpoint.loadIndex(noMetadata).totalSize)
    }

    func testShardNamesMustBePlainFileNames() throws {
        let dir = try TorchBinTempDir()
        for bad in ["../x.bin", "sub/x.bin", "/etc/passwd", "..", ".", "", "a\\\\b.bin", "x..bin"] {
            let url = try writeIndex(#"{"weight_map": {"a": "\#(bad)"}}"#, in: dir)
            assertTorchBinError("not a plain file name") { try TorchCheckpoint.loadIndex(url) }
        }
    }

    func testMalformedIndexesAreRefused() throws {
        let dir = try TorchBinTempDir()
        let cases: [(String, String)] = [
            ("not json", "not valid JSON"),
            ("[1, 2]", "not a JSON object"),
            (#"{"metadata": {}}"#, "no \"weight_map\""),
            (#"{"weight_map": {"a": 3}}"#, "is not a string"),
            (#"{"weight_map": {}, "metadata": {"total_size": -1}}"#, "total_size"),
            (#"{"weight_map": {}, "metadata": {"total_size": "big"}}"#, "total_size"),
        ]
        for (json, fragment) in cases {
            let url = try writeIndex(json, in: dir)
            assertTorchBinError(fragment) { try TorchCheckpoint.loadIndex(url) }
        }
        assertTorchBinError("cannot read index") { try TorchCheckpoint.loadIndex(dir.url.appendingPathComponent("absent.json")) }
    }

    func testShardedLoadMergesAndChecksTheMap() throws {
        let dir = try TorchBinTempDir()
        _ = try dir.write(shard(["a", "c"], values: [1, 3]), "m-1.bin")
        _ = try dir.write(shard(["b"], values: [2]), "m-2.bin")
        let good = try writeIndex(#"{"weight_map": {"a": "m-1.bin", "b": "m-2.bin", "c": "m-1.bin"}}"#, in: dir)
        let merged = try TorchCheckpoint.loadSharded(index: good)
        XCTAssertEqual(merged.mapValues { $0.floats().data }, ["a": [1], "b": [2], "c": [3]])

        let misplaced = try writeIndex(#"{"weight_map": {"a": "m-2.bin", "b": "m-2.bin"}}"#, in: dir)
        assertTorchBinError("puts a in m-2.bin") { try TorchCheckpoint.loadSharded(index: misplaced) }

        _ = try dir.write(shard(["a", "b"], values: [1, 2]), "m-3.bin")
        let duplicated = try writeIndex(#"{"weight_map": {"a": "m-1.bin", "b": "m-3.bin"}}"#, in: dir)
        assertTorchBinError("more than one shard") { try TorchCheckpoint.loadSharded(index: duplicated) }

        let missingShard = try writeIndex(#"{"weight_map": {"a": "m-9.bin"}}"#, in: dir)
        assertTorchBinError("m-9.bin") { try TorchCheckpoint.loadSharded(index: missingShard) }
    }
}
