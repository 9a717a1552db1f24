import Records

/// A confidence interval in the units of the value it is about.
public struct Interval: Equatable, Sendable {
    public var lower: Double
    public var upper: Double
    public init(lower: Double, upper: Double) { self.lower = lower; self.upper = upper }
    public func scaled(_ s: Double) -> Interval {
        s >= 0 ? Interval(lower: lower * s, upper: upper * s) : Interval(lower: upper * s, upper: lower * s)
    }
}

/// A pruned run's score minus the unpruned run's, over the items both answered, with its interval.
public struct PairedDifference: Equatable, Sendable {
    public var difference: Double
    public var interval: Interval
    /// Resampling units both runs have.
    public var units: Int
}

/// The percentile bootstrap the report puts beside every score (EVAL.md, "Intervals").
///
/// Units (`ScoreUnit`: an item, MME's image pair, POPE's answer-label pair) are resampled with replacement
/// within their stratum (POPE's split, MME's task), each stratum keeping its size; the metric is recomputed
/// from the replicate's summed statistics (`UnitFormula`), and the interval is the replicates' 2.5th and 97.5th
/// percentiles (linear interpolation between order statistics, numpy's default). Replicates where the metric is
/// undefined (a division by zero) are left out. The draws are fixed by `seed`: index `i` of a stratum of `n` units
/// is `splitmix64() % n`, strata in sorted order, units in stored order — so the same database gives the same
/// interval on every machine, and `Tests/Fixtures/bootstrap/` recomputes it independently in Python.
public struct Bootstrap: Sendable {
    public var replicates: Int
    public var seed: UInt64
    public var level: Double

    public init(replicates: Int = 1000, seed: UInt64 = 0, level: Double = 0.95) {
        self.replicates = replicates
        self.seed = seed
        self.level = level
    }

    /// Unit indices grouped by stratum, strata sorted by name, units in stored order.
    static func strata(_ units: [ScoreUnit]) -> [[Int]] {
        var groups: [String: [Int]] = [:]
        for (i, u) in units.enumerated() { groups[u.stratum, default: []].append(i) }
        return groups.keys.sorted().map { groups[$0]! }
    }

    /// The metric's interval over `scores`' units; nil without a formula for it or with no defined replicate.
    public func interval(_ scores: UnitScores, metric: String) -> Interval? {
        guard let formula = scores.formulas[metric], !scores.units.isEmpty else { return nil }
        var values: [Double] = []
        draw(Self.strata(scores.units)) { indices in
            if let v = formula.value(scores.sums(indices)) { values.append(v) }
        }
        return percentileInterval(values)
    }

    /// `a` minus `b` for `metric`, over the units both have (joined on stratum and id), with the interval of the
    /// difference: each replicate draws one set of units and computes both runs' metric on it.
    public func pairedDifference(_ a: UnitScores, _ b: UnitScores, metric: String) -> PairedDifference? {
        guard let fa = a.formulas[metric], let fb = b.formulas[metric] else { return nil }
        var indexOfB: [String: Int] = [:]
        for (j, u) in b.units.enumerated() { indexOfB[u.stratum + "\u{0}" + u.id] = j }
        var joinedA: [ScoreUnit] = [], joinedB: [ScoreUnit] = []
        for u in a.units {
            guard let j = indexOfB[u.stratum + "\u{0}" + u.id] else { continue }
            joinedA.append(u)
            joinedB.append(b.units[j])
        }
        guard !joinedA.isEmpty else { return nil }
        let ja = UnitScores(units: joinedA, formulas: a.formulas), jb = UnitScores(units: joinedB, formulas: b.formulas)
        guard let va = fa.value(ja.sums(joinedA.indices)), let vb = fb.value(jb.sums(joinedB.indices)) else { return nil }
        var values: [Double] = []
        draw(Self.strata(joinedA)) { indices in
            if let x = fa.value(ja.sums(indices)), let y = fb.value(jb.sums(indices)) { values.append(x - y) }
        }
        guard let interval = percentileInterval(values) else { return nil }
        return PairedDifference(difference: va - vb, interval: interval, units: joinedA.count)
    }

    /// Calls `body` with each replicate's unit indices.
    func draw(_ strata: [[Int]], _ body: ([Int]) -> Void) {
        var rng = SplitMix64(state: seed)
        let total = strata.reduce(0) { $0 + $1.count }
        var indices = [Int](repeating: 0, count: total)
        for _ in 0..<max(0, replicates) {
            var k = 0
            for group in strata {
                let n = UInt64(group.count)
                for _ in 0..<group.count {
                    indices[k] = group[Int(rng.next() % n)]
                    k += 1
                }
            }
            body(indices)
        }
    }

    func percentileInterval(_ values: [Double]) -> Interval? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let tail = (1 - level) / 2
        return Interval(lower: Self.percentile(sorted, tail), upper: Self.percentile(sorted, 1 - tail))
    }

    /// numpy's default ("linear") percentile of sorted values, q in [0, 1].
    static func percentile(_ sorted: [Double], _ q: Double) -> Double {
        let h = Double(sorted.count - 1) * q
        let lo = Int(h.rounded(.down)), hi = min(lo + 1, sorted.count - 1)
        return sorted[lo] + (h - Double(lo)) * (sorted[hi] - sorted[lo])
    }
}
