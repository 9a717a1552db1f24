import Tensor
import Records

/// Which visual tokens survive pruning: indices into the view's patch sequence (0 ..< N).
public struct Selection: Equatable, Sendable, Codable {
    /// All kept indices, ascending (original spatial order: the order they are fed in).
    public var kept: [Int]
    /// Kept because of high [CLS] attention, ascending.
    public var important: [Int]
    /// Kept by de-duplication / diversity, ascending.
    public var diverse: [Int]
    /// How close the selection came to being another one: the smallest relative gap between the last score
    /// kept and the first score dropped at any cut the selector made (`SelectionMargin`); nil for selections
    /// that compare no scores (uniform, random, fixed, all tokens).
    public var margin: Double?

    public init(important: [Int], diverse: [Int], margin: Double? = nil) {
        self.important = important.sorted()
        self.diverse = diverse.sorted()
        self.kept = (important + diverse).sorted()
        self.margin = margin
    }
}

/// The margin of a selection: at every cut a selector makes (a top-k by score, a drop of the k highest, a
/// greedy argmax), the gap between the last score on the kept side and the first on the other, relative to
/// their magnitude, `(a − b) / max(|a|, |b|)`; the selection's margin is the smallest over its cuts. A margin
/// below `nearTie` means float32 rounding, a reordered sum or another CPU could move that cut (EVAL.md,
/// "Arithmetic envelope"); 0 is an exact tie, broken by the reference's rule.
public enum SelectionMargin {
    /// About 100 float32 ulps: the relative error a sum over a feature dimension of ~1000 can carry.
    public static let nearTie = 1e-5

    public static func gap(_ kept: Float, _ dropped: Float) -> Double {
        let a = Double(kept), b = Double(dropped)
        let scale = max(abs(a), abs(b))
        return scale > 0 ? abs(a - b) / scale : 0
    }

    /// The cut after position `k` of `values` taken in `order` (descending); nil when nothing is cut there.
    static func cut(_ values: [Float], order: [Int], at k: Int) -> Double? {
        guard k > 0, k < order.count else { return nil }
        return gap(values[order[k - 1]], values[order[k]])
    }

    static func min(_ a: Double?, _ b: Double?) -> Double? {
        switch (a, b) {
        case let (x?, y?): return Swift.min(x, y)
        case let (x?, nil): return x
        case let (nil, y): return y
        }
    }
}

/// Input errors (shapes, non-finite values, budgets) with a message fit to show the user.
public struct PruningError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A visual-token selection rule.
///
/// `features` are the vision tower's selected-layer patch features [N, D]; `attention` is that layer's
/// [CLS]→patch attention, per head [H, N] or already averaged [N]; `tokens` is the budget T and
/// `ratio` VisPruner's important ratio (other methods ignore it).
public protocol TokenSelector: Sendable {
    func select(features: Tensor, attention: Tensor, tokens: Int, ratio: Double) throws -> Selection
}

extension SelectionMethod {
    /// The selector that implements the method.
    public func selector(seed: UInt64 = 0) -> TokenSelector {
        switch self {
        case .vispruner: return VisPrunerSelector()
        case .fastervlm: return FasterVLMSelector()
        case .divprune: return DivPruneSelector()
        case .uniform: return UniformSelector()
        case .random: return RandomSelector(seed: seed)
        }
    }
}

/// Runs a selector on each view of a multi-view image (LLaVA-1.6: base view then crops), each with the
/// full budget `tokens`, as the reference does. `features` is [V, N, D], `attention` [V, H, N] or [V, N].
public func selectPerView(_ selector: TokenSelector, features: Tensor, attention: Tensor,
                          tokens: Int, ratio: Double) throws -> [Selection] {
    guard features.rank == 3 else { throw PruningError("multi-view features must be [views, N, D], got \(features.shape)") }
    let views = features.shape[0]
    guard attention.rank >= 2, attention.shape[0] == views else {
        throw PruningError("multi-view attention must be [views, H, N] or [views, N] with \(views) views, got \(attention.shape)")
    }
    return try (0..<views).map { v in
        try selector.select(features: features.rows(v..<(v + 1)).reshaped(Array(features.shape.dropFirst())),
                            attention: attention.rows(v..<(v + 1)).reshaped(Array(attention.shape.dropFirst())),
                            tokens: tokens, ratio: ratio)
    }
}
