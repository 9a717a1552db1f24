import Foundation

/// Writes LLaVA-1.5 checkpoints of real shape with random fp16 weights (and the CLIP ViT-L/14-336
/// tower), in the real on-disk layout: sharded safetensors + index, config.json, tokenizer files.
/// For speed and memory measurements only (7B ≈ 13 GB; never commit one).
public enum RandomLLaVA {
    public struct Geometry: Sendable, Equatable {
        public var hidden: Int, intermediate: Int, heads: Int, layers: Int
        public static let llama7B = Geometry(hidden: 4096, intermediate: 11008, heads: 32, layers: 32)
        public static let llama13B = Geometry(hidden: 5120, intermediate: 13824, heads: 40, layers: 40)
    }

    public static let vocabulary = 32000
    public static let clipWidth = 1024, clipLayers = 24, clipMLP = 4096, clipPositions = 577

    /// Folders written by `write`.
    public struct Paths: Sendable {
        public let model: URL
        public let tower: URL
    }

    /// Writes (or reuses, if a previous call with the same arguments completed) the checkpoint under
    /// `root`. `tokenizerFrom` is a LLaVA folder whose tokenizer and config files are copied.
    public static func write(to root: URL, geometry: Geometry, name: String, tokenizerFrom: URL) throws -> Paths {
        let fm = FileManager.default
        let model = root.appendingPathComponent(name), tower = root.appendingPathComponent("clip-vit-large-patch14-336-random")
        let stamp = "\(geometry)"
        if (try? String(contentsOf: model.appendingPathComponent(".complete"), encoding: .utf8)) == stamp,
           fm.fileExists(atPath: tower.appendingPathComponent(".complete").path) {
            return Paths(model: model, tower: tower)
        }
        try fm.createDirectory(at: model, withIntermediateDirectories: true)
        try fm.createDirectory(at: tower, withIntermediateDirectories: true)
        let block = randomHalfBlock()

        if !fm.fileExists(atPath: tower.appendingPathComponent(".complete").path) {
            try writeTower(tower, block: block, preprocessorFrom: tokenizerFrom)
            try Data("clip".utf8).write(to: tower.appendingPathComponent(".complete"))
        }

        let H = geometry.hidden, I = geometry.intermediate, V = vocabulary, D = clipWidth
        let head: [TensorSpec] = [
            .init("model.embed_tokens.weight", [V, H]),
            .init("model.mm_projector.0.weight", [H, D]), .init("model.mm_projector.0.bias", [H]),
            .init("model.mm_projector.2.weight", [H, H]), .init("model.mm_projector.2.bias", [H]),
        ]
        var layers: [TensorSpec] = []
        for i in 0..<geometry.layers {
            let p = "model.layers.\(i)."
            layers += [.init(p + "input_layernorm.weight", [H], ones: true),
                       .init(p + "post_attention_layernorm.weight", [H], ones: true)]
            for n in ["q_proj", "k_proj", "v_proj", "o_proj"] { layers.append(.init(p + "self_attn.\(n).weight", [H, H])) }
            layers += [.init(p + "mlp.gate_proj.weight", [I, H]), .init(p + "mlp.up_proj.weight", [I, H]),
                       .init(p + "mlp.down_proj.weight", [H, I])]
        }
        let tail: [TensorSpec] = [.init("model.norm.weight", [H], ones: true), .init("lm_head.weight", [V, H])]
        let half = layers.count / 2
        let shards: [[TensorSpec]] = [head + Array(layers[..<half]), Array(layers[half...]) + tail]
        var weightMap: [String: String] = [:]
        var total = 0
        for (k, tensors) in shards.enumerated() {
            let file = String(format: "model-%05d-of-%05d.safetensors", k + 1, shards.count)
            total += try SafetensorsWriter.write(tensors, to: model.appendingPathComponent(file), block: block)
            for t in tensors { weightMap[t.name] = file }
        }
        let index: [String: Any] = ["metadata": ["total_size": total], "weight_map": weightMap]
        try JSONSerialization.data(withJSONObject: index, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            .write(to: model.appendingPathComponent("model.safetensors.index.json"))

        let configData = try Data(contentsOf: tokenizerFrom.appendingPathComponent("config.json"))
        guard var config = try JSONSerialization.jsonObject(with: configData) as? [String: Any] else {
            throw RandomCheckpointError("\(tokenizerFrom.path)/config.json is not a JSON object")
        }
        config["hidden_size"] = H
        config["intermediate_size"] = I
        config["num_attention_heads"] = geometry.heads
        config["num_key_value_heads"] = geometry.heads
        config["num_hidden_layers"] = geometry.layers
        config["vocab_size"] = V
        config["mm_hidden_size"] = D
        config["mm_vision_tower"] = "../clip-vit-large-patch14-336-random"
        try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            .write(to: model.appendingPathComponent("config.json"))
        for f in ["tokenizer.model", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"] {
            let dst = model.appendingPathComponent(f)
            try? fm.removeItem(at: dst)
            try fm.copyItem(at: tokenizerFrom.appendingPathComponent(f), to: dst)
        }
        try Data(stamp.utf8).write(to: model.appendingPathComponent(".complete"))
        return Paths(model: model, tower: tower)
    }

    private static func writeTower(_ tower: URL, block: [UInt16], preprocessorFrom: URL) throws {
        let D = clipWidth
        var t: [TensorSpec] = [
            .init("vision_model.embeddings.class_embedding", [D]),
            .init("vision_model.embeddings.patch_embedding.weight", [D, 3, 14, 14]),
            .init("vision_model.embeddings.position_embedding.weight", [clipPositions, D]),
            .init("vision_model.pre_layrnorm.weight", [D], ones: true), .init("vision_model.pre_layrnorm.bias", [D]),
            .init("vision_model.post_layernorm.weight", [D], ones: true), .init("vision_model.post_layernorm.bias", [D]),
        ]
        for i in 0..<clipLayers {
            let p = "vision_model.encoder.layers.\(i)."
            for n in ["q_proj", "k_proj", "v_proj", "out_proj"] {
                t += [.init(p + "self_attn.\(n).weight", [D, D]), .init(p + "self_attn.\(n).bias", [D])]
            }
            t += [.init(p + "layer_norm1.weight", [D], ones: true), .init(p + "layer_norm1.bias", [D]),
                  .init(p + "layer_norm2.weight", [D], ones: true), .init(p + "layer_norm2.bias", [D]),
                  .init(p + "mlp.fc1.weight", [clipMLP, D]), .init(p + "mlp.fc1.bias", [clipMLP]),
                  .init(p + "mlp.fc2.weight", [D, clipMLP]), .init(p + "mlp.fc2.bias", [D])]
        }
        _ = try SafetensorsWriter.write(t, to: tower.appendingPathComponent("model.safetensors"), block: block)
        let config: [String: Any] = [
            "architectures": ["CLIPVisionModel"], "hidden_act": "quick_gelu", "hidden_size": D, "image_size": 336,
            "intermediate_size": clipMLP, "layer_norm_eps": 1e-5, "model_type": "clip_vision_model",
            "num_attention_heads": 16, "num_channels": 3, "num_hidden_layers": clipLayers, "patch_size": 14,
            "projection_dim": 768, "torch_dtype": "float16",
        ]
        try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            .write(to: tower.appendingPathComponent("config.json"))
        // The tiny demo tower's preprocessor config is the real CLIP ViT-L/14-336 one.
        let demoTower = preprocessorFrom.deletingLastPathComponent().appendingPathComponent("clip-tiny/preprocessor_config.json")
        let dst = tower.appendingPathComponent("preprocessor_config.json")
        try? FileManager.default.removeItem(at: dst)
        if FileManager.default.fileExists(atPath: demoTower.path) { try FileManager.default.copyItem(at: demoTower, to: dst) }
    }

    /// 4 Mi + 7 fp16 values ~ N(0, 0.02), repeated through every tensor: real-looking magnitudes
    /// without drawing billions of random numbers (the odd length keeps rows from lining up).
    static func randomHalfBlock() -> [UInt16] {
        var state: UInt64 = 0x9E3779B97F4A7C15
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (Double(state >> 11) + 0.5) / Double(1 << 53)
        }
        let count = (1 << 22) + 7
        var out = [UInt16](repeating: 0, count: count)
        var i = 0
        while i < count {
            // Box–Muller: two normals per pair of uniforms.
            let r = (-2 * Foundation.log(uniform())).squareRoot(), a = 2 * Double.pi * uniform()
            out[i] = Float16(0.02 * r * Foundation.cos(a)).bitPattern
            if i + 1 < count { out[i + 1] = Float16(0.02 * r * Foundation.sin(a)).bitPattern }
            i += 2
        }
        return out
    }
}

public struct RandomCheckpointError: Error, CustomStringConvertible {
    public let description: String
    init(_ message: String) { description = message }
}

struct TensorSpec {
    let name: String
    let shape: [Int]
    let ones: Bool
    init(_ name: String, _ shape: [Int], ones: Bool = false) {
        self.name = name
        self.shape = shape
        self.ones = ones
    }
    var byteCount: Int { shape.reduce(1, *) * 2 }
}

/// Streams fp16 tensors into one safetensors file (header padded to 8 bytes, as the format asks).
enum SafetensorsWriter {
    static func write(_ tensors: [TensorSpec], to url: URL, block: [UInt16]) throws -> Int {
        var header = "{"
        var offset = 0
        for (i, t) in tensors.enumerated() {
            if i > 0 { header += "," }
            header += "\"\(t.name)\":{\"dtype\":\"F16\",\"shape\":\(t.shape),\"data_offsets\":[\(offset),\(offset + t.byteCount)]}"
            offset += t.byteCount
        }
        header += ",\"__metadata__\":{\"format\":\"pt\"}}"
        while header.utf8.count % 8 != 0 { header += " " }
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw RandomCheckpointError("cannot create \(url.path)")
        }
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        var length = UInt64(header.utf8.count).littleEndian
        try handle.write(contentsOf: Data(bytes: &length, count: 8))
        try handle.write(contentsOf: Data(header.utf8))
        let ones = [UInt16](repeating: Float16(1).bitPattern, count: 1 << 20)
        let randomBytes = block.withUnsafeBytes { Data($0) }
        let oneBytes = ones.withUnsafeBytes { Data($0) }
        for t in tensors {
            let src = t.ones ? oneBytes : randomBytes
            var left = t.byteCount
            while left > 0 {
                let k = min(left, src.count)
                try handle.write(contentsOf: src.prefix(k))
                left -= k
            }
        }
        return offset
    }
}
