import Foundation
import Records

/// MME scores as MME's `calculation.py` computes them on the folder `convert_answer_to_mme.py`
/// writes: per task acc, acc+ and score = 100·(acc + acc+); perception = sum of 10 task scores
/// (max 2000), cognition = sum of 4 (max 800). Headline: `perception`.
public struct MMEScorer: BenchmarkScorer {
    public let spec: DatasetSpec
    public let dataRoot: URL
    public let groundTruth: MMEGroundTruth
    /// The question file's (question id, text) pairs, to report unanswered and unknown answers.
    let questions: [QuestionKey]

    struct QuestionKey: Hashable { var id: QuestionID; var text: String }

    public init(spec: DatasetSpec, dataRoot: URL) throws {
        self.spec = spec
        self.dataRoot = dataRoot
        let adapter = MMEBenchmark(spec: spec, dataRoot: dataRoot)
        groundTruth = try adapter.groundTruth()
        questions = try adapter.items().map { QuestionKey(id: $0.questionID, text: $0.answerPrompt) }
    }

    public func score(_ answers: [AnswerRecord]) throws -> ScoreReport {
        var notes: [String] = []
        let asked = Set(questions)
        let answered = Set(answers.map { QuestionKey(id: $0.questionID, text: $0.prompt) })
        let missing = asked.subtracting(answered).count
        let extra = answered.subtracting(asked).count
        if missing > 0 { notes.append("MME: \(missing) of \(asked.count) questions have no answer") }
        if extra > 0 { notes.append("MME: \(extra) answers match no question of \(spec.questionFile) (by id and prompt)") }
        if answers.count != answered.count {
            notes.append("MME: \(answers.count - answered.count) duplicate answers (all are scored, as the reference does)")
        }
        // calculation.py reads one tab-separated line per answer, so a tab or line break inside an answer
        // breaks the reference tool; score such answers with those characters read as spaces instead.
        var cleaned = answers
        var flattened = 0
        for i in cleaned.indices where cleaned[i].text.contains(where: { $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) {
            cleaned[i].text = String(cleaned[i].text.map { $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" ? " " : $0 })
            flattened += 1
        }
        if flattened > 0 {
            notes.append("MME: \(flattened) answers contain tabs or line breaks; scored with them read as spaces "
                         + "(the reference's calculation.py cannot parse such lines)")
        }
        let (files, unresolved) = MMEResultsFolder.taskFiles(cleaned, groundTruth: groundTruth)
        if !unresolved.isEmpty {
            notes.append("MME: \(unresolved.count) answers have no ground-truth question and were left out "
                         + "(convert_answer_to_mme.py would stop on them)")
        }
        var tasks: [String: MMETaskMetrics] = [:]
        for f in files {
            tasks[f.task] = try MMECalculation.scoreTask(f.text, file: "\(f.task).txt")
        }
        return MMECalculation.report(tasks, notes: notes)
    }

    /// Scores an existing eval_tool results folder (`<task>.txt` files), as `calculation.py --results_dir` does.
    public static func score(resultsFolder: URL) throws -> ScoreReport {
        var tasks: [String: MMETaskMetrics] = [:]
        for t in MMEBenchmark.perceptionTasks + MMEBenchmark.cognitionTasks {
            let url = resultsFolder.appendingPathComponent(t + ".txt")
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            let data = try YesNoQuestionFile.readData(url)
            guard let text = String(data: data, encoding: .utf8) else { throw DatasetError(file: url.path, "not UTF-8 text") }
            tasks[t] = try MMECalculation.scoreTask(text, file: url.path)
        }
        return MMECalculation.report(tasks)
    }
}
