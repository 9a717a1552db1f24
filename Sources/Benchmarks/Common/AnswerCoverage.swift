import Foundation
import Records

/// Checks an answers set against the benchmark's question list: ids missing, extra or duplicated,
/// and unparsable lines, as human-readable notes with counts.
public enum AnswerCoverage {
    public static func notes(records: [AnswerRecord], badLines: [(line: Int, reason: String)],
                      items: [BenchmarkItem]?) -> [String] {
        var notes: [String] = []
        if !badLines.isEmpty {
            let first = badLines.prefix(3).map { "line \($0.line): \($0.reason)" }.joined(separator: "; ")
            notes.append("\(badLines.count) unparsable answer lines skipped (\(first))")
        }
        // Ids are compared as multisets: TextVQA uses the image id as question id, so one id may
        // legitimately stand for several questions.
        var answered: [QuestionID: Int] = [:]
        for r in records { answered[r.questionID, default: 0] += 1 }
        guard let items else {
            let duplicates = answered.values.reduce(0) { $0 + max(0, $1 - 1) }
            if duplicates > 0 { notes.append("\(duplicates) answer lines repeat an earlier question id") }
            return notes
        }
        var expected: [QuestionID: Int] = [:]
        for i in items { expected[i.questionID, default: 0] += 1 }
        var missing: [QuestionID] = [], extra: [QuestionID] = []
        var missingCount = 0, extraCount = 0, duplicates = 0
        for (id, n) in expected where (answered[id] ?? 0) < n {
            missingCount += n - (answered[id] ?? 0)
            missing.append(id)
        }
        for (id, n) in answered {
            if let e = expected[id] {
                if n > e { duplicates += n - e }
            } else {
                extraCount += n
                extra.append(id)
            }
        }
        if missingCount > 0 {
            notes.append("\(missingCount) of \(items.count) questions have no answer (e.g. \(missing.sorted().prefix(3).map(\.description).joined(separator: ", ")))")
        }
        if extraCount > 0 {
            notes.append("\(extraCount) answers are for ids not in the question file (e.g. \(extra.sorted().prefix(3).map(\.description).joined(separator: ", ")))")
        }
        if duplicates > 0 { notes.append("\(duplicates) answer lines repeat an already answered question (the later one counts where the script keeps one)") }
        return notes
    }
}
