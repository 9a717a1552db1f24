import Foundation
import Pruning
import Records

/// The paper's table layout: rows = model × method × token budget (× ratio), columns = benchmarks,
/// last column = mean over benchmarks of the score relative to the unpruned model of the same model, in %.
public struct ScoreTable: Equatable, Sendable {
    public struct Row: Equatable, Sendable {
        public var model: String
        public var method: String
        public var tokens: Int?
        public var ratio: Double?
        /// Value per column, in paper units (nil when that benchmark was not run for this row).
        public var values: [Double?]
        /// Mean over benchmarks of headline / unpruned headline, × 100; nil without an unpruned reference.
        public var relative: Double?
        /// Benchmarks whose run for this row is a subset (`--limit`).
        public var subsets: Set<String>
        /// Items each benchmark's score is over, by benchmark (absent: not known).
        public var items: [String: Int] = [:]
        /// Per column, the 95% bootstrap interval in the column's units (nil: no units stored, or not computed).
        public var intervals: [Interval?] = []
        /// Per column, this row minus the unpruned row of the same model over the items both answered, with
        /// its paired interval (nil for the unpruned row itself and where either run has no units).
        public var differences: [PairedDifference?] = []
        /// Per benchmark, items whose selection margin is a near tie, of the items whose selection ranked anything.
        public var nearTies: [String: NearTies] = [:]
    }

    public struct NearTies: Equatable, Sendable {
        public var count: Int
        public var of: Int
        public var share: Double { of == 0 ? 0 : Double(count) / Double(of) }
    }

    /// Benchmarks present, in column order.
    public var benchmarks: [String]
    /// The score columns: each benchmark's columns in paper units, benchmarks in `benchmarks` order.
    public var columns: [(dataset: String, column: TableColumn)]
    public var rows: [Row]

    public static func == (a: ScoreTable, b: ScoreTable) -> Bool {
        a.benchmarks == b.benchmarks && a.rows == b.rows
            && a.columns.map(\.dataset) == b.columns.map(\.dataset) && a.columns.map(\.column) == b.columns.map(\.column)
    }

    /// `layout` gives the benchmarks' columns and order (the registry's, which is the paper's); benchmarks it
    /// does not list follow alphabetically with their headline metric as stored.
    /// `bootstrap` adds intervals and paired differences from the runs' stored units (`Bootstrap`); nil leaves them out.
    public init(_ results: [ResultRow], layout: [BenchmarkColumns] = [], bootstrap: Bootstrap? = nil) {
        let (results, layout) = Self.separatingConvertedImages(results, layout: layout)
        var names = Set(results.map(\.dataset))
        var used: [BenchmarkColumns] = layout.filter { names.contains($0.dataset) }
        names.subtract(used.map(\.dataset))
        used += names.sorted().map { BenchmarkColumns.plain($0) }
        benchmarks = used.map(\.dataset)
        columns = used.flatMap { b in b.columns.map { (b.dataset, $0) } }
        let headlines = Dictionary(uniqueKeysWithValues: used.map { ($0.dataset, $0.headline) })

        var grouped: [ConfigKey: [String: ResultRow]] = [:]
        var order: [ConfigKey] = []
        for r in results {
            let k = ConfigKey(model: r.model, method: r.method, tokens: r.tokens, ratio: r.ratio)
            if grouped[k] == nil { order.append(k) }
            grouped[k, default: [:]][r.dataset] = r
        }
        order.sort()
        let cols = columns
        rows = order.map { k in
            let runs = grouped[k] ?? [:]
            let vals = cols.map { c in runs[c.dataset].flatMap { c.column.value($0.metrics) } }
            let base = grouped[ConfigKey(model: k.model, method: "unpruned", tokens: nil, ratio: nil)]
            var rel: Double? = nil
            if let base {
                // As the VisPruner paper: each benchmark relative to the unpruned run of the same model, then averaged.
                let pairs = used.compactMap { b -> Double? in
                    guard let h = headlines[b.dataset], let v = runs[b.dataset].flatMap({ h.value($0.metrics) }),
                          let u = base[b.dataset].flatMap({ h.value($0.metrics) }), u != 0 else { return nil }
                    return v / u
                }
                if !pairs.isEmpty { rel = 100 * pairs.reduce(0, +) / Double(pairs.count) }
            }
            var row = Row(model: k.model, method: k.method, tokens: k.tokens, ratio: k.ratio, values: vals, relative: rel,
                          subsets: Set(runs.values.filter(\.subset).map(\.dataset)),
                          items: runs.compactMapValues(\.items))
            row.nearTies = runs.compactMapValues { $0.nearTies.map { NearTies(count: $0.count, of: $0.of) } }
            if let bootstrap {
                (row.intervals, row.differences) = Self.intervals(cols, runs: runs, baseline: k.tokens == nil ? nil : base,
                                                                  bootstrap: bootstrap)
                // Nothing beside a value the table does not show (MME's total without cognition tasks).
                for i in vals.indices where vals[i] == nil { row.intervals[i] = nil; row.differences[i] = nil }
            }
            return row
        }
    }

    /// A benchmark whose reference opens images unconverted (ScienceQA): its runs on RGB-converted images
    /// (`--images rgb`, and runs stored before that option existed) are another measurement, shown under a
    /// key and columns of their own.
    static func separatingConvertedImages(_ results: [ResultRow], layout: [BenchmarkColumns]) -> ([ResultRow], [BenchmarkColumns]) {
        let unconverted = Set(layout.filter(\.opensImagesUnconverted).map(\.dataset))
        let separated = results.map { r -> ResultRow in
            guard unconverted.contains(r.dataset), !r.imagesUnconverted else { return r }
            var r = r
            r.dataset = BenchmarkColumns.convertedKey(r.dataset)
            return r
        }
        return (separated, layout.flatMap { $0.opensImagesUnconverted ? [$0, $0.convertedVariant] : [$0] })
    }

    /// The metric a column's interval is computed for: its own, or for a sum of metrics the metric it is
    /// stored under (MME's total has a formula of its own).
    static func intervals(_ cols: [(dataset: String, column: TableColumn)], runs: [String: ResultRow], baseline: [String: ResultRow]?,
                          bootstrap: Bootstrap) -> ([Interval?], [PairedDifference?]) {
        var intervals: [Interval?] = [], differences: [PairedDifference?] = []
        for c in cols {
            let run = runs[c.dataset]
            guard let units = run?.units, run?.subset == false else { intervals.append(nil); differences.append(nil); continue }
            intervals.append(bootstrap.interval(units, metric: c.column.metric)?.scaled(c.column.scale))
            if let baseUnits = baseline?[c.dataset]?.units, baseline?[c.dataset]?.subset == false,
               var d = bootstrap.pairedDifference(units, baseUnits, metric: c.column.metric) {
                d.difference *= c.column.scale
                d.interval = d.interval.scaled(c.column.scale)
                differences.append(d)
            } else {
                differences.append(nil)
            }
        }
        return (intervals, differences)
    }

    /// Convenience for callers that only know the column order (each benchmark its headline as stored).
    public init(_ results: [ResultRow], columnOrder: [String], bootstrap: Bootstrap? = nil) {
        self.init(results, layout: columnOrder.map { BenchmarkColumns.plain($0) }, bootstrap: bootstrap)
    }

    /// "± h" where h is half the interval's width, in the value's digits.
    static func plusMinus(_ i: Interval?, digits: Int = 1) -> String {
        guard let i, i.lower.isFinite, i.upper.isFinite else { return "" }
        return " ± " + String(format: "%.\(digits)f", (i.upper - i.lower) / 2)
    }

    /// Whether any row carries an interval (the table then explains them).
    public var hasIntervals: Bool { rows.contains { $0.intervals.contains { $0 != nil } } }
    public var hasDifferences: Bool { rows.contains { $0.differences.contains { $0 != nil } } }

    static func fmt(_ v: Double?, digits: Int = 1) -> String {
        guard let v else { return "–" }
        return v.isNaN ? "nan" : String(format: "%.\(digits)f", v)
    }

    static func budget(_ t: Int?) -> String { t.map(String.init) ?? "all" }
    static func ratioText(_ r: Double?) -> String { r.map { String(format: "%g", $0) } ?? "–" }

    /// The marker on values of subset runs, explained under the table.
    public static let subsetMarker = "†"

    /// The item count of a benchmark when every row that ran it has the same one (the usual case: it then goes
    /// in the column header instead of every cell); nil when unknown or when rows differ.
    public func commonItems(_ dataset: String) -> Int? {
        let cols = columns.indices.filter { columns[$0].dataset == dataset }
        let ran = rows.filter { r in cols.contains { r.values[$0] != nil } }
        let counts = Set(ran.map { $0.items[dataset] })
        guard counts.count == 1, let n = counts.first ?? nil else { return nil }
        return n
    }

    /// GitHub-flavoured Markdown. Each score says how many items it is over: in its column's header
    /// ("(n=203)") when all rows agree, else beside the value.
    public func markdown() -> String {
        var lines: [String] = []
        var common: [String: Int] = [:]
        for b in benchmarks { common[b] = commonItems(b) }
        let titles = columns.enumerated().map { i, c -> String in
            // A column no row has a value in (MME-C when only perception tasks were run) counts nothing.
            guard let n = common[c.dataset], rows.contains(where: { $0.values[i] != nil }) else { return c.column.title }
            return c.column.title + " (n=\(n))"
        }
        let header = ["Model", "Method", "Tokens", "Ratio"] + titles + ["Avg (% of unpruned)"]
        lines.append("| " + header.joined(separator: " | ") + " |")
        lines.append("|" + header.enumerated().map { $0.offset < 2 ? "---" : "---:" }.joined(separator: "|") + "|")
        for r in rows {
            let values = zip(columns, r.values).map { c, v -> String in
                guard v != nil else { return Self.fmt(v) }
                let marker = r.subsets.contains(c.dataset) ? Self.subsetMarker : ""
                let n = common[c.dataset] == nil ? r.items[c.dataset].map { " (n=\($0))" } ?? "" : ""
                let i = r.intervals.indices.contains(index(of: c)) ? r.intervals[index(of: c)] : nil
                return Self.fmt(v) + Self.plusMinus(i) + marker + n
            }
            let cells = [r.model, r.method, Self.budget(r.tokens), Self.ratioText(r.ratio)]
                + values + [r.relative.map { Self.fmt($0) + "%" } ?? "–"]
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        if rows.contains(where: { !$0.subsets.isEmpty }) {
            lines.append("")
            lines.append("\(Self.subsetMarker) subset run (`--limit`): scored on the items it answered, not comparable with whole-benchmark numbers.")
        }
        if hasIntervals {
            lines.append("")
            lines.append("± is half the width of a 95% percentile-bootstrap interval over the benchmark's items "
                         + "(MME: image pairs within each task; POPE: answers within each split); EVAL.md, \"Intervals\".")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The score table followed by the paired differences and the near-tie shares, where there are any: what
    /// `report` prints and `scores.md` holds.
    public func fullMarkdown() -> String {
        ([markdown(), differencesMarkdown(), nearTiesMarkdown()].filter { !$0.isEmpty }).joined(separator: "\n")
    }

    /// The paired comparison with the unpruned model: per pruned row and column, the difference of the scores
    /// over the items both runs answered and its 95% paired-bootstrap interval. An interval that excludes 0 is a
    /// difference the items support; one that includes 0 is not distinguishable from no change at this size.
    public func differencesMarkdown() -> String {
        guard hasDifferences else { return "" }
        let header = ["Model", "Method", "Tokens", "Ratio"] + columns.map { "Δ " + $0.column.title }
        var lines = ["| " + header.joined(separator: " | ") + " |",
                     "|" + header.enumerated().map { $0.offset < 2 ? "---" : "---:" }.joined(separator: "|") + "|"]
        for r in rows where r.differences.contains(where: { $0 != nil }) {
            let cells = r.differences.map { d -> String in
                guard let d else { return "–" }
                return String(format: "%+.1f [%+.1f, %+.1f]", d.difference, d.interval.lower, d.interval.upper)
            }
            lines.append("| " + ([r.model, r.method, Self.budget(r.tokens), Self.ratioText(r.ratio)] + cells).joined(separator: " | ") + " |")
        }
        lines.append("")
        lines.append("Δ: the row's score minus the unpruned model's over the items both answered, with a 95% paired-bootstrap interval.")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Per pruned row and benchmark, the share of items whose selection had a near tie at one of its cuts
    /// (`SelectionMargin.nearTie`): those items' kept sets, and possibly their answers, could change with the
    /// arithmetic alone (another CPU, float64). Empty when no run stores margins.
    public func nearTiesMarkdown() -> String {
        let ranked = rows.filter { !$0.nearTies.isEmpty }
        guard !ranked.isEmpty else { return "" }
        let header = ["Model", "Method", "Tokens", "Ratio"] + benchmarks
        var lines = ["| " + header.joined(separator: " | ") + " |",
                     "|" + header.enumerated().map { $0.offset < 2 ? "---" : "---:" }.joined(separator: "|") + "|"]
        for r in ranked {
            let cells = benchmarks.map { b -> String in
                guard let t = r.nearTies[b] else { return "–" }
                return String(format: "%.1f%% (%d/%d)", 100 * t.share, t.count, t.of)
            }
            lines.append("| " + ([r.model, r.method, Self.budget(r.tokens), Self.ratioText(r.ratio)] + cells).joined(separator: " | ") + " |")
        }
        lines.append("")
        lines.append(String(format: "Near-tie selections: items whose selection decided a cut by a relative score gap below %g "
                            + "(EVAL.md, \"Arithmetic envelope\"); their kept sets can change with the arithmetic alone.",
                            SelectionMargin.nearTie))
        return lines.joined(separator: "\n") + "\n"
    }

    private func index(of c: (dataset: String, column: TableColumn)) -> Int {
        columns.firstIndex { $0.dataset == c.dataset && $0.column == c.column } ?? -1
    }

    /// RFC 4180 CSV with full precision values (paper units) and the subset benchmarks of each row.
    public func csv() -> String {
        let hasSubsets = rows.contains { !$0.subsets.isEmpty }
        let counted = benchmarks.filter { b in rows.contains { $0.items[b] != nil } }
        var header = ["model", "method", "tokens", "ratio"] + columns.map(\.column.title) + ["relative_percent"]
        if hasSubsets { header.append("subset_benchmarks") }
        header += counted.map { "\($0)_items" }
        let withIntervals = hasIntervals, withDifferences = hasDifferences
        let tied = benchmarks.filter { b in rows.contains { $0.nearTies[b] != nil } }
        header += tied.flatMap { ["\($0)_near_ties", "\($0)_ranked"] }
        if withIntervals { header += columns.flatMap { ["\($0.column.title) lower", "\($0.column.title) upper"] } }
        if withDifferences {
            header += columns.flatMap { ["\($0.column.title) diff", "\($0.column.title) diff lower", "\($0.column.title) diff upper"] }
        }
        var lines = [header.map(CSV.field).joined(separator: ",")]
        func text(_ v: Double?) -> String { v.map { String($0) } ?? "" }
        for r in rows {
            var cells = [r.model, r.method, r.tokens.map(String.init) ?? "", r.ratio.map { String($0) } ?? ""]
                + r.values.map { $0.map { String($0) } ?? "" } + [r.relative.map { String($0) } ?? ""]
            if hasSubsets { cells.append(r.subsets.sorted().joined(separator: ";")) }
            cells += counted.map { r.items[$0].map(String.init) ?? "" }
            cells += tied.flatMap { b in [r.nearTies[b].map { String($0.count) } ?? "", r.nearTies[b].map { String($0.of) } ?? ""] }
            if withIntervals {
                cells += columns.indices.flatMap { i -> [String] in
                    let v = r.intervals.indices.contains(i) ? r.intervals[i] : nil
                    return [text(v?.lower), text(v?.upper)]
                }
            }
            if withDifferences {
                cells += columns.indices.flatMap { i -> [String] in
                    let d = r.differences.indices.contains(i) ? r.differences[i] : nil
                    return [text(d?.difference), text(d?.interval.lower), text(d?.interval.upper)]
                }
            }
            lines.append(cells.map(CSV.field).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

enum CSV {
    static func field(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
