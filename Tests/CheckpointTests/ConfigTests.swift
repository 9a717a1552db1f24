import Checkpoint
import Foundation
import TestSupport
import XCTest

final class ConfigTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testTinyLLaVAConfig() throws {
        let c = try LLaVAConfig.load(directory: try Fixtures.require("fixtures/llava15-tiny"))
        XCTAssertEqual(c.hiddenSize, 64)
        XCTAssertEqual(c.intermediateSize, 172)
        XCTAssertEqual(c.numAttentionHeads, 4)
        XCTAssertEqual(c.numKeyValueHeads, 4)
        XCTAssertEqual(c.numHiddenLayers, 2)
        XCTAssertEqual(c.vocabSize, 32000)
        XCTAssertEqual(c.ropeTheta, 10000)
        XCTAssertEqual(c.rmsNormEps, 1e-5)
        XCTAssertEqual(c.tokenizerModelMaxLength, 2048)
        XCTAssertEqual(c.mmVisionTower, "../clip-tiny")
        XCTAssertEqual(c.mmVisionSelectLayer, -2)
        XCTAssertEqual(c.mmVisionSelectFeature, "patch")
        XCTAssertEqual(c.projectorType, .mlpGELU(depth: 2))
        XCTAssertEqual(c.imageAspectRatio, "pad")
        XCTAssertEqual(c.eosTokenID, 2)
        XCTAssertEqual(c.bosTokenID, 1)
    }

    func testTinyLLaVA16ConfigPinpoints() throws {
        let c = try LLaVAConfig.load(directory: try Fixtures.require("fixtures/llava16-tiny"))
        XCTAssertEqual(c.imageAspectRatio, "anyres")
        XCTAssertEqual(c.imageGridPinpoints?.first, [336, 672])
        XCTAssertEqual(c.mmPatchMergeType, "spatial_unpad")
    }

    func testTinyCLIPConfig() throws {
        let c = try CLIPVisionConfig.load(directory: try Fixtures.require("fixtures/clip-tiny"))
        XCTAssertEqual(c.hiddenSize, 64)
        XCTAssertEqual(c.numHiddenLayers, 3)
        XCTAssertEqual(c.imageSize, 336)
        XCTAssertEqual(c.patchSize, 14)
        XCTAssertEqual(c.numPatches, 576)
        XCTAssertEqual(c.hiddenAct, "quick_gelu")
    }

    func testFullCLIPModelConfigUsesVisionConfig() throws {
        let json = #"{"architectures":["CLIPModel"],"text_config":{"hidden_size":768},"vision_config":{"hidden_size":1024,"intermediate_size":4096,"num_attention_heads":16,"num_hidden_layers":24,"image_size":336,"patch_size":14}}"#
        try Data(json.utf8).write(to: dir.appendingPathComponent("config.json"))
        let c = try CLIPVisionConfig.load(directory: dir)
        XCTAssertEqual(c.hiddenSize, 1024)
        XCTAssertEqual(c.numPatches, 576)
        XCTAssertEqual(c.hiddenAct, "quick_gelu")
        XCTAssertEqual(c.layerNormEps, 1e-5)
    }

    func llavaJSON(_ overrides: [String: Any]) throws {
        var obj: [String: Any] = [
            "architectures": ["LlavaLlamaForCausalLM"], "model_type": "llava_llama", "hidden_size": 64,
            "intermediate_size": 172, "num_attention_heads": 4, "num_hidden_layers": 2, "vocab_size": 32000,
            "mm_projector_type": "mlp2x_gelu", "mm_hidden_size": 64, "mm_vision_tower": "openai/clip-vit-large-patch14-336",
        ]
        for (k, v) in overrides { obj[k] = v }
        try JSONSerialization.data(withJSONObject: obj).write(to: dir.appendingPathComponent("config.json"))
    }

    func testDefaultsAndGenerationConfig() throws {
        try llavaJSON([:])
        try Data(#"{"bos_token_id":1,"eos_token_id":[7,2]}"#.utf8).write(to: dir.appendingPathComponent("generation_config.json"))
        let c = try LLaVAConfig.load(directory: dir)
        XCTAssertEqual(c.ropeTheta, 10000)
        XCTAssertEqual(c.numKeyValueHeads, 4)
        XCTAssertEqual(c.eosTokenID, 7)
        XCTAssertNil(c.tokenizerModelMaxLength)
    }

    func testUnsupportedSettingsAreErrors() throws {
        let bad: [([String: Any], String)] = [
            (["mm_projector_type": "qformer"], "mm_projector_type"),
            (["architectures": ["MistralForCausalLM"], "model_type": "mistral"], "unsupported architecture"),
            (["num_key_value_heads": 3], "num_key_value_heads"),
            (["rope_scaling": ["type": "linear", "factor": 2]], "rope_scaling"),
            (["hidden_size": 0], "hidden_size"),
        ]
        for (override, needle) in bad {
            try llavaJSON(override)
            XCTAssertThrowsError(try LLaVAConfig.load(directory: dir)) { e in
                XCTAssertTrue("\(e)".contains(needle), "'\(e)' should mention \(needle)")
            }
        }
        try Data(#"{"hidden_size":64}"#.utf8).write(to: dir.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try LLaVAConfig.load(directory: dir)) { e in
            XCTAssertTrue("\(e)".contains("intermediate_size"), "\(e)")
        }
    }

    func testProjectorTypeParsing() {
        XCTAssertEqual(ProjectorType(configName: "linear"), .linear)
        XCTAssertEqual(ProjectorType(configName: "mlp2x_gelu"), .mlpGELU(depth: 2))
        XCTAssertEqual(ProjectorType(configName: "mlp3x_gelu"), .mlpGELU(depth: 3))
        XCTAssertNil(ProjectorType(configName: "identity"))
        XCTAssertNil(ProjectorType(configName: "mlpx_gelu"))
    }
}

final class VisionTowerLocatorTests: XCTestCase {
    func testRelativePathFromFixtures() throws {
        let model = try Fixtures.require("fixtures/llava15-tiny")
        let url = try VisionTowerLocator.resolve("../clip-tiny", modelDirectory: model, override: nil)
        XCTAssertEqual(url.lastPathComponent, "clip-tiny")
        XCTAssertTrue(FileManager.default.fileExists(atPath: url.appendingPathComponent("config.json").path))
    }

    func testOverrideWinsAndAbsolutePath() throws {
        let model = try Fixtures.require("fixtures/llava15-tiny")
        let clip = try Fixtures.require("fixtures/clip-tiny")
        XCTAssertEqual(try VisionTowerLocator.resolve("openai/clip-vit-large-patch14-336", modelDirectory: model, override: clip), clip)
        XCTAssertEqual(try VisionTowerLocator.resolve(clip.path, modelDirectory: model, override: nil).path, clip.path)
        XCTAssertThrowsError(try VisionTowerLocator.resolve("x", modelDirectory: model, override: model.appendingPathComponent("nope")))
    }

    func testHubCacheLookup() throws {
        let fm = FileManager.default
        let home = fm.temporaryDirectory.appendingPathComponent("hf-\(UUID().uuidString)")
        defer { try? fm.removeItem(at: home) }
        let repo = home.appendingPathComponent("hub/models--openai--clip-vit-large-patch14-336")
        let snap = repo.appendingPathComponent("snapshots/abc123")
        try fm.createDirectory(at: snap, withIntermediateDirectories: true)
        try fm.createDirectory(at: repo.appendingPathComponent("refs"), withIntermediateDirectories: true)
        try Data("abc123\n".utf8).write(to: repo.appendingPathComponent("refs/main"))
        try Data("{}".utf8).write(to: snap.appendingPathComponent("config.json"))
        let found = try VisionTowerLocator.resolve("openai/clip-vit-large-patch14-336", modelDirectory: home,
                                                   override: nil, environment: ["HF_HOME": home.path, "HOME": "/nonexistent"])
        XCTAssertEqual(found.standardizedFileURL.path, snap.standardizedFileURL.path)
        XCTAssertThrowsError(try VisionTowerLocator.resolve("openai/other", modelDirectory: home, override: nil,
                                                            environment: ["HF_HOME": home.path, "HOME": "/nonexistent"])) { e in
            XCTAssertTrue("\(e)".contains("not found"), "\(e)")
        }
    }
}
