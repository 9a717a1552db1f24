import Dispatch
import Pruning
import Records
import Tensor

/// The image path of LLaVA with visual-token pruning, in the order it runs (read `answer` top to bottom):
///
///     preprocessed views → vision (features + [CLS] attention per view) → select → layout → project
///     → splice into the prompt → prefill → greedy decode
///
/// Each stage is a function from one typed value to the next; `answer` runs them and records every
/// stage's time in one `StageTimings`. The model holds the weights; this holds the order.
public enum Stages {
    /// Runs the whole path for a tokenized prompt (`inputIDs` with -200 where the image goes) and an
    /// optional preprocessed image.
    public static func answer(model: LLaVAModel, inputIDs: [Int], image: PreparedImage?, selector: PatchSelector,
                              maxNewTokens: Int, eosID: Int) throws -> StagedAnswer {
        var clock = StageClock()
        let outputs = try image.map { image in try clock.time(\.vision) { try vision(model, views: image.views) } }
        return try answer(model: model, inputIDs: inputIDs, outputs: outputs, layout: image?.layout ?? .single,
                          selector: selector, maxNewTokens: maxNewTokens, eosID: eosID, clock: clock)
    }

    /// The rest of the path from the tower's output (nil: a text-only question).
    public static func answer(model: LLaVAModel, inputIDs: [Int], outputs: [VisionOutput]?, layout imageLayout: VisualLayout,
                              selector: PatchSelector, maxNewTokens: Int, eosID: Int) throws -> StagedAnswer {
        try answer(model: model, inputIDs: inputIDs, outputs: outputs, layout: imageLayout, selector: selector,
                   maxNewTokens: maxNewTokens, eosID: eosID, clock: StageClock())
    }

    private static func answer(model: LLaVAModel, inputIDs: [Int], outputs: [VisionOutput]?, layout imageLayout: VisualLayout,
                               selector: PatchSelector, maxNewTokens: Int, eosID: Int, clock start: StageClock) throws
        -> StagedAnswer {
        var clock = start
        var selections: [Selection] = []
        var visual: [Tensor] = []
        if let outputs {
            selections = try clock.time(\.prune) { try select(outputs, selector: selector) }
            let order = try clock.time(\.prune) {
                try layout(imageLayout, selections: selections, patchesPerSide: model.vision.config.patchesPerSide)
            }
            visual = [try clock.time(\.projector) { try model.projectVisual(order, features: outputs.map(\.features)) }]
        }
        let embeds = try clock.time(\.prefill) { try model.splice(inputIDs: inputIDs, imageEmbeddings: visual) }
        let prefilled = try clock.time(\.prefill) { try model.prefill(embeds, reserving: maxNewTokens) }
        let decoded = try clock.time(\.decode) {
            try model.decodeGreedy(prefilled, maxNewTokens: maxNewTokens, eosID: eosID)
        }
        var timings = clock.timings
        timings.total = timings.stagesSum
        let generation = GenerationOutput(tokens: decoded.tokens, inputsEmbedsLength: embeds.shape[0],
                                          visualTokens: visual.reduce(0) { $0 + $1.shape[0] },
                                          firstLogits: prefilled.logits, minStepMargin: decoded.minStepMargin, timings: timings)
        return StagedAnswer(generation: generation, selections: selections)
    }

    /// The tower on every view.
    public static func vision(_ model: LLaVAModel, views: [Tensor]) throws -> [VisionOutput] {
        try views.map { try model.encode(pixels: $0) }
    }

    /// The selection of every view.
    public static func select(_ outputs: [VisionOutput], selector: PatchSelector) throws -> [Selection] {
        try outputs.enumerated().map { try selector.select($0.element, view: $0.offset) }
    }

    /// The order the kept tokens are fed in.
    public static func layout(_ layout: VisualLayout, selections: [Selection], patchesPerSide: Int) throws -> [VisualToken] {
        try layout.feedOrder(keptPerView: selections.map(\.kept), patchesPerSide: patchesPerSide)
    }
}

/// Accumulates wall-clock milliseconds per stage.
struct StageClock {
    var timings = StageTimings()

    mutating func time<T>(_ stage: WritableKeyPath<StageTimings, Double>, _ body: () throws -> T) rethrows -> T {
        let t0 = DispatchTime.now()
        defer { timings[keyPath: stage] += Double(DispatchTime.now().uptimeNanoseconds - t0.uptimeNanoseconds) / 1e6 }
        return try body()
    }
}
