import Foundation
import PythonText
import Records

/// Rendering of a score report.
public enum ScoreOutput {
    /// Names whose values are counts (shown without decimals).
    static let countNames: Set<String> = ["samples", "questions", "count", "total", "correct", "tp", "fp", "tn", "fn", "other_num", "n"]

    /// A metric's value; counts are the report's declared ones, or (reports without any) the names above.
    public static func display(_ m: Metric, counts: Set<String> = []) -> String {
        let last = m.name.split(separator: ".").last.map(String.init)?.lowercased() ?? m.name
        return m.formatted(asCount: counts.contains(m.name) || (counts.isEmpty && countNames.contains(last)))
    }

    public static func table(_ r: ScoreReport, title: String, answers: String) -> String {
        var lines = ["\(r.benchmark): \(title)", "answers: \(answers)", ""]
        let width = max(6, r.metrics.map(\.name.count).max() ?? 6)
        lines.append("metric".padding(toLength: width, withPad: " ", startingAt: 0) + "  value")
        lines.append(String(repeating: "-", count: width) + "  -----")
        for m in r.metrics {
            let mark = m.name == r.headline ? "  *" : ""
            lines.append(m.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + display(m, counts: r.counts) + mark)
        }
        if !r.notes.isEmpty {
            lines.append("")
            lines.append("notes:")
            lines += r.notes.map { "  - " + $0 }
        }
        return lines.joined(separator: "\n")
    }

    /// JSON with metrics as an ordered object; non-finite values become null.
    public static func json(_ r: ScoreReport, answers: String, lines: Int, badLines: Int) -> String {
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
