import ArgumentParser
import Foundation
import Datasets
import Scoring

/// `vispruner score DATASET --answers FILE --data-root DIR [--json]`.
struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score an answers file exactly as the benchmark's official script does.",
        discussion: """
        DATASET is a name from datasets.json (vqav2, gqa, mme, textvqa, pope, scienceqa). The answers file is \
        LLaVA's answers .jsonl. Missing, extra or duplicated question ids and unparsable lines are reported \
        in the notes. VQAv2 test-dev has no local score: use `vispruner export vqav2` and upload to EvalAI \
        (val answers are scored against the val annotations when present).
        """)

    @Argument(help: "Benchmark name from datasets.json.")
    var dataset: String

    @OptionGroup var source: AnswersSource

    @Flag(help: "Print a JSON object instead of a table.")
    var json = false

    func run() throws {
        let registry = try DatasetRegistry.load(explicit: source.datasets)
        let root = try DatasetRegistry.dataRoot(option: source.dataRoot)
        let spec = try registry.spec(named: dataset)
        let input = try AnswersInput(answers: source.answers, db: source.db, run: source.runID)
        let contents = try input.load()
        // The question list is only needed for the coverage notes; a benchmark whose adapter is not
        // in this build is still scored.
        // VQAv2 is scored val-style only (test-dev goes to EvalAI), so coverage is against the val questions.
        let items = spec.name == "vqav2"
            ? try? VQAv2Adapter(spec: spec, dataRoot: root).valItems()
            : try? registry.adapter(for: spec.name, dataRoot: root).items()
        var report = try ScorerRegistry.scorer(for: spec, dataRoot: root).score(contents.records)
        report.notes = AnswerCoverage.notes(records: contents.records, badLines: contents.badLines, items: items) + report.notes
        if json {
            print(ScoreOutput.json(report, answers: input.label, lines: contents.records.count, badLines: contents.badLines.count))
        } else {
            print(ScoreOutput.table(report, title: spec.title, answers: input.label))
        }
    }
}

/// Rendering of a score report.
enum ScoreOutput {
    /// Names whose values are counts (shown without decimals).
    static let countNames: Set<String> = ["samples", "questions", "count", "total", "correct", "tp", "fp", "tn", "fn", "other_num", "n"]

    static func display(_ m: Metric) -> String {
        let last = m.name.split(separator: ".").last.map(String.init)?.lowercased() ?? m.name
        if m.value.isNaN { return "nan" }
        if countNames.contains(last), m.value == m.value.rounded(), abs(m.value) < 1e15 { return String(Int64(m.value)) }
        return String(format: abs(m.value) < 1 && m.value != 0 ? "%.4f" : "%.2f", m.value)
    }

    static func table(_ r: ScoreReport, title: String, answers: String) -> String {
        var lines = ["\(r.benchmark): \(title)", "answers: \(answers)", ""]
        let width = max(6, r.metrics.map(\.name.count).max() ?? 6)
        lines.append("metric".padding(toLength: width, withPad: " ", startingAt: 0) + "  value")
        lines.append(String(repeating: "-", count: width) + "  -----")
        for m in r.metrics {
            let mark = m.name == r.headline ? "  *" : ""
            lines.append(m.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + display(m) + mark)
        }
        if !r.notes.isEmpty {
            lines.append("")
            lines.append("notes:")
            lines += r.notes.map { "  - " + $0 }
        }
        return lines.joined(separator: "\n")
    }

    /// JSON with metrics as an ordered object; non-finite values become null.
    static func json(_ r: ScoreReport, answers: String, lines: Int, badLines: Int) -> String {
        func num(_ v: Double) -> String { v.isFinite ? "\(v)" : "null" }
        let metrics = r.metrics.map { "    \(JSONText.quote($0.name)): \(num($0.value))" }.joined(separator: ",\n")
        let notes = r.notes.map { JSONText.quote($0) }.joined(separator: ", ")
        return """
        {
          "benchmark": \(JSONText.quote(r.benchmark)),
          "answers": \(JSONText.quote(answers)),
          "answer_lines": \(lines),
          "unparsable_lines": \(badLines),
          "headline": \(JSONText.quote(r.headline)),
          "headline_value": \(r.headlineValue.map(num) ?? "null"),
          "metrics": {
        \(metrics)
          },
          "notes": [\(notes)]
        }
        """
    }
}
