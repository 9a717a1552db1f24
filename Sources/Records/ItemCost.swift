/// The analytic compute and memory of answering one item, as the efficiency tables of the visual-token
/// pruning papers report them: FLOPs per stage and the size of the language model's KV cache.
/// Computed from the model's geometry and the item's token counts (`CostModel` in the Model module),
/// not measured, so the same item costs the same on any machine. All zero means "not recorded"
/// (fake engines, and rows stored before costs were kept).
///
/// The figures are those of the plain path, one item on its own: work shared between items (a
/// reused image feature or prompt prefix) is still counted on every item, which is what the papers'
/// per-item FLOPs mean.
public struct ItemCost: Sendable, Equatable, Codable {
    /// The CLIP tower over every view, up to the select layer.
    public var visionFLOPs: Int64
    /// The multimodal projector over the projected visual tokens.
    public var projectorFLOPs: Int64
    /// The decoder over the whole prompt, plus the LM head for its last position.
    public var prefillFLOPs: Int64
    /// Every generated token after the first (the first comes from the prefill's logits).
    public var decodeFLOPs: Int64
    /// Keys and values of every decoder layer for the item's sequence, in the engine's float32.
    public var kvCacheBytes: Int64

    public init(visionFLOPs: Int64 = 0, projectorFLOPs: Int64 = 0, prefillFLOPs: Int64 = 0, decodeFLOPs: Int64 = 0,
                kvCacheBytes: Int64 = 0) {
        self.visionFLOPs = visionFLOPs
        self.projectorFLOPs = projectorFLOPs
        self.prefillFLOPs = prefillFLOPs
        self.decodeFLOPs = decodeFLOPs
        self.kvCacheBytes = kvCacheBytes
    }

    public static let zero = ItemCost()

    public var totalFLOPs: Int64 { visionFLOPs + projectorFLOPs + prefillFLOPs + decodeFLOPs }

    /// False for the all-zero value that stands for "not recorded": any real item has a prefill.
    public var isRecorded: Bool { self != .zero }
}
