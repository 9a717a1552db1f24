import XCTest
import TestSupport
import Tensor
import Checkpoint
@testable import Model

/// PyTorch `.bin` checkpoints through WeightStore into the model, as openai/clip-vit-large-patch14-336 and
/// liuhaotian/llava-v1.5-7b ship them: the same tower from `.bin` and from safetensors gives identical output.
final class TorchBinCheckpointTests: XCTestCase {
    let binTower = Fixtures.repoRoot.appendingPathComponent("Tests/CheckpointTests/Resources/TorchBin/clip-tiny-bin")

    func testVisionTowerFromTorchBinMatchesSafetensors() throws {
        let safetensorsTower = try Fixtures.require("fixtures/clip-tiny")
        let store = try WeightStore(directory: binTower)
        XCTAssertThrowsError(try store.tensor("vision_model.embeddings.position_ids")) // int64 buffer: skipped, named
        let model = try Fixtures.require("fixtures/llava15-tiny")
        let fromBin = try LLaVAModel(directory: model, visionTower: binTower)
        let fromSafetensors = try LLaVAModel(directory: model, visionTower: safetensorsTower)
        let c = try XCTUnwrap(try Fixtures.jsonLines("fixtures/llava15/cases.jsonl").first)
        let pixels = try Npy.readTensor(contentsOf: try Fixtures.require("fixtures/llava15/" + (c["pixels"] as! String)))
        let a = try fromBin.encode(pixels: pixels), b = try fromSafetensors.encode(pixels: pixels)
        XCTAssertEqual(a.features, b.features)
        XCTAssertEqual(a.clsAttention, b.clsAttention)
        let recorded = try Npy.readTensor(contentsOf: try Fixtures.require("fixtures/llava15/" + (c["features"] as! String)))
        XCTAssertLessThanOrEqual(a.features.maxAbsDifference(recorded), 1e-4)
    }

    func testShardedTorchBinIndexIsFollowed() throws {
        let src = Fixtures.repoRoot.appendingPathComponent("Tests/CheckpointTests/Resources/TorchBin")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bin-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for f in ["shard-1.bin", "shard-2.bin"] {
            try FileManager.default.copyItem(at: src.appendingPathComponent(f), to: dir.appendingPathComponent(f))
        }
        try FileManager.default.copyItem(at: src.appendingPathComponent("index.json"),
                                         to: dir.appendingPathComponent("pytorch_model.bin.index.json"))
        let store = try WeightStore(directory: dir)
        let direct = try TorchCheckpoint.loadSharded(index: dir.appendingPathComponent("pytorch_model.bin.index.json"))
        XCTAssertEqual(Set(store.names), Set(direct.keys))
        for (name, t) in direct { XCTAssertEqual(try store.tensor(name).floats(), t.floats(), name) }
    }
}
