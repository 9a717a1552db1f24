import Foundation
import Benchmarks
import Store
import Records

/// Turning a stored run into answers and scores.
public enum RunScoring {
    /// The run's answers as the reference's answers file would list them, in question-file order.
    public static func answerRecords(store: ResultsStore, run: RunInfo) throws -> [AnswerRecord] {
        try store.predictions(run.id).map {
            AnswerRecord(questionID: $0.questionID, prompt: $0.prompt, text: $0.rawOutput,
                         answerID: $0.answerID, modelID: run.config.modelID)
        }
    }

    /// Scores a run and stores the metrics. Refuses a run with missing items (a lone shard, a
    /// `--limit` prefix, items that failed) unless `allowIncomplete`, because a partial score
    /// looks like a real one in every table.
    @discardableResult
    public static func score(store: ResultsStore, run: RunInfo, scorer: BenchmarkScorer,
                             allowIncomplete: Bool = false) throws -> ScoreReport {
        if !run.isComplete && !allowIncomplete {
            let expected = run.expectedItems.map(String.init) ?? "an unknown number of"
            throw HarnessError("""
                \(run.config.label) (run \(run.key.prefix(12))): \(run.doneItems) of \(expected) items answered; \
                refusing to score an incomplete run (merge all shards first, or pass --allow-incomplete)
                """)
        }
        let (report, metrics) = try compute(store: store, run: run, scorer: scorer)
        try store.setScores(run.id, metrics, units: report.units)
        return report
    }

    /// A run's score report and the metrics to store for it, without storing them. A subset run (`--limit`)
    /// is scored on the items it answered.
    public static func compute(store: ResultsStore, run: RunInfo, scorer: BenchmarkScorer) throws -> (ScoreReport, [Metric]) {
        let answers = try answerRecords(store: store, run: run)
        var report: ScoreReport
        if run.isSubset {
            report = try scorer.scoreAnswered(answers)
            report.notes.insert("subset: scored on the \(answers.count) answered items of \(run.benchmarkItems ?? 0) (--limit)", at: 0)
        } else {
            report = try scorer.score(answers)
        }
        // The headline is stored under a fixed name too, so reports need no per-benchmark knowledge.
        // An undefined value (GQA's distribution when no answered question has a global group) is not stored:
        // the database keeps numbers only, and storing NaN stopped the whole run with an SQLite error.
        var metrics = report.metrics.filter { $0.name != Metric.headlineName && $0.value.isFinite }
        if let h = report.headlineValue { metrics.append(Metric(Metric.headlineName, h)) }
        if let f = report.units?.formulas[report.headline] { report.units?.formulas[Metric.headlineName] = f }
        return (report, metrics)
    }

    /// Merges shard databases into `output` and describes the result in lines for the user.
    public static func mergeShards(output: String, shards: [String]) throws -> (report: MergeReport, lines: [String]) {
        guard !shards.isEmpty else { throw HarnessError("merge: no shard databases given") }
        let store = try ResultsStore(path: output)
        let report = try store.merge(from: shards)
        var lines = ["merged \(report.sources.count) file(s) into \(output): \(report.predictionsAdded) predictions added, "
                     + "\(report.duplicatesCollapsed) identical duplicates collapsed, \(report.runsAdded) runs added, "
                     + "\(report.runsMatched) matched"]
        for c in report.conflicts {
            let which = c.repeatedID ? " occurrence \(c.occurrence)" : ""
            lines.append("CONFLICT \(c.runLabel) question \(c.questionID.jsonLiteral)\(which) from \(c.source): "
                         + "differs in \(c.fields.joined(separator: ", ")); kept the stored answer")
        }
        for c in report.scoreConflicts {
            lines.append("CONFLICT score \(c.metric) of run \(c.runKey.prefix(12)) from \(c.source): \(c.rejected) vs stored \(c.kept); kept the stored value")
        }
        for key in report.partialScoresDropped {
            lines.append("note: scores of an incomplete copy of run \(key.prefix(12)) were not copied")
        }
        for key in report.staleScoresCleared {
            lines.append("note: run \(key.prefix(12)) gained answers; its old scores were removed (score it again)")
        }
        for key in report.incompleteRuns {
            if let run = try store.run(key: key) {
                let expected = run.expectedItems.map(String.init) ?? "?"
                lines.append("INCOMPLETE \(run.config.label): \(run.doneItems) of \(expected) items")
            }
        }
        return (report, lines)
    }
}
