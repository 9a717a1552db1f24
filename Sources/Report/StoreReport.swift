import Foundation
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
                for p in try store.predictions(run.id) {
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
                        notes.append("\(c.label): complete but not scored (give the data root to score it)")
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
                results.append(ResultRow(model: c.modelID, dataset: c.dataset, method: method, tokens: c.tokens, ratio: ratio,
                                         value: headline.value,
                                         metrics: Dictionary(metrics.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a }),
                                         subset: run.isSubset, items: run.doneItems))
            }
        }
    }
}
