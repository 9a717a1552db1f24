import Foundation
import Store
import Records

/// Reads result databases into the rows the tables and plots are built from.
public struct StoreReport: Sendable {
    public var results: [ResultRow] = []
    public var latency: [LatencySample] = []
    /// Runs left out (incomplete, unscored) with the reason, to show under the tables.
    public var notes: [String] = []

    public init(databases: [String]) throws {
        for path in databases {
            guard FileManager.default.fileExists(atPath: path) else {
                throw StoreError(.io, "\(path): no such database")
            }
            let store = try ResultsStore(path: path, readonly: true)
            for run in try store.runs() {
                let c = run.config
                let method = c.tokens == nil ? "unpruned" : c.method
                let ratio: Double? = c.tokens == nil ? nil : c.ratio
                for p in try store.predictions(run.id) {
                    latency.append(LatencySample(model: c.modelID, method: method, tokens: c.tokens, ratio: ratio,
                                                 stages: p.timings.dictionary.filter { $0.key != "load" },
                                                 generatedTokens: p.generatedTokens))
                }
                guard run.isComplete else {
                    notes.append("\(c.label): incomplete (\(run.doneItems) of \(run.expectedItems.map(String.init) ?? "?") items), not in the score table")
                    continue
                }
                guard let headline = try store.scores(run.id).first(where: { $0.name == Metric.headlineName }) else {
                    notes.append("\(c.label): not scored locally (e.g. VQAv2 test-dev is scored by the EvalAI server)")
                    continue
                }
                results.append(ResultRow(model: c.modelID, dataset: c.dataset, method: method, tokens: c.tokens,
                                         ratio: ratio, value: headline.value))
            }
        }
    }
}
