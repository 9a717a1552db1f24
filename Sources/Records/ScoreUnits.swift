/// One resampling unit of a benchmark's score — an item, or whatever the metric needs to move together
/// (MME: the two questions of one image) — with additive statistics: a metric over any multiset of units
/// is a function of their summed `stats`, which is what lets intervals be recomputed from the database alone.
public struct ScoreUnit: Codable, Equatable, Sendable {
    /// Identifies the unit across runs of the same benchmark (paired comparisons join on it).
    public var id: String
    /// Units are resampled within their stratum (POPE's split, MME's task); "" when the metric has none.
    public var stratum: String
    public var stats: [Double]

    public init(id: String, stratum: String = "", stats: [Double]) {
        self.id = id
        self.stratum = stratum
        self.stats = stats
    }
}

/// How a stored metric follows from the summed statistics of its units.
public enum UnitFormula: Codable, Equatable, Sendable {
    /// `scale · Σ stats[numerator] / Σ stats[denominator]` over all units (accuracies).
    case ratio(numerator: Int, denominator: Int, scale: Double)
    /// Mean over strata of the F1 of Σ[tp, fp, fn, tn] per stratum (POPE's averaged F1), as a fraction.
    case meanF1
    /// Mean over strata of (tp + tn) / n of Σ[tp, fp, fn, tn] per stratum, as a fraction.
    case meanAccuracy
    /// Σ over the listed strata of 100·Σcorrect/Σquestions + 100·Σbothright/Σpairs, stats [correct,
    /// questions, both right, 1] (MME's acc + acc+ per task, summed over tasks).
    case accPlusSum(strata: [String])

    /// The value for units summed per stratum; nil where it is undefined (a division by zero).
    public func value(_ sums: [String: [Double]]) -> Double? {
        func s(_ v: [Double], _ i: Int) -> Double { i < v.count ? v[i] : 0 }
        switch self {
        case .ratio(let n, let d, let scale):
            var num = 0.0, den = 0.0
            for key in sums.keys.sorted() { num += s(sums[key]!, n); den += s(sums[key]!, d) }
            return den == 0 ? nil : scale * num / den
        case .meanF1, .meanAccuracy:
            guard !sums.isEmpty else { return nil }
            var total = 0.0
            for key in sums.keys.sorted() {
                let v = sums[key]!
                let tp = s(v, 0), fp = s(v, 1), fn = s(v, 2), tn = s(v, 3)
                if self == .meanAccuracy {
                    let n = tp + fp + fn + tn
                    guard n > 0 else { return nil }
                    total += (tp + tn) / n
                } else {
                    guard tp + fp > 0, tp + fn > 0 else { return nil }
                    let p = tp / (tp + fp), r = tp / (tp + fn)
                    guard p + r > 0 else { return nil }
                    total += 2 * p * r / (p + r)
                }
            }
            return total / Double(sums.count)
        case .accPlusSum(let strata):
            var total = 0.0
            for key in strata {
                guard let v = sums[key], s(v, 1) > 0, s(v, 3) > 0 else { return nil }
                total += 100 * s(v, 0) / s(v, 1) + 100 * s(v, 2) / s(v, 3)
            }
            return strata.isEmpty ? nil : total
        }
    }
}

/// A scored run's units and, per stored metric name, the formula that gives it from them.
public struct UnitScores: Codable, Equatable, Sendable {
    public var units: [ScoreUnit]
    public var formulas: [String: UnitFormula]

    public init(units: [ScoreUnit], formulas: [String: UnitFormula]) {
        self.units = units
        self.formulas = formulas
    }

    /// Σ stats per stratum of the units at `indices` (each index counted as often as it appears).
    public func sums<S: Sequence>(_ indices: S) -> [String: [Double]] where S.Element == Int {
        var out: [String: [Double]] = [:]
        for i in indices {
            let u = units[i]
            var acc = out[u.stratum] ?? [Double](repeating: 0, count: u.stats.count)
            if acc.count < u.stats.count { acc += [Double](repeating: 0, count: u.stats.count - acc.count) }
            for (k, v) in u.stats.enumerated() { acc[k] += v }
            out[u.stratum] = acc
        }
        return out
    }

    /// The metric over every unit (equals the stored metric: the scorers' tests check it).
    public func value(_ metric: String) -> Double? {
        formulas[metric]?.value(sums(units.indices))
    }
}
