import Foundation
import Records

/// One POPE split as `eval_pope.py` evaluates it. Ratios are nil where the script would divide by zero.
public struct POPECategoryResult: Equatable, Sendable {
    public var category: String
    /// Answers of this split (`# samples`); only the first min(samples, labels) are compared.
    public var samples: Int
    public var labels: Int
    public var tp = 0, fp = 0, tn = 0, fn = 0
    public var accuracy: Double?
    public var precision: Double?
    public var recall: Double?
    public var f1: Double?
    public var yesRatio: Double?
    /// One unit per compared (answer, label) pair, in order: one-hot [tp, fp, fn, tn].
    public var units: [ScoreUnit] = []

    /// The script's `'%.3f, %.3f, %.3f, %.3f, %.3f' % (f1, acc, precision, recall, yes_ratio)` line,
    /// or nil when one of them is undefined (the script would have stopped).
    public var summaryLine: String? {
        guard let f1, let accuracy, let precision, let recall, let yesRatio else { return nil }
        return [f1, accuracy, precision, recall, yesRatio].map { String(format: "%.3f", $0) }.joined(separator: ", ")
    }
}

/// POPE scores as LLaVA's `eval_pope.py` computes them. For every `coco_pope_<split>.json` in the
/// labels folder (listing order), the answers whose question (by id in the question file) belongs
/// to that split are taken in answer-file order and zipped with the label lines in file order —
/// no id matching, extra items on either side are silently dropped. "yes" is the positive class.
/// Metric keys: `<metric>.<split>` for accuracy, precision, recall, f1, yes_ratio, tp, fp, tn, fn,
/// samples; `f1.average` and `accuracy.average` over splits. Values are fractions, as printed.
/// Headline: `f1.average` (the averaged F1 papers report).
public struct POPEScorer: BenchmarkScorer {
    public let spec: DatasetSpec
    public let dataRoot: URL
    /// Question id → split, from the question file (a repeated id keeps its last line, as the script's dict does).
    public let categories: [QuestionID: String]
    public let labelFiles: [POPELabels.File]
    let ignoredLabelEntries: [String]
    let questionCount: Int

    public init(spec: DatasetSpec, dataRoot: URL) throws {
        self.spec = spec
        self.dataRoot = dataRoot
        let adapter = POPEBenchmark(spec: spec, dataRoot: dataRoot)
        let items = try adapter.items()
        var categories: [QuestionID: String] = [:]
        for item in items { categories[item.questionID] = item.category }
        self.categories = categories
        questionCount = items.count
        let listing = try POPELabels.files(in: adapter.labelsFolder())
        labelFiles = listing.files
        ignoredLabelEntries = listing.ignored
    }

    /// Per-split results in label-folder listing order, plus notes about the input.
    public func evaluate(_ answers: [AnswerRecord]) throws -> (categories: [POPECategoryResult], notes: [String]) {
        var notes: [String] = []
        if !ignoredLabelEntries.isEmpty {
            notes.append("POPE: ignored \(ignoredLabelEntries.count) entries of the labels folder not named coco_pope_*.json "
                         + "(eval_pope.py would stop on them): \(ignoredLabelEntries.sorted().joined(separator: ", "))")
        }
        let unknown = answers.filter { categories[$0.questionID] == nil }
        if !unknown.isEmpty {
            notes.append("POPE: \(unknown.count) answers have question ids not in \(spec.questionFile) and were left out "
                         + "(eval_pope.py would stop on them)")
        }
        let answeredIDs = Set(answers.map(\.questionID))
        let missing = categories.keys.filter { !answeredIDs.contains($0) }.count
        if missing > 0 { notes.append("POPE: \(missing) of \(categories.count) questions have no answer") }
        if answeredIDs.count < answers.count {
            notes.append("POPE: \(answers.count - answeredIDs.count) repeated question ids; every line is scored, as eval_pope.py does")
        }

        var results: [POPECategoryResult] = []
        for file in labelFiles {
            let labels = try POPELabels.read(file.url)
            let preds = answers.filter { categories[$0.questionID] == file.category }.map { POPEAnswer.parse($0.text) }
            var r = POPECategoryResult(category: file.category, samples: preds.count, labels: labels.count)
            if preds.count != labels.count {
                notes.append("POPE \(file.category): \(preds.count) answers vs \(labels.count) labels; "
                             + "only the first \(min(preds.count, labels.count)) are paired by position")
            }
            for (position, (pred, label)) in zip(preds, labels).enumerated() {
                // The script maps every label other than "no" to yes.
                let predYes = pred != "no", labelYes = label != "no"
                var stats: [Double] = [0, 0, 0, 0]
                switch (predYes, labelYes) {
                case (true, true): r.tp += 1; stats[0] = 1
                case (true, false): r.fp += 1; stats[1] = 1
                case (false, false): r.tn += 1; stats[3] = 1
                case (false, true): r.fn += 1; stats[2] = 1
                }
                // Answers are paired with labels by position within the split, so the position is the unit's identity.
                r.units.append(ScoreUnit(id: "\(file.category)#\(position)", stratum: file.category, stats: stats))
            }
            let yes = preds.filter { $0 != "no" }.count
            let n = r.tp + r.tn + r.fp + r.fn
            r.yesRatio = preds.isEmpty ? nil : Double(yes) / Double(preds.count)
            r.precision = r.tp + r.fp == 0 ? nil : Double(r.tp) / Double(r.tp + r.fp)
            r.recall = r.tp + r.fn == 0 ? nil : Double(r.tp) / Double(r.tp + r.fn)
            if let p = r.precision, let rc = r.recall, p + rc > 0 { r.f1 = 2 * p * rc / (p + rc) }
            r.accuracy = n == 0 ? nil : Double(r.tp + r.tn) / Double(n)
            var undefined: [String] = []
            if r.yesRatio == nil { undefined.append("yes ratio (no answers)") }
            if r.precision == nil { undefined.append("precision (no yes predictions)") }
            if r.recall == nil { undefined.append("recall (no yes labels)") }
            if r.f1 == nil { undefined.append("F1") }
            if r.accuracy == nil { undefined.append("accuracy (nothing paired)") }
            if !undefined.isEmpty {
                notes.append("POPE \(file.category): undefined \(undefined.joined(separator: ", ")); "
                             + "eval_pope.py would stop with ZeroDivisionError")
            }
            results.append(r)
        }
        return (results, notes)
    }

    public func score(_ answers: [AnswerRecord]) throws -> ScoreReport {
        let (results, notes) = try evaluate(answers)
        var metrics: [Metric] = []
        // Display in a fixed split order; averages below still sum in listing order like the script.
        let known = ["adversarial", "popular", "random"]
        let display = results.sorted { a, b in
            let ia = known.firstIndex(of: a.category) ?? known.count, ib = known.firstIndex(of: b.category) ?? known.count
            return ia != ib ? ia < ib : a.category < b.category
        }
        var allNotes = notes
        let f1s = results.compactMap(\.f1), accs = results.compactMap(\.accuracy)
        if !results.isEmpty && f1s.count == results.count {
            metrics.append(Metric("f1.average", f1s.reduce(0, +) / Double(f1s.count)))
        } else if !results.isEmpty {
            allNotes.append("POPE: f1.average left out because a split has no F1")
        }
        if !results.isEmpty && accs.count == results.count {
            metrics.append(Metric("accuracy.average", accs.reduce(0, +) / Double(accs.count)))
        }
        for r in display {
            let c = r.category
            for (key, value) in [("accuracy", r.accuracy), ("precision", r.precision), ("recall", r.recall),
                                 ("f1", r.f1), ("yes_ratio", r.yesRatio)] {
                if let value { metrics.append(Metric("\(key).\(c)", value)) }
            }
            metrics += [Metric("tp.\(c)", Double(r.tp)), Metric("fp.\(c)", Double(r.fp)), Metric("tn.\(c)", Double(r.tn)),
                        Metric("fn.\(c)", Double(r.fn)), Metric("samples.\(c)", Double(r.samples))]
        }
        var formulas: [String: UnitFormula] = [:]
        if metrics.contains(where: { $0.name == "f1.average" }) { formulas["f1.average"] = .meanF1 }
        if metrics.contains(where: { $0.name == "accuracy.average" }) { formulas["accuracy.average"] = .meanAccuracy }
        var report = ScoreReport(benchmark: "pope", metrics: metrics, headline: "f1.average", notes: allNotes,
                                 units: UnitScores(units: results.flatMap(\.units), formulas: formulas))
        report.counts = Set(metrics.map(\.name).filter { ["tp", "fp", "tn", "fn", "samples"].contains($0.split(separator: ".").first.map(String.init) ?? "") })
        return report
    }
}
