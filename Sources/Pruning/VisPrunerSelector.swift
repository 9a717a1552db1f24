import Tensor

/// VisPruner (Zhang et al., ICCV 2025): the ⌊T·ratio⌋ patches with the highest head-averaged [CLS]
/// attention are kept as important; the rest of the budget comes from the remaining patches by
/// iterative de-duplication.
///
/// De-duplication, as the reference: the residual list (attention order) is split into alternate
/// halves A = even positions and B = odd positions; each A token's score is its highest cosine similarity
/// to any B token; the r = min(8, R − T_div) highest-scoring A tokens are dropped; the remaining A tokens,
/// in descending score order, followed by B form the next residual list. Repeat until R = T_div.
///
/// Where the reference raises (odd R, or r larger than A), the halves keep their real sizes and r is
/// capped by |A|, so the loop always ends with exactly the budget.
public struct VisPrunerSelector: TokenSelector {
    public init() {}

    public func select(features: Tensor, attention: Tensor, tokens: Int, ratio: Double) throws -> Selection {
        let input = try SelectionInput(features: features, attention: attention, tokens: tokens, ratio: ratio)
        let n = input.n
        let importantCount = min(n, Int(Double(tokens) * ratio))
        let diverseTarget = tokens - Int(Double(tokens) * ratio)
        let order = input.byAttentionDescending()
        let important = Array(order[..<importantCount])
        var residual = Array(order[importantCount...])
        var margin = SelectionMargin.cut(input.attention, order: order, at: importantCount)
        guard diverseTarget > 0, residual.count > diverseTarget else {
            return Selection(important: important, diverse: diverseTarget > 0 ? residual : [], margin: margin)
        }

        // Similarities never change between rounds, so one Gram matrix over the initial residual
        // replaces the reference's per-round matrix product (the values are the same dot products).
        let r0 = residual.count
        let g = cosineGram(features, rows: residual)
        var slot = [Int](repeating: 0, count: n)   // patch index -> row of g
        for (k, p) in residual.enumerated() { slot[p] = k }

        var scores = [Float](); scores.reserveCapacity(r0)
        var columns = [Int](repeating: 0, count: r0)   // this round's B tokens as columns of g
        g.withUnsafeBufferPointer { gp in
            while true {
                let count = residual.count
                let remove = min(8, count - diverseTarget)
                if remove <= 0 { break }
                let a = stride(from: 0, to: count, by: 2).map { residual[$0] }
                let b = stride(from: 1, to: count, by: 2).map { residual[$0] }
                let drop = min(remove, a.count)
                scores.removeAll(keepingCapacity: true)
                for (k, q) in b.enumerated() { columns[k] = slot[q] }
                // A maximum does not depend on order: visit the columns left to right for the cache.
                columns[0..<b.count].sort()
                columns.withUnsafeBufferPointer { cols in
                    let nb = b.count
                    for p in a {
                        let row = gp.baseAddress! + slot[p] * r0
                        var best = -Float.infinity
                        var k = 0
                        while k < nb {
                            let s = row[cols[k]]
                            if s > best { best = s }
                            k += 1
                        }
                        scores.append(best)
                    }
                }
                let ranked = ReferenceSort.argsortDescending(scores)
                margin = SelectionMargin.min(margin, SelectionMargin.cut(scores, order: ranked, at: drop))
                residual = ranked[drop...].map { a[$0] } + b
            }
        }
        return Selection(important: important, diverse: residual, margin: margin)
    }
}
