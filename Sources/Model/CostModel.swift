import Checkpoint
import Records

/// Analytic FLOPs and KV-cache size of one item, from the checkpoint's geometry and the item's token counts.
///
/// Convention (that of the FastV / SparseVLM / VisPruner efficiency tables, made explicit): a multiply-add
/// counts as 2 FLOPs, and only matrix products count — norms, softmax, activations, rotary embeddings,
/// residual adds and biases are left out (together well under 1% at LLaVA's sizes).
///
/// Per decoder layer, for a prompt of n positions with hidden size d, MLP size m, query width d_q
/// (heads × head_dim) and key/value width d_kv (num_key_value_heads × head_dim):
///
///     projections  2n·(d·d_q + 2·d·d_kv + d_q·d)      q, k, v, o (k and v shrink with grouped-query attention)
///     MLP          2n·3·d·m                            gate, up, down (LLaMA's MLP has three matrices)
///     attention    2·2·d_q·n(n+1)/2                    QKᵀ and AV, causal: position i sees i+1 keys
///
/// The attention term counts the causal half because that is what the engine multiplies (it skips the
/// masked triangle block by block). FastV's per-layer formula 4nd² + 2n²d + 2ndm counts multiply-adds, two
/// MLP matrices and the full n² square; for d_q = d_kv = d ours is 2·(4nd² + n(n+1)d + 3ndm), and the test
/// suite checks that identity. At LLaVA-1.5-7B's prompt lengths the attention term is 1-2% of a layer, so
/// the causal choice moves totals by about that much.
///
/// The CLIP tower attends both ways over all 577 tokens (576 patches + [CLS]), so its attention is the
/// full square; it runs only up to the layer LLaVA selects features from (23 of 24 for select layer -2),
/// once per view. The LM head runs for one position per forward call (the prefill's last position and
/// each decode step), as the engine computes it.
public struct CostModel: Sendable {
    public let config: LLaVAConfig
    public let vision: CLIPVisionConfig

    public init(config: LLaVAConfig, vision: CLIPVisionConfig) {
        self.config = config
        self.vision = vision
    }

    /// Bytes per cached key or value element: the engine keeps its KV cache in float32 at every precision.
    public static let kvElementBytes: Int64 = 4

    /// Tower layers that run: as far as the select layer's hidden state and attention map need
    /// (mirrors `CLIPVisionTower`).
    public var visionLayersRun: Int {
        let L = vision.numHiddenLayers, s = config.mmVisionSelectLayer
        let hiddenIndex = s < 0 ? L + 1 + s : s
        let attentionIndex = s < 0 ? L + s : s
        return max(0, min(L, max(hiddenIndex, attentionIndex + 1)))
    }

    /// The tower over `views` preprocessed views.
    public func visionFLOPs(views: Int) -> Int64 {
        let dv = Int64(vision.hiddenSize), m = Int64(vision.intermediateSize)
        let patches = Int64(vision.numPatches), s = patches + 1
        let kernel = Int64(vision.numChannels * vision.patchSize * vision.patchSize)
        let patchEmbedding = patches * kernel * dv
        let perLayer = 4 * s * dv * dv + 2 * s * s * dv + 2 * s * dv * m
        return 2 * Int64(views) * (patchEmbedding + Int64(visionLayersRun) * perLayer)
    }

    /// The projector over `tokens` projected patch features (LLaVA-1.6's image_newline rows are not projected).
    public func projectorFLOPs(tokens: Int) -> Int64 {
        let dv = Int64(config.mmHiddenSize), d = Int64(config.hiddenSize)
        let macsPerToken: Int64
        switch config.projectorType ?? .linear {
        case .linear: macsPerToken = dv * d
        case .mlpGELU(let depth): macsPerToken = dv * d + Int64(depth - 1) * d * d
        }
        return 2 * Int64(tokens) * macsPerToken
    }

    /// Multiply-adds of one position through one decoder layer's projections and MLP.
    var decoderLinearMACsPerToken: Int64 {
        let d = Int64(config.hiddenSize), m = Int64(config.intermediateSize)
        let dq = Int64(config.numAttentionHeads * config.headDim), dkv = Int64(config.numKeyValueHeads * config.headDim)
        return d * dq + 2 * d * dkv + dq * d + 3 * d * m
    }

    var queryWidth: Int64 { Int64(config.numAttentionHeads * config.headDim) }

    /// One position through the LM head.
    public var lmHeadFLOPs: Int64 { 2 * Int64(config.hiddenSize) * Int64(config.vocabSize) }

    /// The decoder over a prompt of `length` positions, then the LM head on its last position.
    public func prefillFLOPs(length: Int) -> Int64 {
        guard length > 0 else { return 0 }
        let n = Int64(length), layers = Int64(config.numHiddenLayers)
        let attention = 2 * queryWidth * n * (n + 1)  // 2 FLOPs × 2 products × d_q × Σ(i+1)
        return layers * (2 * n * decoderLinearMACsPerToken + attention) + lmHeadFLOPs
    }

    /// The decode steps after a prompt of `promptLength` positions that produced `generated` tokens: the
    /// first token comes from the prefill, and step j (1 ..< generated) feeds token j at position
    /// promptLength + j − 1, which attends over promptLength + j keys.
    public func decodeFLOPs(promptLength: Int, generated: Int) -> Int64 {
        let steps = Int64(max(0, generated - 1))
        guard steps > 0 else { return 0 }
        let layers = Int64(config.numHiddenLayers), p = Int64(promptLength)
        let keysSeen = steps * p + steps * (steps + 1) / 2  // Σ_{j=1}^{steps} (p + j)
        return steps * (layers * 2 * decoderLinearMACsPerToken + lmHeadFLOPs) + layers * 4 * queryWidth * keysSeen
    }

    /// Keys and values of every layer for the item's whole sequence (prompt + generated tokens), float32.
    /// The engine writes one position fewer (the last token is never fed back) and reserves
    /// prompt + max_new_tokens up front; the sequence length is the figure the papers' KV-cache columns use.
    public func kvCacheBytes(promptLength: Int, generated: Int) -> Int64 {
        let width = Int64(config.numKeyValueHeads * config.headDim)
        return 2 * Int64(config.numHiddenLayers) * Int64(promptLength + generated) * width * Self.kvElementBytes
    }

    /// One item: `views` tower passes (0 for a text-only question), `projectedTokens` patch features
    /// projected, a spliced prompt of `inputsEmbedsLength` positions and `generated` new tokens.
    public func itemCost(views: Int, projectedTokens: Int, inputsEmbedsLength: Int, generated: Int) -> ItemCost {
        ItemCost(visionFLOPs: visionFLOPs(views: views), projectorFLOPs: projectorFLOPs(tokens: projectedTokens),
                 prefillFLOPs: prefillFLOPs(length: inputsEmbedsLength),
                 decodeFLOPs: decodeFLOPs(promptLength: inputsEmbedsLength, generated: generated),
                 kvCacheBytes: kvCacheBytes(promptLength: inputsEmbedsLength, generated: generated))
    }

    /// The cost of what the pipeline did for one request: one tower pass per view, the kept patches projected.
    public func cost(of r: PipelineResult) -> ItemCost {
        itemCost(views: r.selections.count, projectedTokens: r.selections.reduce(0) { $0 + $1.kept.count },
                 inputsEmbedsLength: r.inputsEmbedsLength, generated: r.generatedIDs.count)
    }
}
