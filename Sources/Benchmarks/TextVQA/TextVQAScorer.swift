import Foundation
import Records
import PythonText

/// TextVQA val accuracy as LLaVA's `eval_textvqa.py`: each answers line is matched to the annotation
/// keyed by (image id = question_id, question recovered from the prompt, lower-cased; later
/// annotations win), then m4c's TextVQAAccuracyEvaluator (EvalAI normalization, leave-one-out
/// min(1, n/3) over exactly 10 human answers) averaged over all answer lines.
public struct TextVQAScorer: BenchmarkScorer {
    public let spec: DatasetSpec
    /// (image_id, lower-cased question) → annotation (question_id, 10 answers).
    let annotations: [[UInt8]: (questionID: Int64?, answers: [String])]
    let annotationsPath: String

    public init(spec: DatasetSpec, dataRoot: URL) throws {
        self.spec = spec
        let url = try SafePath.resolve(spec.annotationFiles["annotations"] ?? "textvqa/TextVQA_0.5.1_val.json", under: dataRoot)
        annotationsPath = url.path
        annotations = try Self.load(url)
    }

    static func key(imageID: String, question: String) -> [UInt8] {
        PythonText.key(imageID) + [0] + PythonText.key(question)
    }

    static func load(_ url: URL) throws -> [[UInt8]: (questionID: Int64?, answers: [String])] {
        guard let doc = try JSONValues.document(url) as? [String: Any], let data = doc["data"] as? [[String: Any]] else {
            throw DatasetError(file: url.path, field: "data", "expected {\"data\": [...]}")
        }
        var out: [[UInt8]: (questionID: Int64?, answers: [String])] = [:]
        for (i, a) in data.enumerated() {
            guard let image = a["image_id"] as? String, let question = a["question"] as? String else {
                throw DatasetError(file: url.path, field: "data[\(i)].image_id/question", "missing or not a string")
            }
            guard let answers = a["answers"] as? [String] else {
                throw DatasetError(file: url.path, field: "data[\(i)].answers", "missing or not a list of strings")
            }
            let lowered = String(String.UnicodeScalarView(PythonText.lower(Array(question.unicodeScalars))))
            out[key(imageID: image, question: lowered)] = ((a["question_id"] as? NSNumber)?.int64Value, answers)
        }
        return out
    }

    /// The annotation an answers line refers to, or a located reason why there is none.
    func annotation(for r: AnswerRecord) -> Result<(questionID: Int64?, answers: [String]), DatasetError> {
        guard let q = TextVQABenchmark.question(fromPrompt: r.prompt) else {
            return .failure(DatasetError("answer \(r.questionID): the question cannot be recovered from its prompt"))
        }
        guard let a = annotations[Self.key(imageID: r.questionID.description, question: q)] else {
            return .failure(DatasetError("answer \(r.questionID): no annotation for image \(r.questionID) with question \"\(q)\""))
        }
        return .success(a)
    }

    public func score(_ answers: [AnswerRecord]) throws -> ScoreReport {
        var scores: [Double] = []
        var unmatched: [String] = []
        var units: [ScoreUnit] = []
        var seen: [String: Int] = [:]
        for r in answers {
            switch annotation(for: r) {
            case .failure(let e): unmatched.append(e.message)
            case .success(let a):
                guard a.answers.count == 10 else {
                    throw DatasetError(file: annotationsPath, "question of image \(r.questionID) has \(a.answers.count) answers; the evaluator requires exactly 10")
                }
                let score = VQAv2Scorer.m4cScore(prediction: r.text, gt: a.answers)
                scores.append(score)
                // An image can carry several questions under one id: the prompt and its occurrence tell them apart.
                let base = "\(r.questionID.jsonLiteral)|\(r.prompt)"
                let n = seen[base, default: 0]
                seen[base] = n + 1
                units.append(ScoreUnit(id: "\(base)|\(n)", stats: [score, 1]))
            }
        }
        var notes: [String] = []
        if !unmatched.isEmpty {
            notes.append("\(unmatched.count) answers match no annotation and were skipped (eval_textvqa.py would stop); first: \(unmatched[0])")
        }
        let acc = scores.isEmpty ? 0 : scores.reduce(0, +) / Double(scores.count)
        var report = ScoreReport(benchmark: spec.name, metrics: [Metric("accuracy", 100 * acc), Metric("samples", Double(scores.count))],
                                 headline: "accuracy", notes: notes,
                                 units: UnitScores(units: units, formulas: ["accuracy": .ratio(numerator: 0, denominator: 1, scale: 100)]))
        report.counts = ["samples"]
        return report
    }
}
