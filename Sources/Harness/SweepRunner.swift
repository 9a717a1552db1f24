import Foundation
import Benchmarks
import Records
import Store

/// Runs a `SweepPlan` against one results database: one engine per model (built once), one
/// benchmark object per benchmark, finished runs skipped, partial ones resumed.
public final class SweepRunner {
    /// What happened to one job.
    public enum Outcome: Sendable {
        case skipped(SweepJob, RunInfo)
        case evaluated(SweepJob, EvalSummary)
    }

    public let store: ResultsStore
    private let makeEngine: (String) throws -> AnswerEngine
    private let makeBenchmark: (String) throws -> Benchmark

    /// - Parameters:
    ///   - makeEngine: builds the engine for a model path (called once per model).
    ///   - makeBenchmark: builds the benchmark for a name (called once per benchmark).
    public init(store: ResultsStore, makeEngine: @escaping (String) throws -> AnswerEngine,
                makeBenchmark: @escaping (String) throws -> Benchmark) {
        self.store = store
        self.makeEngine = makeEngine
        self.makeBenchmark = makeBenchmark
    }

    /// Runs every job of `plan` in order. `options.limit` is replaced by the plan's limit when the
    /// plan has one. `onOutcome` sees each job as it ends (for printing and scoring).
    /// `onStart` sees each job before it runs, with its 1-based position and the plan's size.
    public func run(_ plan: SweepPlan, options: EvalOptions, onStart: (_ index: Int, _ count: Int, SweepJob) -> Void = { _, _, _ in },
                    onOutcome: (Outcome) throws -> Void = { _ in }) throws -> [Outcome] {
        var benchmarks: [String: Benchmark] = [:]
        var outcomes: [Outcome] = []
        var models: [String] = []
        for job in plan.jobs where !models.contains(job.model) { models.append(job.model) }
        var opts = options
        if let limit = plan.spec.limit { opts.limit = limit }
        for model in models {
            let engine = try makeEngine(model)
            for job in plan.jobs where job.model == model {
                onStart(outcomes.count + 1, plan.jobs.count, job)
                let benchmark: Benchmark
                if let b = benchmarks[job.dataset] { benchmark = b } else {
                    benchmark = try makeBenchmark(job.dataset)
                    benchmarks[job.dataset] = benchmark
                }
                let config = job.settings.config(modelID: engine.modelID, fingerprint: engine.fingerprint, spec: benchmark.spec)
                let outcome: Outcome
                if let run = try store.run(key: config.key), run.status == .complete, run.isComplete {
                    outcome = .skipped(job, run)
                } else {
                    let summary = try Evaluator(engine: engine, store: store).run(benchmark: benchmark, settings: job.settings, options: opts)
                    outcome = .evaluated(job, summary)
                }
                outcomes.append(outcome)
                try onOutcome(outcome)
            }
        }
        return outcomes
    }
}
