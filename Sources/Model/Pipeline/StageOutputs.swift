import Pruning
import Records
import Tensor

// The values that pass between the stages of the image path (see `Stages`). Each boundary is explicit so
// that what it holds (a view's features, a prefix's keys and values) can be kept and reused later.

/// Preprocessing's output: the views the tower sees ([3, S, S] each) and how their tokens are fed.
public struct PreparedImage: Sendable {
    public var views: [Tensor]
    public var layout: VisualLayout

    public init(views: [Tensor], layout: VisualLayout) {
        self.views = views
        self.layout = layout
    }
}

/// The vision tower's output for one view, before pruning.
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

/// Which patches of each view survive: a method, a recorded selection, or all of them.
public enum PatchSelector: Sendable {
    /// Every patch of every view (the unpruned model).
    case all
    /// `method`'s choice of `tokens` patches per view.
    case method(SelectionMethod, tokens: Int, ratio: Double, seed: UInt64)
    /// Exactly these patch indices per view (replays a recorded selection, e.g. to compare everything
    /// downstream of pruning with a reference run).
    case fixed([[Int]])

    /// The selector a run's pruning setting stands for.
    public init(_ pruning: Pruning, seed: UInt64) {
        switch pruning {
        case .unpruned: self = .all
        case .pruned(let m, let tokens, let ratio): self = .method(m, tokens: tokens, ratio: ratio, seed: seed)
        }
    }

    /// The selection for view `view` of the tower's output.
    public func select(_ out: VisionOutput, view: Int) throws -> Selection {
        let n = out.features.shape[0]
        switch self {
        case .all:
            return Selection(important: [], diverse: Array(0..<n))
        case .method(let m, let tokens, let ratio, let seed):
            return try m.selector(seed: seed).select(features: out.features, attention: out.clsAttention,
                                                     tokens: tokens, ratio: ratio)
        case .fixed(let perView):
            guard view < perView.count else { throw ModelError("fixed selection has \(perView.count) views; the image has more") }
            guard perView[view].allSatisfy({ $0 >= 0 && $0 < n }) else {
                throw ModelError("fixed selection for view \(view) has indices outside 0..<\(n)")
            }
            return Selection(important: [], diverse: perView[view])
        }
    }
}

/// One position of the visual sequence fed to the language model.
public enum VisualToken: Equatable, Sendable {
    /// Patch `index` of view `view`, projected.
    case patch(view: Int, index: Int)
    /// LLaVA-1.6's learned row terminator (stock feeding only).
    case newline
}

/// How the kept tokens of an image's views are ordered for the language model.
public enum VisualLayout: Equatable, Sendable {
    /// LLaVA-1.5: one view, kept patches in ascending (spatial) order.
    case single
    /// VisPruner's LLaVA-1.6 path: the base view, then the `rows` × `columns` crops merged spatially
    /// (see `AnyresLayout`).
    case fixedGrid(rows: Int, columns: Int)
    /// Stock LLaVA-1.6: as `fixedGrid` but unpadded to the image's aspect, with a newline after every row
    /// (see `StockAnyresLayout`).
    case stockGrid(rows: Int, columns: Int, imageWidth: Int, imageHeight: Int)

    /// Views the layout expects: the base view plus one per crop.
    public var viewCount: Int {
        switch self {
        case .single: return 1
        case .fixedGrid(let r, let c), .stockGrid(let r, let c, _, _): return 1 + r * c
        }
    }

    /// The feed order of the kept patches (`keptPerView[v]` ascending) of views with `side` × `side` patches.
    public func feedOrder(keptPerView: [[Int]], patchesPerSide side: Int) throws -> [VisualToken] {
        guard keptPerView.count == viewCount else {
            throw ModelError("\(self): expected \(viewCount) views, got \(keptPerView.count)")
        }
        switch self {
        case .single:
            return keptPerView[0].sorted().map { .patch(view: 0, index: $0) }
        case .fixedGrid(let rows, let columns):
            return try AnyresLayout.feedOrder(keptPerView: keptPerView, gridRows: rows, gridCols: columns, patchesPerSide: side)
                .map { .patch(view: $0.view, index: $0.patch) }
        case .stockGrid(let rows, let columns, let w, let h):
            return try StockAnyresLayout.feedOrder(keptPerView: keptPerView, gridRows: rows, gridCols: columns,
                                                   patchesPerSide: side, imageWidth: w, imageHeight: h)
        }
    }
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

/// What the stages produced for one question: the generation and the selection per view.
public struct StagedAnswer: Sendable {
    public var generation: GenerationOutput
    /// Per view (base view first for LLaVA-1.6): kept, important and diverse patch indices.
    public var selections: [Selection]
}
