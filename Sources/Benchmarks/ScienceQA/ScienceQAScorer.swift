import Foundation
import Records

/// ScienceQA scores as LLaVA's `eval_science_qa.py` computes them over every problem of the test
/// split (`accuracy`, `img_accuracy` in percent, plus `correct`, `total`, `img_correct`, `img_total`),
/// with ScienceQA's per-category breakdown (`category.<group>`, `topic.<topic>`, percent).
/// Headline: `img_accuracy` — with CQM-I answers only image questions are answered, so `accuracy`
/// counts every text-only problem as wrong, and IMG-Accuracy is the ScienceQA-IMG number.
public struct ScienceQAScorer: BenchmarkScorer {
    public let spec: DatasetSpec
    public let dataRoot: URL
    public let problems: ScienceQAProblems
    /// Problem ids of the evaluated split in pid_splits.json order.
    public private(set) var splitIDs: [String]

    public init(spec: DatasetSpec, dataRoot: URL) throws {
        self.spec = spec
        self.dataRoot = dataRoot
        let adapter = ScienceQABenchmark(spec: spec, dataRoot: dataRoot)
        problems = try adapter.problems()
        // The spec's split names the LLaVA split; pid_splits.json calls it "test".
        if !spec.split.isEmpty, let ids = try? adapter.splitIDs(spec.split) {
            splitIDs = ids
        } else {
            splitIDs = try adapter.splitIDs("test")
        }
    }

    /// The script's per-problem outcomes for these answers.
    public func evaluate(_ answers: [AnswerRecord]) throws -> ScienceQAEvaluation {
        try ScienceQAEvaluation.evaluate(answers, splitIDs: splitIDs, problems: problems)
    }

    public func scoreAnswered(_ answers: [AnswerRecord]) throws -> ScoreReport {
        var answered = Set<String>()
        for a in answers { if case .string(let s) = a.questionID { answered.insert(s) } }
        var subset = self
        subset.splitIDs = splitIDs.filter { answered.contains($0) }
        return try subset.score(answers)
    }

    public func score(_ answers: [AnswerRecord]) throws -> ScoreReport {
        let evaluation = try evaluate(answers)
        var notes: [String] = []
        let split = Set(splitIDs)
        var ids: [QuestionID: Int] = [:]
        for a in answers { ids[a.questionID, default: 0] += 1 }
        let answeredInSplit = ids.keys.filter { if case .string(let s) = $0 { return split.contains(s) } else { return false } }.count
        if answeredInSplit < split.count {
            notes.append("ScienceQA: \(split.count - answeredInSplit) of \(split.count) test problems have no answer and count as FAILED")
        }
        let extra = ids.count - answeredInSplit
        if extra > 0 { notes.append("ScienceQA: \(extra) answer ids are not test problems and were ignored") }
        let repeated = ids.values.filter { $0 > 1 }.count
        if repeated > 0 { notes.append("ScienceQA: \(repeated) question ids appear more than once; the later line wins") }
        guard let accuracy = evaluation.accuracy else {
            throw DatasetError("ScienceQA: the test split in pid_splits.json is empty")
        }
        var metrics = [Metric("accuracy", accuracy)]
        if let img = evaluation.imageAccuracy {
            metrics.append(Metric("img_accuracy", img))
        } else {
            notes.append("ScienceQA: no answer prompt contains <image>, so img_accuracy is undefined")
        }
        metrics += [Metric("correct", Double(evaluation.correct)), Metric("total", Double(evaluation.total)),
                    Metric("img_correct", Double(evaluation.multimodalCorrect)),
                    Metric("img_total", Double(evaluation.multimodalTotal))]
        let (breakdown, unscored) = ScienceQACategories.scores(evaluation, problems: problems)
        if unscored > 0 {
            notes.append("ScienceQA: \(unscored) problems marked split \"test\" in problems.json are not in pid_splits.json; counted wrong in the breakdown")
        }
        for (key, value) in breakdown {
            metrics.append(Metric(key.hasPrefix("topic.") ? key : "category." + key, value))
        }
        // One unit per problem: [correct, 1, correct image question, image question].
        let units = evaluation.entries.map { e in
            ScoreUnit(id: e.questionID, stats: [e.correct ? 1 : 0, 1, e.correct && e.isMultimodal ? 1 : 0, e.isMultimodal ? 1 : 0])
        }
        var formulas: [String: UnitFormula] = ["accuracy": .ratio(numerator: 0, denominator: 1, scale: 100)]
        if evaluation.imageAccuracy != nil { formulas["img_accuracy"] = .ratio(numerator: 2, denominator: 3, scale: 100) }
        var report = ScoreReport(benchmark: "scienceqa", metrics: metrics, headline: "img_accuracy", notes: notes,
                                 units: UnitScores(units: units, formulas: formulas))
        report.counts = ["correct", "total", "img_correct", "img_total"]
        return report
    }
}
