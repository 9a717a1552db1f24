import Foundation
import Records
import PythonText

/// GQA accuracy as the LLaVA-patched GQA `eval.py --tier testdev_balanced` computes it: exact string
/// equality of the converted prediction (`rstrip('.').lower()`) with the gold answer over balanced
/// questions; Binary = structural type other than "query", Open = "query"; Validity/Plausibility
/// from the choices file when present (else 0, as the script prints without it); Distribution =
/// chi-square of predicted vs gold answers per global group / 100; breakdowns per structural and
/// semantic type, reasoning steps and question words.
public struct GQAScorer: BenchmarkScorer {
    /// Percentages (×100, unrounded) and question counts per breakdown key.
    public struct Evaluation: Sendable {
        public var accuracy: Double
        public var binary: Double
        public var open: Double
        public var validity: Double
        public var plausibility: Double
        /// NaN when no balanced question has a global group (the script divides by zero).
        public var distribution: Double
        public var structural: [(key: String, accuracy: Double, count: Int)]
        public var semantic: [(key: String, accuracy: Double, count: Int)]
        public var steps: [(key: Int, accuracy: Double, count: Int)]
        public var words: [(key: Int, accuracy: Double, count: Int)]
        public var notes: [String]
        /// One unit per balanced question: [correct, 1].
        public var units: [ScoreUnit] = []
    }

    public let spec: DatasetSpec
    public private(set) var questions: GQAQuestions
    /// qid → (valid, plausible) answers, when a choices file exists.
    let choices: [String: (valid: [String], plausible: [String])]?

    public init(spec: DatasetSpec, dataRoot: URL) throws {
        self.spec = spec
        let rel = spec.annotationFiles["questions"] ?? "gqa/data/questions/testdev_balanced_questions.json"
        questions = try GQAQuestions.load(try SafePath.resolve(rel, under: dataRoot))
        if let c = spec.annotationFiles["choices"], case let url = try SafePath.resolve(c, under: dataRoot),
           FileManager.default.fileExists(atPath: url.path) {
            guard let doc = try JSONValues.document(url) as? [String: Any] else {
                throw DatasetError(file: url.path, "expected an object id -> {valid, plausible}")
            }
            var out: [String: (valid: [String], plausible: [String])] = [:]
            for (k, v) in doc {
                let o = v as? [String: Any]
                out[k] = ((o?["valid"] as? [String]) ?? [], (o?["plausible"] as? [String]) ?? [])
            }
            choices = out
        } else {
            choices = nil
        }
    }

    public func scoreAnswered(_ answers: [AnswerRecord]) throws -> ScoreReport {
        let answered = Set(answers.map(\.questionID.description))
        var subset = self
        subset.questions.entries = questions.entries.filter { answered.contains($0.id) }
        return try subset.score(answers)
    }

    public func score(_ answers: [AnswerRecord]) throws -> ScoreReport {
        let e = evaluate(answers)
        var m = [Metric("accuracy", e.accuracy), Metric("binary", e.binary), Metric("open", e.open),
                 Metric("validity", e.validity), Metric("plausibility", e.plausibility), Metric("distribution", e.distribution)]
        m += e.structural.map { Metric("structural.\($0.key)", $0.accuracy) }
        m += e.semantic.map { Metric("semantic.\($0.key)", $0.accuracy) }
        m += e.steps.map { Metric("steps.\($0.key)", $0.accuracy) }
        m += e.words.map { Metric("words.\($0.key)", $0.accuracy) }
        return ScoreReport(benchmark: spec.name, metrics: m, headline: "accuracy", notes: e.notes,
                           units: UnitScores(units: e.units, formulas: ["accuracy": .ratio(numerator: 0, denominator: 1, scale: 100)]))
    }

    public func evaluate(_ answers: [AnswerRecord]) -> Evaluation {
        // eval.py builds {questionId: prediction}: later duplicates win.
        var predictions: [String: String] = [:]
        for r in answers { predictions[r.questionID.description] = GQABenchmark.prediction(r.text) }
        var notes: [String] = []
        var acc: [Double] = [], bin: [Double] = [], open: [Double] = [], valid: [Double] = [], plaus: [Double] = []
        var structural = Grouped<String>(), semantic = Grouped<String>(), steps = Grouped<Int>(), words = Grouped<Int>()
        // Gold and predicted histograms per global group, in first-seen order (the chi-square sums in that order).
        var groupOrder: [String] = []
        var gold: [String: (order: [[UInt8]], counts: [[UInt8]: Int])] = [:]
        var predicted: [String: [[UInt8]: Int]] = [:]
        var missing: [String] = []
        var units: [ScoreUnit] = []
        for q in questions.entries where q.isBalanced {
            let pred = predictions[q.id]
            if pred == nil { missing.append(q.id) }
            let score: Double = pred.map { PythonText.equal($0, q.answer) } == true ? 1 : 0
            acc.append(score)
            units.append(ScoreUnit(id: q.id, stats: [score, 1]))
            words.add(PythonText.split(Array(q.question.unicodeScalars)).count, score)
            steps.add(q.semanticSteps.filter { s in !["exist", "query: name", "choose name"].contains { s.contains($0) } }.count, score)
            structural.add(q.structural, score)
            semantic.add(q.semantic, score)
            if q.structural == "query" { open.append(score) } else { bin.append(score) }
            if let choices, let p = pred {
                let c = choices[q.id]
                let common = q.detailed.contains("Common")
                let group = { (g: [String]) in common ? ["color", "material", "shape"] : g }
                valid.append(group(c?.valid ?? []).contains { PythonText.equal($0, p) } ? 1 : 0)
                plaus.append(group(c?.plausible ?? []).contains { PythonText.equal($0, p) } ? 1 : 0)
            } else {
                valid.append(0)
                plaus.append(0)
            }
            if let g = q.globalGroup {
                if gold[g] == nil { groupOrder.append(g); gold[g] = ([], [:]) }
                let k = PythonText.key(q.answer)
                if gold[g]!.counts[k] == nil { gold[g]!.order.append(k) }
                gold[g]!.counts[k, default: 0] += 1
                predicted[g, default: [:]][PythonText.key(pred ?? ""), default: 0] += 1
            }
        }
        if !missing.isEmpty {
            notes.append("\(missing.count) balanced questions have no prediction (first: \(missing.prefix(3).joined(separator: ", "))); "
                         + "the official eval.py refuses to score such a file, here they count as wrong")
        }
        let known = Set(questions.entries.map(\.id))
        let extra = Set(predictions.keys).subtracting(known).count
        if extra > 0 { notes.append("\(extra) predictions are for ids not in the questions file (ignored)") }
        var sumScore = 0.0, sumOverall = 0.0
        for g in groupOrder {
            var score = 0.0, overall = 0.0
            for a in gold[g]!.order {
                let e = Double(gold[g]!.counts[a]!)
                let o = Double(predicted[g]?[a] ?? 0)
                score += (o - e) * (o - e) / e
                overall += e
            }
            sumScore += score * overall
            sumOverall += overall
        }
        let distribution = sumOverall == 0 ? Double.nan : sumScore / sumOverall / 100
        if sumOverall == 0 { notes.append("distribution undefined: no balanced question has a global group (eval.py divides by zero)") }
        if choices == nil { notes.append("validity/plausibility are 0: no choices file (as eval.py prints for testdev)") }
        return Evaluation(accuracy: avg100(acc), binary: avg100(bin), open: avg100(open), validity: avg100(valid),
                          plausibility: avg100(plaus), distribution: distribution,
                          structural: structural.sorted(), semantic: semantic.sorted(), steps: steps.sorted(),
                          words: words.sorted(), notes: notes, units: units)
    }
}

/// `avg(l) * 100` of eval.py (0 for an empty list).
func avg100(_ v: [Double]) -> Double { v.isEmpty ? 0 : v.reduce(0, +) / Double(v.count) * 100 }

/// Per-key score lists, reported sorted by key as eval.py prints them.
struct Grouped<K: Hashable & Comparable> {
    var lists: [K: [Double]] = [:]
    mutating func add(_ k: K, _ v: Double) { lists[k, default: []].append(v) }
    func sorted() -> [(key: K, accuracy: Double, count: Int)] {
        lists.keys.sorted().map { ($0, avg100(lists[$0]!), lists[$0]!.count) }
    }
}
