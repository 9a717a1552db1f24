import Foundation
import Datasets
import Store

/// Runs a `SweepPlan` against one results database: one engine per model (built once), one
/// adapter per benchmark, finished runs skipped, partial ones resumed.
public final class SweepRunner {
    /// What happened to one job.
    public enum Outcome: Sendable {
        case skipped(SweepJob, RunInfo)
        case evaluated(SweepJob, EvalSummary)
    }

    public let store: ResultsStore
    private let makeEngine: (String) throws -> AnswerEngine
    private let makeAdapter: (String) throws -> BenchmarkAdapter

    /// - Parameters:
    ///   - makeEngine: builds the engine for a model path (called once per model).
    ///   - makeAdapter: builds the adapter for a benchmark name (called once per benchmark).
    public init(store: ResultsStore, makeEngine: @escaping (String) throws -> AnswerEngine,
                makeAdapter: @escaping (String) throws -> BenchmarkAdapter) {
        self.store = store
        self.makeEngine = makeEngine
        self.makeAdapter = makeAdapter
    }

    /// Runs every job of `plan` in order. `options.limit` is replaced by the plan's limit when the
    /// plan has one. `onOutcome` sees each job as it ends (for printing and scoring).
    public func run(_ plan: SweepPlan, options: EvalOptions, onOutcome: (Outcome) throws -> Void = { _ in }) throws -> [Outcome] {
        var adapters: [String: BenchmarkAdapter] = [:]
        var outcomes: [Outcome] = []
        var models: [String] = []
        for job in plan.jobs where !models.contains(job.model) { models.append(job.model) }
        var opts = options
        if let limit = plan.spec.limit { opts.limit = limit }
        for model in models {
            let engine = try makeEngine(model)
            for job in plan.jobs where job.model == model {
                let adapter: BenchmarkAdapter
                if let a = adapters[job.dataset] { adapter = a } else {
                    adapter = try makeAdapter(job.dataset)
                    adapters[job.dataset] = adapter
                }
                let config = job.settings.config(modelID: engine.modelID, fingerprint: engine.fingerprint, spec: adapter.spec)
                let outcome: Outcome
                if let run = try store.run(key: config.key), run.status == .complete, run.isComplete {
                    outcome = .skipped(job, run)
                } else {
                    let summary = try Evaluator(engine: engine, store: store).run(adapter: adapter, settings: job.settings, options: opts)
                    outcome = .evaluated(job, summary)
                }
                outcomes.append(outcome)
                try onOutcome(outcome)
            }
        }
        return outcomes
    }
}
