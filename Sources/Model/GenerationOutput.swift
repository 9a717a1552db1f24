import Tensor

/// Wall-clock time per pipeline stage, in milliseconds. Stages a call did not run stay 0;
/// callers that do preprocessing or pruning themselves fill those fields.
public struct StageTimings: Sendable, Codable, Equatable {
    public var preprocess: Double = 0
    public var vision: Double = 0
    public var prune: Double = 0
    public var projector: Double = 0
    public var prefill: Double = 0
    public var decode: Double = 0

    public init(preprocess: Double = 0, vision: Double = 0, prune: Double = 0,
                projector: Double = 0, prefill: Double = 0, decode: Double = 0) {
        self.preprocess = preprocess; self.vision = vision; self.prune = prune
        self.projector = projector; self.prefill = prefill; self.decode = decode
    }

    public var total: Double { preprocess + vision + prune + projector + prefill + decode }
}

/// Result of greedy generation.
public struct GenerationOutput: Sendable {
    /// The new token ids only (no prompt, no leading BOS); ends with the EOS id if one was produced.
    public var tokens: [Int]
    /// Length of the spliced (text + visual) sequence fed to the decoder, after truncation.
    public var inputsEmbedsLength: Int
    /// Visual tokens that reached the decoder (after pruning and truncation accounting is the caller's).
    public var visualTokens: Int
    /// Logits that chose the first new token ([vocab]).
    public var firstLogits: Tensor
    /// Smallest gap between the best and second-best logit over the steps (how close greedy came to a tie).
    public var minStepMargin: Float
    public var timings: StageTimings

    public init(tokens: [Int], inputsEmbedsLength: Int, visualTokens: Int, firstLogits: Tensor,
                minStepMargin: Float, timings: StageTimings) {
        self.tokens = tokens; self.inputsEmbedsLength = inputsEmbedsLength; self.visualTokens = visualTokens
        self.firstLogits = firstLogits; self.minStepMargin = minStepMargin; self.timings = timings
    }
}

/// The vision tower's output for one image, before pruning.
public struct VisionOutput: Sendable {
    /// Select-layer features [N, Dv].
    public var features: Tensor
    /// [CLS]→token attention of the select layer, per head [H, N].
    public var clsAttention: Tensor
    /// Time spent in the tower (ms).
    public var milliseconds: Double

    public init(features: Tensor, clsAttention: Tensor, milliseconds: Double) {
        self.features = features; self.clsAttention = clsAttention; self.milliseconds = milliseconds
    }
}
