import Foundation
import Pruning
import Records
import Store

/// Reads result databases into the rows the tables and plots are built from.
public struct StoreReport: Sendable {
    public var results: [ResultRow] = []
    public var latency: [LatencySample] = []
    /// Runs left out (incomplete, unscored) with the reason, to show under the tables.
    public var notes: [String] = []

    /// `score` is asked for complete runs without stored scores (a merge, or a run killed between its last
    /// answer and its scoring); without it such runs are listed as unscored.
    public init(databases: [String], score: ((ResultsStore, RunInfo) -> RunScoreLookup)? = nil) throws {
        var unscoreable: [String: (count: Int, at: Int)] = [:]  // dataset + reason -> runs, index of its note
        for path in databases {
            guard FileManager.default.fileExists(atPath: path) else {
                throw StoreError(.io, "\(path): no such database")
            }
            let store = try ResultsStore(path: path, readonly: true)
            for run in try store.runs() {
                let c = run.config
                let method = c.tokens == nil ? "unpruned" : c.method
                // The ratio is a parameter of VisPruner only; the others are one row whatever ratio was stored.
                let ratio: Double? = c.pruning.method?.usesRatio == true ? c.ratio : nil
                let predictions = try store.predictions(run.id)
                if run.config.settings.opensImagesUnconverted {
                    // How many items the reference's unconverted-image handling changed, and how many it cannot process.
                    var paths: [ImagePath: Int] = [:]
                    for p in predictions { if let path = p.imagePath { paths[path, default: 0] += 1 } }
                    notes.append("\(c.label): images opened as the reference opens them: \(paths[.quirk] ?? 0) items padded "
                                 + "in their own mode (palette black-out, CMYK ink), \(paths[.fallback] ?? 0) converted to RGB "
                                 + "because the reference cannot pad them (fallback), \(paths[.plain] ?? 0) unchanged")
                }
                for p in predictions {
                    latency.append(LatencySample(model: c.modelID, method: method, tokens: c.tokens, ratio: ratio,
                                                 stages: p.timings.dictionary.filter { $0.key != "load" },
                                                 generatedTokens: p.generatedTokens, cost: p.cost,
                                                 runPeakRSSBytes: run.peakRSSBytes))
                }
                guard run.isComplete else {
                    notes.append("\(c.label): incomplete (\(run.doneItems) of \(run.expectedItems.map(String.init) ?? "?") items), not in the score table")
                    continue
                }
                var metrics = try store.scores(run.id)
                if !metrics.contains(where: { $0.name == Metric.headlineName }) {
                    switch score?(store, run) {
                    case .metrics(let m)?: metrics = m
                    case .notScoredLocally(let why)?:
                        // A benchmark without local labels says so once, however many settings it was run at.
                        let key = c.dataset + "\u{0}" + why
                        if let g = unscoreable[key] {
                            unscoreable[key] = (g.count + 1, g.at)
                            notes[g.at] = "\(c.dataset) (\(g.count + 1) runs): not scored locally: \(why)"
                        } else {
                            unscoreable[key] = (1, notes.count)
                            notes.append("\(c.label): not scored locally: \(why)")
                        }
                        continue
                    case .unavailable(let why)?:
                        notes.append("\(c.label): complete but not scored: \(why)")
                        continue
                    case nil:
                        // Without the registry and data root the report cannot tell whether this split has local labels.
                        notes.append("\(c.label): complete but not scored here (no data root): `vispruner report --data-root DIR` "
                                     + "scores it if \(c.dataset) \(c.split) has labels there; a split scored only by its benchmark's "
                                     + "server (VQAv2 test-dev) is exported for upload with `vispruner export \(c.dataset) --db FILE --run \(run.id) "
                                     + "--data-root DIR --out DIR`")
                        continue
                    }
                }
                guard let headline = metrics.first(where: { $0.name == Metric.headlineName }) else {
                    notes.append("\(c.label): its benchmark reports no headline metric")
                    continue
                }
                if run.isSubset {
                    notes.append("\(c.label): subset (\(run.expectedItems ?? 0) of \(run.benchmarkItems ?? 0) items, --limit); marked †")
                }
                var row = ResultRow(model: c.modelID, dataset: c.dataset, method: method, tokens: c.tokens, ratio: ratio,
                                    value: headline.value,
                                    metrics: Dictionary(metrics.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a }),
                                    subset: run.isSubset, items: run.doneItems, units: try store.scoreUnits(run.id))
                row.imagesUnconverted = c.settings.opensImagesUnconverted
                let margins = predictions.compactMap(\.selectionMargin)
                if !margins.isEmpty {
                    row.nearTies = (margins.filter { $0 < SelectionMargin.nearTie }.count, margins.count)
                }
                results.append(row)
            }
        }
    }
}
