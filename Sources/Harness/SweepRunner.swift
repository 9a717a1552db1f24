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

    /// Runs every job of `plan`. `options.limit` is replaced by the plan's limit when the plan has one.
    /// The unfinished jobs of one model and benchmark run together as one image-major grid
    /// (`Evaluator.runGrid`: each image's questions under all those settings at once, so its features and
    /// prefixes are computed once); finished runs are skipped. `onStart` sees each job before it runs, with
    /// its 1-based position and the plan's size; `onOutcome` sees each job as it ends (for printing and scoring).
    public func run(_ plan: SweepPlan, options: EvalOptions, onStart: (_ index: Int, _ count: Int, SweepJob) -> Void = { _, _, _ in },
                    onOutcome: (Outcome) throws -> Void = { _ in }) throws -> [Outcome] {
        var benchmarks: [String: Benchmark] = [:]
        var outcomes: [Outcome] = []
        var models: [String] = []
        for job in plan.jobs where !models.contains(job.model) { models.append(job.model) }
        var opts = options
        if let limit = plan.spec.limit { opts.limit = limit }
        var started = 0
        for model in models {
            let engine = try makeEngine(model)
            var datasets: [String] = []
            for job in plan.jobs where job.model == model && !datasets.contains(job.dataset) { datasets.append(job.dataset) }
            for dataset in datasets {
                let benchmark: Benchmark
                if let b = benchmarks[dataset] { benchmark = b } else {
                    benchmark = try makeBenchmark(dataset)
                    benchmarks[dataset] = benchmark
                }
                var pending: [SweepJob] = []
                for job in plan.jobs where job.model == model && job.dataset == dataset {
                    started += 1
                    onStart(started, plan.jobs.count, job)
                    let config = job.settings.config(modelID: engine.modelID, fingerprint: engine.fingerprint, spec: benchmark.spec)
                    if let run = try store.run(key: config.key), run.status == .complete, run.isComplete {
                        let outcome = Outcome.skipped(job, run)
                        outcomes.append(outcome)
                        try onOutcome(outcome)
                    } else {
                        pending.append(job)
                    }
                }
                guard !pending.isEmpty else { continue }
                let summaries = try Evaluator(engine: engine, store: store)
                    .runGrid(benchmark: benchmark, settings: pending.map(\.settings), options: opts)
                for (job, summary) in zip(pending, summaries) {
                    let outcome = Outcome.evaluated(job, summary)
                    outcomes.append(outcome)
                    try onOutcome(outcome)
                }
            }
        }
        return outcomes
    }
}
