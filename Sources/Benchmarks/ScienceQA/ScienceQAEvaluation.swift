import Foundation
import Records
import PythonText

/// What LLaVA's `eval_science_qa.py` computes for one answers set: one entry per problem of the
/// split (in `pid_splits.json` order), unanswered problems counted as "FAILED".
public struct ScienceQAEvaluation: Equatable, Sendable {
    /// One problem's outcome (an element of the `--output-file`'s correct/incorrect lists).
    public struct Entry: Equatable, Sendable {
        public var questionID: String
        /// Parsed letter or "FAILED".
        public var parsedAnswer: String
        /// Letter of the correct choice.
        public var groundTruth: String
        /// The answer's `prompt`, or "Unknown" when the problem has no answer.
        public var question: String
        /// The raw output, or "FAILED" when the problem has no answer.
        public var prediction: String
        /// `'<image>' in prompt` — how the script decides a problem is an image question.
        public var isMultimodal: Bool
        /// Choice index of the parsed letter, -1 when unparsed or beyond the choices.
        public var predictionIndex: Int
        public var correct: Bool
    }

    public var entries: [Entry]

    public var total: Int { entries.count }
    public var correct: Int { entries.filter(\.correct).count }
    public var multimodalTotal: Int { entries.filter(\.isMultimodal).count }
    public var multimodalCorrect: Int { entries.filter { $0.correct && $0.isMultimodal }.count }

    /// `Accuracy` (percent) over the whole split; nil for an empty split.
    public var accuracy: Double? { total == 0 ? nil : Double(correct) / Double(total) * 100 }
    /// `IMG-Accuracy` (percent) over problems whose prompt holds `<image>`; nil when there are none.
    public var imageAccuracy: Double? {
        multimodalTotal == 0 ? nil : Double(multimodalCorrect) / Double(multimodalTotal) * 100
    }

    /// Runs the script's loop. `answers` may repeat ids (the later line wins) and hold ids outside
    /// the split (ignored); integer ids never match, as the script's string keys would not.
    public static func evaluate(_ answers: [AnswerRecord], splitIDs: [String],
                                problems: ScienceQAProblems) throws -> ScienceQAEvaluation {
        var predictions: [QuestionID: AnswerRecord] = [:]
        for a in answers { predictions[a.questionID] = a }
        var seen = Set<String>()
        var entries: [Entry] = []
        for pid in splitIDs where seen.insert(pid).inserted {
            guard let problem = problems.problems[pid] else {
                throw DatasetError("ScienceQA: split id '\(pid)' is not in problems.json")
            }
            guard problem.answer >= 0, problem.answer < ScienceQAAnswer.options.count else {
                throw DatasetError("ScienceQA: problems.json '\(pid)'.answer = \(problem.answer) has no option letter")
            }
            let prompt: String, text: String
            if let p = predictions[.string(pid)] { prompt = p.prompt; text = p.text } else {
                prompt = "Unknown"; text = ScienceQAAnswer.failed
            }
            let parsed = ScienceQAAnswer.parse(text)
            let index = ScienceQAAnswer.predictionIndex(parsed, choiceCount: problem.choices.count)
            entries.append(Entry(questionID: pid, parsedAnswer: parsed,
                                 groundTruth: ScienceQAAnswer.options[problem.answer], question: prompt,
                                 prediction: text, isMultimodal: PythonText.contains(prompt, "<image>"),
                                 predictionIndex: index, correct: index == problem.answer))
        }
        return ScienceQAEvaluation(entries: entries)
    }
}

/// ScienceQA's own breakdown (`tools/evaluate_acc.py`, `get_scores`) of a result: accuracy per
/// subject, context kind, grade band and topic over the `split == "test"` problems of problems.json.
public enum ScienceQACategories {
    /// Topics in the order the breakdown lists them.
    public static let topics = ["punctuation", "literacy-in-science", "verbs", "pronouns", "civics", "culture",
                                "word-study", "economics", "physics", "units-and-measurement",
                                "science-and-engineering-practices", "reading-comprehension", "global-studies",
                                "grammar", "figurative-language", "us-history", "writing-strategies", "world-history",
                                "reference-skills", "biology", "earth-science", "phonological-awareness",
                                "capitalization", "chemistry", "vocabulary", "geography"]

    /// Accuracies in percent keyed `natural`, `social`, `language`, `has_text`, `has_image`,
    /// `no_context`, `grade_1_6`, `grade_7_12`, `average` and `topic.<topic>`; groups with no
    /// problem are left out (the tool would divide by zero). Also returns problems without a result.
    public static func scores(_ evaluation: ScienceQAEvaluation, problems: ScienceQAProblems)
        -> (scores: [(key: String, value: Double)], unscored: Int) {
        var predIndex: [String: Int] = [:]
        for e in evaluation.entries { predIndex[e.questionID] = e.predictionIndex }
        var unscored = 0
        var rows: [(problem: ScienceQAProblems.Problem, correct: Bool)] = []
        for (id, p) in problems.problems where p.split == "test" {
            guard let pred = predIndex[id] else { unscored += 1; rows.append((p, false)); continue }
            rows.append((p, pred == p.answer))
        }
        func acc(_ include: (ScienceQAProblems.Problem) -> Bool) -> Double? {
            let group = rows.filter { include($0.problem) }
            guard !group.isEmpty else { return nil }
            return Double(group.filter(\.correct).count) / Double(group.count) * 100
        }
        let lower = (1...6).map { "grade\($0)" }, upper = (7...12).map { "grade\($0)" }
        var out: [(String, Double?)] = [
            ("natural", acc { $0.subject == "natural science" }),
            ("social", acc { $0.subject == "social science" }),
            ("language", acc { $0.subject == "language science" }),
            ("has_text", acc { !$0.hint.isEmpty }),
            ("has_image", acc { $0.image != nil }),
            ("no_context", acc { $0.hint.isEmpty && $0.image == nil }),
            ("grade_1_6", acc { lower.contains($0.grade) }),
            ("grade_7_12", acc { upper.contains($0.grade) }),
            // The tool divides by the number of results, not of test problems.
            ("average", evaluation.total == 0 ? nil
                : Double(rows.filter(\.correct).count) / Double(evaluation.total) * 100),
        ]
        for t in topics { out.append(("topic." + t, acc { $0.topic == t })) }
        return (out.compactMap { k, v in v.map { (k, $0) } }, unscored)
    }
}
