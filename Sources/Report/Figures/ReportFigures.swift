import Foundation
import Records

/// The series of the report figures: one per model × method (× VisPruner's ratio, when runs differ in it),
/// named as the paper names the methods and ordered as `SelectionMethod` lists them, so every figure of a
/// report gives one method the same colour and marker.
struct SeriesKey: Hashable, Comparable {
    var model: String
    var method: String
    var ratio: Double?

    static func < (a: SeriesKey, b: SeriesKey) -> Bool {
        func rank(_ m: String) -> Int { SelectionMethod.allCases.firstIndex { $0.rawValue == m } ?? SelectionMethod.allCases.count }
        if a.model != b.model { return a.model < b.model }
        if rank(a.method) != rank(b.method) { return rank(a.method) < rank(b.method) }
        if a.method != b.method { return a.method < b.method }
        return (a.ratio ?? -1) < (b.ratio ?? -1)
    }

    /// `showModel`/`showRatio`: only when the figure holds several models / several VisPruner ratios.
    func name(showModel: Bool, showRatio: Bool) -> String {
        var n = MethodName.display(method)
        if showRatio, let ratio { n += " (r=\(String(format: "%g", ratio)))" }
        return showModel ? "\(model): \(n)" : n
    }

    static func series(_ keys: [SeriesKey]) -> [LineChart.Series] {
        let showModel = Set(keys.map(\.model)).count > 1
        let showRatio = Set(keys.filter { $0.ratio != nil }.map(\.ratio)).count > 1
        return keys.enumerated().map { i, k in
            let (color, marker) = LineChart.style(i)
            return LineChart.Series(name: k.name(showModel: showModel, showRatio: showRatio), color: color, marker: marker)
        }
    }
}

/// Method names as the papers print them.
public enum MethodName {
    public static func display(_ method: String) -> String {
        switch method {
        case SelectionMethod.vispruner.rawValue: return "VisPruner"
        case SelectionMethod.fastervlm.rawValue: return "FasterVLM"
        case SelectionMethod.divprune.rawValue: return "DivPrune"
        case SelectionMethod.uniform.rawValue: return "Uniform"
        case SelectionMethod.random.rawValue: return "Random"
        case "unpruned": return "Unpruned"
        default: return method
        }
    }
}

/// Accuracy against visual tokens: one panel per benchmark with its headline score in the score table's
/// paper units, then the score table's last column ("average % of unpruned"); each panel's unpruned run as
/// the dashed reference.
public enum AccuracyFigure {
    public static let averageTitle = "Average"
    public static let averageLabel = "% of unpruned"

    /// `bootstrap` adds each point's 95% interval as an error bar (from the runs' stored units).
    public static func chart(_ results: [ResultRow], title: String = "Accuracy vs visual tokens",
                             layout: [BenchmarkColumns] = [], bootstrap: Bootstrap? = nil) -> LineChart {
        let table = ScoreTable(results, layout: layout)
        let (results, layout) = ScoreTable.separatingConvertedImages(results, layout: layout)
        let keys = Set(results.filter { !$0.isUnpruned }.map { SeriesKey(model: $0.model, method: $0.method, ratio: $0.ratio) }).sorted()
        // The layout's headline where it describes the benchmark, as the score table does; else the stored one.
        let headlines = Dictionary((layout + table.benchmarks.map(BenchmarkColumns.plain)).map { ($0.dataset, $0.headline) },
                                   uniquingKeysWith: { first, _ in first })
        // With several models, one unpruned reference per panel would be ambiguous: the first model's is drawn.
        let referenceModel = results.first(where: \.isUnpruned)?.model

        var panels: [LineChart.Panel] = []
        var anySubset = false
        for bench in table.benchmarks {
            guard let headline = headlines[bench] else { continue }
            let rows = results.filter { $0.dataset == bench }
            let subset = rows.contains(where: \.subset)
            anySubset = anySubset || subset
            let points = keys.map { k in
                rows.filter { !$0.isUnpruned && SeriesKey(model: $0.model, method: $0.method, ratio: $0.ratio) == k }
                    .compactMap { r in headline.value(r.metrics).map { (tokens: r.tokens ?? 0, value: $0) } }
                    .sorted { $0.tokens < $1.tokens }
            }
            let reference = rows.first { $0.isUnpruned && $0.model == referenceModel }.flatMap { headline.value($0.metrics) }
            var intervals: [[Int: Interval]] = []
            if let bootstrap {
                intervals = keys.map { k in
                    var bars: [Int: Interval] = [:]
                    for r in rows where !r.isUnpruned && !r.subset && SeriesKey(model: r.model, method: r.method, ratio: r.ratio) == k {
                        if let units = r.units, let i = bootstrap.interval(units, metric: headline.metric) {
                            bars[r.tokens ?? 0] = i.scaled(headline.scale)
                        }
                    }
                    return bars
                }
            }
            let barValues = intervals.flatMap { $0.values.flatMap { [$0.lower, $0.upper] } }
            var panel = LineChart.Panel(title: headline.title + (subset ? " \(ScoreTable.subsetMarker)" : ""),
                                        yLabel: headline.axisLabel ?? headline.title, points: points, reference: reference,
                                        yTicks: LineChart.ticks(points.flatMap { $0.map(\.value) } + barValues, reference: reference))
            panel.intervals = intervals
            panels.append(panel)
        }
        let relative = keys.map { k in
            table.rows.filter { $0.tokens != nil && SeriesKey(model: $0.model, method: $0.method, ratio: $0.ratio) == k }
                .compactMap { r in r.relative.map { (tokens: r.tokens ?? 0, value: $0) } }
                .sorted { $0.tokens < $1.tokens }
        }
        if relative.contains(where: { !$0.isEmpty }) {
            panels.append(LineChart.Panel(title: averageTitle, yLabel: averageLabel, points: relative, reference: 100,
                                          yTicks: LineChart.ticks(relative.flatMap { $0.map(\.value) }, reference: 100)))
        }
        var chart = LineChart(title: title, series: SeriesKey.series(keys),
                              referenceName: results.contains(where: \.isUnpruned) ? "Unpruned (all tokens)" : nil,
                              panels: panels, xTicks: Set(results.compactMap(\.tokens)).sorted())
        if panels.contains(where: { $0.intervals.contains { !$0.isEmpty } }) {
            chart.notes.append("Error bars: 95% bootstrap intervals over the benchmark's items")
        }
        if anySubset {
            chart.notes.append("\(ScoreTable.subsetMarker) subset run (--limit): scored on the items it answered")
        }
        return chart
    }
}

/// Latency against visual tokens from the stored per-item timings: time to first token (every stage up
/// to and including prefill, whose logits give the first token) and the whole item, mean over items.
public enum LatencyFigure {
    public static let firstTokenStages = ["preprocess", "vision", "prune", "projector", "prefill"]
    public static let firstTokenLabel = "Time to first token (ms)"
    public static let totalLabel = "Total latency (ms)"

    public static func chart(_ samples: [LatencySample], title: String = "Latency vs visual tokens (mean per item)") -> LineChart {
        struct Config: Hashable { var key: SeriesKey; var tokens: Int? }
        var groups: [Config: [LatencySample]] = [:]
        for s in samples {
            groups[Config(key: SeriesKey(model: s.model, method: s.method, ratio: s.ratio), tokens: s.tokens), default: []].append(s)
        }
        func mean(_ g: [LatencySample], _ value: (LatencySample) -> Double) -> Double {
            g.map(value).reduce(0, +) / Double(max(1, g.count))
        }
        let ttft: (LatencySample) -> Double = { s in firstTokenStages.compactMap { s.stages[$0] }.reduce(0, +) }
        let total: (LatencySample) -> Double = { s in s.stages["total"] ?? s.stages.values.reduce(0, +) }
        let keys = Set(groups.keys.filter { $0.tokens != nil }.map(\.key)).sorted()
        let referenceModel = samples.first { $0.tokens == nil }?.model
        let reference = groups.first { $0.key.tokens == nil && $0.key.key.model == referenceModel }?.value

        let panels = [(firstTokenLabel, ttft, "Time to first token"), (totalLabel, total, "Total latency")].map { label, value, heading in
            let points = keys.map { k in
                groups.filter { $0.key.key == k && $0.key.tokens != nil }
                    .map { (tokens: $0.key.tokens ?? 0, value: mean($0.value, value)) }
                    .sorted { $0.tokens < $1.tokens }
            }
            let ref = reference.map { mean($0, value) }
            return LineChart.Panel(title: heading, yLabel: label, points: points, reference: ref,
                                   yTicks: LineChart.ticks(points.flatMap { $0.map(\.value) }, reference: ref))
        }
        return LineChart(title: title, series: SeriesKey.series(keys),
                         referenceName: reference == nil ? nil : "Unpruned (all tokens)",
                         panels: panels, xTicks: Set(samples.compactMap(\.tokens)).sorted())
    }
}
