import Tensor
import Records

/// FasterVLM (Zhang et al., 2024, "[CLS] Attention is All You Need for Training-Free Visual Token
/// Pruning"): the T patches with the highest head-averaged [CLS] attention; all count as important.
public struct FasterVLMSelector: TokenSelector {
    public init() {}
    public func select(features: Tensor, attention: Tensor, tokens: Int, ratio: Double) throws -> Selection {
        let input = try SelectionInput(features: features, attention: attention, tokens: tokens, ratio: ratio)
        let order = input.byAttentionDescending()
        return Selection(important: Array(order.prefix(tokens)), diverse: [],
                         margin: SelectionMargin.cut(input.attention, order: order, at: tokens))
    }
}

/// DivPrune (Alvar et al., CVPR 2025): a max–min diversity subset on cosine distance, built greedily —
/// start from the patch whose nearest neighbour is farthest, then repeatedly add the patch whose
/// distance to the chosen set is largest. Attention is not used; all kept patches count as diverse.
public struct DivPruneSelector: TokenSelector {
    public init() {}
    public func select(features: Tensor, attention: Tensor, tokens: Int, ratio: Double) throws -> Selection {
        let input = try SelectionInput(features: features, attention: attention, tokens: tokens, ratio: ratio)
        let n = input.n
        if tokens >= n { return Selection(important: [], diverse: Array(0..<n)) }
        let g = cosineGram(features, rows: Array(0..<n))
        // distance = 1 − cosine similarity
        var first = 0, firstScore = -Float.infinity, runnerUp = -Float.infinity
        for i in 0..<n {
            var nearest = Float.infinity
            for j in 0..<n where j != i { nearest = min(nearest, 1 - g[i * n + j]) }
            if nearest > firstScore { runnerUp = firstScore; firstScore = nearest; first = i } else if nearest > runnerUp { runnerUp = nearest }
        }
        // Each greedy argmax is a cut between the chosen patch and the runner-up.
        var margin: Double? = runnerUp.isFinite ? SelectionMargin.gap(firstScore, runnerUp) : nil
        var chosen = [first]
        var inSet = [Bool](repeating: false, count: n)
        inSet[first] = true
        var minDist = (0..<n).map { 1 - g[first * n + $0] }
        while chosen.count < tokens {
            var best = -1, bestScore = -Float.infinity, second = -Float.infinity
            for i in 0..<n where !inSet[i] {
                if minDist[i] > bestScore { second = bestScore; bestScore = minDist[i]; best = i } else if minDist[i] > second { second = minDist[i] }
            }
            if second.isFinite { margin = SelectionMargin.min(margin, SelectionMargin.gap(bestScore, second)) }
            chosen.append(best)
            inSet[best] = true
            for i in 0..<n { minDist[i] = min(minDist[i], 1 - g[best * n + i]) }
        }
        return Selection(important: [], diverse: chosen, margin: margin)
    }
}

/// Uniform spatial sampling: T patches evenly spaced in raster order (index ⌊(k + ½)·N/T⌋), the
/// position-only baseline used in token-pruning papers. Counted as diverse.
public struct UniformSelector: TokenSelector {
    public init() {}
    public func select(features: Tensor, attention: Tensor, tokens: Int, ratio: Double) throws -> Selection {
        let input = try SelectionInput(features: features, attention: attention, tokens: tokens, ratio: ratio)
        let n = input.n
        if tokens >= n { return Selection(important: [], diverse: Array(0..<n)) }
        return Selection(important: [], diverse: (0..<tokens).map { (2 * $0 + 1) * n / (2 * tokens) })
    }
}

/// Seeded random sampling without replacement (the usual lower baseline); the same seed gives the same
/// selection on every machine. Counted as diverse.
public struct RandomSelector: TokenSelector {
    public let seed: UInt64
    public init(seed: UInt64) { self.seed = seed }
    public func select(features: Tensor, attention: Tensor, tokens: Int, ratio: Double) throws -> Selection {
        let input = try SelectionInput(features: features, attention: attention, tokens: tokens, ratio: ratio)
        let n = input.n
        if tokens >= n { return Selection(important: [], diverse: Array(0..<n)) }
        // The stream starts one golden-ratio step past the seed (what runs stored so far were drawn with).
        var rng = SplitMix64(state: seed &+ 0x9E37_79B9_7F4A_7C15)
        var pool = Array(0..<n)
        for k in 0..<tokens { // partial Fisher–Yates
            let j = k + Int(rng.next() % UInt64(n - k))
            pool.swapAt(k, j)
        }
        return Selection(important: [], diverse: Array(pool[..<tokens]))
    }
}
