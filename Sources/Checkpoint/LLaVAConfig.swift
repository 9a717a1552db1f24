import Foundation

/// The multimodal projector architectures LLaVA ships.
public enum ProjectorType: Equatable, Sendable {
    /// A single Linear(mm_hidden, hidden).
    case linear
    /// `depth` Linear layers with exact GELU between them (`mlp2x_gelu` → depth 2).
    case mlpGELU(depth: Int)

    /// Parses `mm_projector_type`; nil for unsupported types.
    public init?(configName: String) {
        if configName == "linear" { self = .linear; return }
        guard configName.hasPrefix("mlp"), configName.hasSuffix("x_gelu"),
              let depth = Int(configName.dropFirst(3).dropLast(6)), (1...16).contains(depth) else { return nil }
        self = .mlpGELU(depth: depth)
    }
}

/// `config.json` of a LLaVA-LLaMA checkpoint (`LlavaLlamaForCausalLM`, model_type `llava_llama`),
/// with BOS/EOS ids overridden by `generation_config.json` when `load` finds one.
public struct LLaVAConfig: Decodable, Sendable {
    public var architectures: [String]
    public var modelType: String
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numAttentionHeads: Int
    public var numKeyValueHeads: Int
    public var numHiddenLayers: Int
    public var rmsNormEps: Float
    public var ropeTheta: Float
    public var vocabSize: Int
    public var maxPositionEmbeddings: Int
    public var hiddenAct: String
    public var tieWordEmbeddings: Bool
    /// Sequence length LLaVA truncates the spliced multimodal sequence to (nil: no truncation).
    public var tokenizerModelMaxLength: Int?
    public var mmVisionTower: String?
    public var mmVisionSelectLayer: Int
    public var mmVisionSelectFeature: String
    public var mmProjectorTypeName: String
    public var mmHiddenSize: Int
    public var imageAspectRatio: String
    public var mmPatchMergeType: String
    public var imageGridPinpoints: [[Int]]?
    public var mmUseImStartEnd: Bool
    public var bosTokenID: Int
    public var eosTokenID: Int
    public var hasRopeScaling: Bool

    /// `mm_projector_type` parsed (validated by `load`).
    public var projectorType: ProjectorType? { ProjectorType(configName: mmProjectorTypeName) }
    public var headDim: Int { hiddenSize / max(numAttentionHeads, 1) }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        architectures = try c.value("architectures", default: [])
        modelType = try c.value("model_type", default: "")
        hiddenSize = try c.required("hidden_size")
        intermediateSize = try c.required("intermediate_size")
        numAttentionHeads = try c.required("num_attention_heads")
        numKeyValueHeads = try c.value("num_key_value_heads", default: numAttentionHeads)
        numHiddenLayers = try c.required("num_hidden_layers")
        rmsNormEps = try c.value("rms_norm_eps", default: 1e-6)
        ropeTheta = try c.value("rope_theta", default: 10000)
        vocabSize = try c.value("vocab_size", default: 32000)
        maxPositionEmbeddings = try c.value("max_position_embeddings", default: 2048)
        hiddenAct = try c.value("hidden_act", default: "silu")
        tieWordEmbeddings = try c.value("tie_word_embeddings", default: false)
        tokenizerModelMaxLength = try c.optional("tokenizer_model_max_length")
        mmVisionTower = try c.optional("mm_vision_tower")
        mmVisionSelectLayer = try c.value("mm_vision_select_layer", default: -2)
        mmVisionSelectFeature = try c.value("mm_vision_select_feature", default: "patch")
        mmProjectorTypeName = try c.value("mm_projector_type", default: "linear")
        mmHiddenSize = try c.value("mm_hidden_size", default: 1024)
        imageAspectRatio = try c.value("image_aspect_ratio", default: "square")
        mmPatchMergeType = try c.value("mm_patch_merge_type", default: "flat")
        imageGridPinpoints = try c.optional("image_grid_pinpoints")
        mmUseImStartEnd = try c.value("mm_use_im_start_end", default: false)
        bosTokenID = try c.intOrFirst("bos_token_id") ?? 1
        eosTokenID = try c.intOrFirst("eos_token_id") ?? 2
        let scaling = AnyKey("rope_scaling")
        hasRopeScaling = c.contains(scaling) ? !(try c.decodeNil(forKey: scaling)) : false
    }

    /// Reads `config.json` (and `generation_config.json` if present) from a model folder and
    /// rejects architectures and settings this engine does not implement.
    public static func load(directory: URL) throws -> LLaVAConfig {
        let url = directory.appendingPathComponent("config.json")
        var config = try ConfigJSON.load(LLaVAConfig.self, from: url)
        let gen = directory.appendingPathComponent("generation_config.json")
        if FileManager.default.fileExists(atPath: gen.path) {
            let g = try ConfigJSON.load(GenerationConfig.self, from: gen)
            if let b = g.bosTokenID { config.bosTokenID = b }
            if let e = g.eosTokenID { config.eosTokenID = e }
        }
        try config.validate(path: url.path)
        return config
    }

    /// Checks the settings the engine depends on; errors name the file and field.
    public func validate(path: String) throws {
        let llamaArch = architectures.isEmpty || architectures.contains { $0 == "LlavaLlamaForCausalLM" }
        guard llamaArch, modelType == "llava_llama" || modelType == "llava" || modelType.isEmpty else {
            throw CheckpointError("\(path): unsupported architecture \(architectures) / model_type '\(modelType)' (expected LlavaLlamaForCausalLM, llava_llama)")
        }
        guard projectorType != nil else {
            throw CheckpointError("\(path): unsupported mm_projector_type '\(mmProjectorTypeName)' (supported: linear, mlpNx_gelu)")
        }
        guard hiddenAct == "silu" else { throw CheckpointError("\(path): unsupported hidden_act '\(hiddenAct)' (expected silu)") }
        guard !hasRopeScaling else { throw CheckpointError("\(path): rope_scaling is not supported") }
        func positive(_ v: Int, _ field: String, max: Int) throws {
            guard v > 0, v <= max else { throw CheckpointError("\(path): field \(field) = \(v) is out of range 1...\(max)") }
        }
        try positive(hiddenSize, "hidden_size", max: 1 << 16)
        try positive(intermediateSize, "intermediate_size", max: 1 << 18)
        try positive(numAttentionHeads, "num_attention_heads", max: 1024)
        try positive(numKeyValueHeads, "num_key_value_heads", max: 1024)
        try positive(numHiddenLayers, "num_hidden_layers", max: 1024)
        try positive(vocabSize, "vocab_size", max: 1 << 22)
        try positive(mmHiddenSize, "mm_hidden_size", max: 1 << 16)
        try positive(maxPositionEmbeddings, "max_position_embeddings", max: 1 << 22)
        guard hiddenSize % numAttentionHeads == 0, (hiddenSize / numAttentionHeads) % 2 == 0 else {
            throw CheckpointError("\(path): hidden_size \(hiddenSize) is not an even multiple of num_attention_heads \(numAttentionHeads)")
        }
        guard numAttentionHeads % numKeyValueHeads == 0 else {
            throw CheckpointError("\(path): num_attention_heads \(numAttentionHeads) is not a multiple of num_key_value_heads \(numKeyValueHeads)")
        }
        guard mmVisionSelectFeature == "patch" || mmVisionSelectFeature == "cls_patch" else {
            throw CheckpointError("\(path): unsupported mm_vision_select_feature '\(mmVisionSelectFeature)'")
        }
        guard !mmUseImStartEnd else {
            throw CheckpointError("\(path): mm_use_im_start_end is not supported (LLaVA-1.5/1.6 do not use it)")
        }
        if let m = tokenizerModelMaxLength { try positive(m, "tokenizer_model_max_length", max: 1 << 22) }
    }
}

/// The fields of `generation_config.json` the engine uses.
struct GenerationConfig: Decodable {
    var bosTokenID: Int?
    var eosTokenID: Int?
    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        bosTokenID = try c.intOrFirst("bos_token_id")
        eosTokenID = try c.intOrFirst("eos_token_id")
    }
}
