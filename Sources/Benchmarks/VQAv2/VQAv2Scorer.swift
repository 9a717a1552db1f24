import Foundation
import Records
import PythonText

/// VQAv2 scoring. Test-dev has no public answers (the number comes from the EvalAI server, see
/// `VQAv2Exporter`), so this scores val-style answers against the original val annotations, two ways:
/// * `accuracy`: the official VQA `vqaEval.py` run on the EvalAI-normalized answers (what the
///   submission file holds): gt and prediction get processPunctuation + processDigitArticle only
///   when the 10 human answers are not all identical; per-question values and the totals are
///   rounded to 2 decimals as the script does.
/// * `accuracy.m4c`: m4c's TextVQAAccuracyEvaluator (EvalAI normalization always, unrounded) ×100.
public struct VQAv2Scorer: BenchmarkScorer {
    /// One val annotation (`v2_mscoco_val2014_annotations.json`).
    public struct Annotation: Sendable {
        public var questionID: Int64
        public var questionType: String
        public var answerType: String
        /// The 10 human answers with their confidence and id (the script compares whole dicts).
        public var answers: [(answer: String, confidence: String, id: Int64)]
    }

    /// Everything the two evaluations produce.
    public struct Evaluation: Sendable {
        /// Official vqaEval: per question (rounded), overall/per type (rounded), in annotation order.
        public var officialPerQuestion: [(id: Int64, accuracy: Double)]
        public var overall: Double
        public var perQuestionType: [(type: String, accuracy: Double)]
        public var perAnswerType: [(type: String, accuracy: Double)]
        /// m4c per answer line (fractions 0...1, answer-file order) and their mean.
        public var m4cPerQuestion: [Double]
        public var m4cAccuracy: Double
        public var notes: [String]
    }

    public let spec: DatasetSpec
    /// Val annotations in file order, or nil when the data root has none.
    public let annotations: [Annotation]?
    let annotationsPath: String

    public init(spec: DatasetSpec, dataRoot: URL) throws {
        self.spec = spec
        let rel = spec.annotationFiles["val_annotations"] ?? "vqav2/v2_mscoco_val2014_annotations.json"
        let url = try SafePath.resolve(rel, under: dataRoot)
        annotationsPath = url.path
        annotations = FileManager.default.fileExists(atPath: url.path) ? try Self.loadAnnotations(url) : nil
    }

    static func loadAnnotations(_ url: URL) throws -> [Annotation] {
        guard let doc = try JSONValues.document(url) as? [String: Any],
              let list = doc["annotations"] as? [[String: Any]] else {
            throw DatasetError(file: url.path, field: "annotations", "expected {\"annotations\": [...]}")
        }
        return try list.enumerated().map { idx, a in
            let f = "annotations[\(idx)]"
            guard case .int(let qid) = try JSONValues.questionID(a["question_id"], file: url.path, line: nil, field: "\(f).question_id") else {
                throw DatasetError(file: url.path, field: "\(f).question_id", "not an integer")
            }
            guard let qt = a["question_type"] as? String, let at = a["answer_type"] as? String else {
                throw DatasetError(file: url.path, field: "\(f).question_type/answer_type", "missing or not a string")
            }
            guard let answers = a["answers"] as? [[String: Any]], !answers.isEmpty else {
                throw DatasetError(file: url.path, field: "\(f).answers", "missing or empty")
            }
            let parsed = try answers.enumerated().map { j, ans -> (answer: String, confidence: String, id: Int64) in
                guard let text = ans["answer"] as? String else {
                    throw DatasetError(file: url.path, field: "\(f).answers[\(j)].answer", "missing or not a string")
                }
                return (text, ans["answer_confidence"] as? String ?? "", (ans["answer_id"] as? NSNumber)?.int64Value ?? Int64(j + 1))
            }
            return Annotation(questionID: qid, questionType: qt, answerType: at, answers: parsed)
        }
    }

    public func score(_ answers: [AnswerRecord]) throws -> ScoreReport {
        let e = try evaluate(answers)
        var metrics = [Metric("accuracy", e.overall), Metric("accuracy.m4c", 100 * e.m4cAccuracy),
                       Metric("questions", Double(e.officialPerQuestion.count))]
        metrics += e.perAnswerType.map { Metric("answer_type.\($0.type)", $0.accuracy) }
        metrics += e.perQuestionType.map { Metric("question_type.\($0.type)", $0.accuracy) }
        var report = ScoreReport(benchmark: spec.name, metrics: metrics, headline: "accuracy", notes: e.notes)
        report.counts = ["questions"]
        return report
    }

    public func evaluate(_ answers: [AnswerRecord]) throws -> Evaluation {
        guard let annotations else {
            throw DatasetError(file: annotationsPath, """
                no VQAv2 val annotations: test-dev answers are scored by the EvalAI server — run \
                `vispruner export vqav2` and upload the JSON; for a local val-style score place the val annotations here
                """)
        }
        var byID: [Int64: Int] = [:]
        for (i, a) in annotations.enumerated() { byID[a.questionID] = i }
        // convert_vqav2_for_submission.py: later lines win for duplicated ids.
        var predictions: [Int64: String] = [:]
        var m4cScores: [Double] = []
        var unknown = 0
        for r in answers {
            guard case .int(let qid) = r.questionID, let idx = byID[qid] else { unknown += 1; continue }
            predictions[qid] = r.text
            m4cScores.append(Self.m4cScore(prediction: r.text, gt: annotations[idx].answers.map(\.answer)))
        }
        guard !predictions.isEmpty else {
            throw DatasetError(file: annotationsPath, """
                none of the \(answers.count) answers is a question of the val annotations (test-dev answers are \
                scored by EvalAI: use `vispruner export vqav2`)
                """)
        }
        var notes: [String] = []
        if unknown > 0 { notes.append("\(unknown) answers have ids that are not in the val annotations (ignored)") }
        var perQ: [(Int64, Double)] = []
        var all: [Double] = []
        var qTypes: [String] = [], aTypes: [String] = []
        var byQType: [String: [Double]] = [:], byAType: [String: [Double]] = [:]
        var missing = 0
        for a in annotations {
            guard let text = predictions[a.questionID] else { missing += 1; continue }
            let acc = Self.officialAccuracy(result: EvalAIAnswerProcessor.normalize(text), annotation: a)
            perQ.append((a.questionID, PythonNumbers.round(100 * acc, 2)))
            all.append(acc)
            if byQType[a.questionType] == nil { qTypes.append(a.questionType) }
            byQType[a.questionType, default: []].append(acc)
            if byAType[a.answerType] == nil { aTypes.append(a.answerType) }
            byAType[a.answerType, default: []].append(acc)
        }
        if missing > 0 {
            notes.append("\(missing) val questions have no answer (the official script requires all; scored over answered ones)")
        }
        func mean100(_ v: [Double]) -> Double { PythonNumbers.round(100 * v.reduce(0, +) / Double(v.count), 2) }
        let m4c = m4cScores.reduce(0, +) / Double(m4cScores.count)
        return Evaluation(officialPerQuestion: perQ, overall: mean100(all),
                          perQuestionType: qTypes.map { ($0, mean100(byQType[$0]!)) },
                          perAnswerType: aTypes.map { ($0, mean100(byAType[$0]!)) },
                          m4cPerQuestion: m4cScores, m4cAccuracy: m4c, notes: notes)
    }

    /// vqaEval.py for one question (`result` is the submitted answer string), unrounded.
    public static func officialAccuracy(result: String, annotation: Annotation) -> Double {
        func clean(_ s: String) -> String {
            let t = s.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\t", with: " ")
            return String(String.UnicodeScalarView(PythonText.strip(Array(t.unicodeScalars))))
        }
        var res = clean(result)
        var gts = annotation.answers.map { (answer: clean($0.answer), confidence: $0.confidence, id: $0.id) }
        if Set(gts.map { PythonText.key($0.answer) }).count > 1 {
            gts = gts.map { ($0.answer.isEmpty ? "" : VQAEvalNormalizer.normalize($0.answer), $0.confidence, $0.id) }
            res = VQAEvalNormalizer.normalize(res)
        }
        var sum = 0.0
        for g in gts {
            // `item != gtAnsDatum` compares whole dicts: identical duplicates exclude each other too.
            let matching = gts.filter {
                !(PythonText.equal($0.answer, g.answer) && $0.confidence == g.confidence && $0.id == g.id)
                    && PythonText.equal($0.answer, res)
            }.count
            sum += min(1, Double(matching) / 3)
        }
        return sum / Double(gts.count)
    }

    /// m4c `TextVQAAccuracyEvaluator` for one prediction: EvalAI-normalized prediction against the
    /// normalized human answers, leave-one-out min(1, n/3) averaged over the annotators.
    public static func m4cScore(prediction: String, gt: [String]) -> Double {
        let pred = PythonText.key(EvalAIAnswerProcessor.normalize(prediction))
        let answers = gt.map { PythonText.key(EvalAIAnswerProcessor.normalize($0)) }
        guard answers.contains(pred) else { return 0 }
        var sum = 0.0
        for i in answers.indices {
            var n = 0
            for j in answers.indices where j != i && answers[j] == pred { n += 1 }
            sum += min(1, Double(n) / 3)
        }
        return sum / Double(answers.count)
    }
}
