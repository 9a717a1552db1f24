import Foundation
import Records
import PythonText

/// Metrics of one MME task as `calculation.py` computes them.
public struct MMETaskMetrics: Equatable, Sendable {
    public var tp = 0, fn = 0, tn = 0, fp = 0
    /// sklearn precision/recall over the yes/no predictions ("other" left out); 0 when undefined,
    /// as sklearn returns with its default `zero_division` warning.
    public var precision = 0.0, recall = 0.0
    /// Predictions that were neither yes nor no (they count as wrong in `acc`).
    public var other = 0
    /// Fraction of questions answered correctly.
    public var acc = 0.0
    /// Fraction of images (consecutive line pairs) with both questions right.
    public var accPlus = 0.0
    /// 100·acc + 100·acc+, accumulated in that order as the script does (max 200).
    public var score = 0.0
    public var questions = 0
    public var images = 0
    /// Pairs that were not exactly two lines (the script would stop on its assertion).
    public var incompletePairs = 0
    /// Per image (line pair), in file order: [questions right, questions, both right, 1].
    public var pairStats: [[Double]] = []
}

/// MME's `calculation.py`: reads `<task>.txt` results files (`file\tquestion\tgt\tanswer` lines)
/// and computes per-task metrics and the perception/cognition totals.
public enum MMECalculation {
    /// Metrics of one task from its results-file text.
    public static func scoreTask(_ text: String, file: String) throws -> MMETaskMetrics {
        let lines = readLines(text)
        var m = MMETaskMetrics()
        var gts: [String] = []
        var preds: [String] = []
        var plusCorrect = 0
        var index = 0
        while index < lines.count {
            let pair = lines[index..<min(index + 2, lines.count)]
            if pair.count != 2 { m.incompletePairs += 1 }
            var correctInImage = 0
            for (offset, line) in pair.enumerated() {
                let lineNo = index + offset + 1
                let fields = PythonText.split(line, "\t")
                guard fields.count == 4 else {
                    throw DatasetError(file: file, line: lineNo,
                                       "expected 4 tab-separated fields (file, question, gt, answer), found \(fields.count); "
                                       + "a tab or newline inside an answer breaks MME's calculation.py too")
                }
                let gt = fields[2].lowercased()
                guard gt == "yes" || gt == "no" else {
                    throw DatasetError(file: file, line: lineNo, field: "gt", "ground truth must be yes or no, found '\(fields[2])'")
                }
                let pred = MMEAnswer.parse(resultsField: fields[3])
                gts.append(gt)
                preds.append(pred)
                if gt == pred { correctInImage += 1 }
                if pred == "other" { m.other += 1 }
            }
            if correctInImage == 2 { plusCorrect += 1 }
            m.pairStats.append([Double(correctInImage), Double(pair.count), correctInImage == 2 ? 1 : 0, 1])
            m.images += 1
            index += 2
        }
        m.questions = gts.count
        guard m.questions > 0 else { throw DatasetError(file: file, "no result lines") }
        var correct = 0
        for (gt, pred) in zip(gts, preds) {
            if gt == pred { correct += 1 }
            switch (gt, pred) {
            case ("yes", "yes"): m.tp += 1
            case ("yes", "no"): m.fn += 1
            case ("no", "yes"): m.fp += 1
            case ("no", "no"): m.tn += 1
            default: break
            }
        }
        m.acc = Double(correct) / Double(m.questions)
        m.precision = m.tp + m.fp == 0 ? 0 : Double(m.tp) / Double(m.tp + m.fp)
        m.recall = m.tp + m.fn == 0 ? 0 : Double(m.tp) / Double(m.tp + m.fn)
        m.accPlus = Double(plusCorrect) / Double(m.images)
        m.score = 0.0 + m.acc * 100 + m.accPlus * 100
        return m
    }

    /// The report for a set of scored tasks: totals summed in the script's task order, then
    /// per-task metrics (`task.<name>`, `task.<name>.acc`, …; task names lower-cased).
    public static func report(_ tasks: [String: MMETaskMetrics], notes: [String] = []) -> ScoreReport {
        var notes = notes
        var metrics: [Metric] = []
        var formulas: [String: UnitFormula] = [:]
        for (total, list) in [("perception", MMEBenchmark.perceptionTasks), ("cognition", MMEBenchmark.cognitionTasks)] {
            var sum = 0.0
            let present = list.filter { tasks[$0] != nil }
            for t in present { sum += tasks[t]!.score }
            if !present.isEmpty { formulas[total] = .accPlusSum(strata: present) }
            if present.count < list.count {
                let missing = list.filter { tasks[$0] == nil }
                notes.append("MME \(total): no results for \(missing.joined(separator: ", ")); the total covers "
                             + "\(present.count) of \(list.count) tasks (calculation.py would stop on the missing file)")
            }
            if !present.isEmpty { metrics.append(Metric(total, sum)) }
        }
        for t in MMEBenchmark.perceptionTasks + MMEBenchmark.cognitionTasks {
            guard let m = tasks[t] else { continue }
            let k = "task." + t.lowercased()
            metrics += [Metric(k, m.score), Metric(k + ".acc", m.acc), Metric(k + ".acc_plus", m.accPlus),
                        Metric(k + ".tp", Double(m.tp)), Metric(k + ".fn", Double(m.fn)),
                        Metric(k + ".tn", Double(m.tn)), Metric(k + ".fp", Double(m.fp)),
                        Metric(k + ".precision", m.precision), Metric(k + ".recall", m.recall),
                        Metric(k + ".other", Double(m.other))]
            if m.incompletePairs > 0 {
                notes.append("MME task \(t): \(m.questions) answers do not form image pairs; calculation.py would stop "
                             + "on its pair assertion (the odd line counts as an image with one question here)")
            }
        }
        let unknown = tasks.keys.filter { !(MMEBenchmark.perceptionTasks + MMEBenchmark.cognitionTasks).contains($0) }.sorted()
        if !unknown.isEmpty {
            notes.append("MME: results for unknown tasks ignored, as calculation.py ignores them: \(unknown.joined(separator: ", "))")
        }
        let scored = (MMEBenchmark.perceptionTasks + MMEBenchmark.cognitionTasks).filter { tasks[$0] != nil }
        if !scored.isEmpty { formulas["total"] = .accPlusSum(strata: scored) }
        // One unit per image, resampled within its task: an image's two questions move together (acc+).
        let units = scored.flatMap { t in
            tasks[t]!.pairStats.enumerated().map { ScoreUnit(id: "\(t)#\($0.offset)", stratum: t, stats: $0.element) }
        }
        var report = ScoreReport(benchmark: "mme", metrics: metrics, headline: "perception", notes: notes,
                                 units: UnitScores(units: units, formulas: formulas))
        report.counts = Set(metrics.map(\.name).filter { n in
            n.contains(".") && ["tp", "fn", "tn", "fp", "other"].contains(n.split(separator: ".").last.map(String.init) ?? "")
        })
        return report
    }

    /// Lines as Python's text-mode `readlines()` returns them: universal newlines turned into `\n`,
    /// which each line keeps (the answer field therefore ends with `\n`).
    static func readLines(_ text: String) -> [String] {
        var lines: [String] = []
        var current = String.UnicodeScalarView()
        var previousCR = false
        for s in text.unicodeScalars {
            if previousCR && s == "\n" { previousCR = false; continue }
            previousCR = s == "\r"
            if s == "\n" || s == "\r" {
                current.append("\n")
                lines.append(String(current))
                current = String.UnicodeScalarView()
            } else {
                current.append(s)
            }
        }
        if !current.isEmpty { lines.append(String(current)) }
        return lines
    }
}
