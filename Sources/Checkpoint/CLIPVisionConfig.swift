import Foundation

/// The vision half of a CLIP config: either a `CLIPVisionModel` config.json or the
/// `vision_config` object of a full `CLIPModel` config. Missing fields take the
/// transformers `CLIPVisionConfig` defaults, as the reference does.
public struct CLIPVisionConfig: Decodable, Sendable {
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numAttentionHeads: Int
    public var numHiddenLayers: Int
    public var imageSize: Int
    public var patchSize: Int
    public var numChannels: Int
    public var hiddenAct: String
    public var layerNormEps: Float

    public var headDim: Int { hiddenSize / max(numAttentionHeads, 1) }
    public var patchesPerSide: Int { imageSize / max(patchSize, 1) }
    public var numPatches: Int { patchesPerSide * patchesPerSide }

    public init(from decoder: Decoder) throws {
        let outer = try decoder.container(keyedBy: AnyKey.self)
        let c: KeyedDecodingContainer<AnyKey>
        if outer.contains(AnyKey("vision_config")) {
            c = try outer.nestedContainer(keyedBy: AnyKey.self, forKey: AnyKey("vision_config"))
        } else {
            c = outer
        }
        hiddenSize = try c.value("hidden_size", default: 768)
        intermediateSize = try c.value("intermediate_size", default: 3072)
        numAttentionHeads = try c.value("num_attention_heads", default: 12)
        numHiddenLayers = try c.value("num_hidden_layers", default: 12)
        imageSize = try c.value("image_size", default: 224)
        patchSize = try c.value("patch_size", default: 32)
        numChannels = try c.value("num_channels", default: 3)
        hiddenAct = try c.value("hidden_act", default: "quick_gelu")
        layerNormEps = try c.value("layer_norm_eps", default: 1e-5)
    }

    /// Reads and validates `config.json` from a vision-tower folder.
    public static func load(directory: URL) throws -> CLIPVisionConfig {
        let url = directory.appendingPathComponent("config.json")
        let config = try ConfigJSON.load(CLIPVisionConfig.self, from: url)
        try config.validate(path: url.path)
        return config
    }

    public func validate(path: String) throws {
        guard hiddenAct == "quick_gelu" || hiddenAct == "gelu" else {
            throw CheckpointError("\(path): unsupported vision hidden_act '\(hiddenAct)' (expected quick_gelu or gelu)")
        }
        func check(_ ok: Bool, _ what: String) throws { if !ok { throw CheckpointError("\(path): \(what)") } }
        try check(hiddenSize > 0 && hiddenSize <= 1 << 16, "hidden_size \(hiddenSize) out of range")
        try check(intermediateSize > 0 && intermediateSize <= 1 << 18, "intermediate_size \(intermediateSize) out of range")
        try check(numAttentionHeads > 0 && hiddenSize % numAttentionHeads == 0, "hidden_size \(hiddenSize) not divisible by num_attention_heads \(numAttentionHeads)")
        try check(numHiddenLayers > 0 && numHiddenLayers <= 1024, "num_hidden_layers \(numHiddenLayers) out of range")
        try check(patchSize > 0 && patchSize <= 1024, "patch_size \(patchSize) out of range")
        try check(imageSize >= patchSize && imageSize <= 8192 && imageSize % patchSize == 0, "image_size \(imageSize) is not a multiple of patch_size \(patchSize)")
        try check(numChannels == 3, "num_channels \(numChannels) (only 3 supported)")
    }
}
