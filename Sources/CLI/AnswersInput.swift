import ArgumentParser
import Foundation
import Harness
import Store
import Datasets

/// Where the answers to score/export come from. Today only a LLaVA answers `.jsonl` file; the
/// results store (`--db FILE --run ID`) plugs in here once the Store module provides runs.
/// Where `score` and `export` take answers, benchmark files and the registry from.
struct AnswersSource: ParsableArguments {
    @Option(help: "LLaVA answers .jsonl file.")
    var answers: String?

    @Option(help: "Results database (with --run) instead of --answers.")
    var db: String?

    @Option(name: .customLong("run"), help: "Run inside --db: its number or the key prefix eval prints.")
    var runID: String?

    @Option(name: .customLong("data-root"), help: "Data root in LLaVA's playground/data/eval layout (default: $VISPRUNER_DATA).")
    var dataRoot: String?

    @Option(help: "datasets.json to use (default: the repository's, or $VISPRUNER_DATASETS).")
    var datasets: String?
}

enum AnswersInput {
    case file(URL)
    case store(database: String, run: String)

    init(answers: String?, db: String?, run: String?) throws {
        switch (answers, db, run) {
        case (let a?, nil, nil): self = .file(URL(fileURLWithPath: a))
        case (nil, let d?, let r?): self = .store(database: d, run: r)
        case (nil, nil, nil): throw DatasetError("give the answers: --answers FILE (or --db FILE --run ID)")
        default: throw DatasetError("use either --answers FILE or --db FILE --run ID, not both")
        }
    }

    /// The answer records and the unparsable lines (1-based line, reason).
    func load() throws -> AnswersFile.Contents {
        switch self {
        case .file(let url):
            return try AnswersFile.read(url)
        case .store(let db, let run):
            guard FileManager.default.fileExists(atPath: db) else { throw DatasetError(file: db, "no such results database") }
            let store = try ResultsStore(path: db, readonly: true)
            let runs = try store.runs()
            // A run is named by its numeric id or a prefix of its key (as eval and merge print it).
            let matches = runs.filter { $0.id.description == run || (run.count >= 4 && $0.key.hasPrefix(run)) }
            guard matches.count == 1, let info = matches.first else {
                let known = runs.map { "\($0.id) (\($0.key.prefix(12))) \($0.config.label)" }.joined(separator: "; ")
                throw DatasetError(file: db, matches.isEmpty ? "no run '\(run)' (runs: \(known))" : "run '\(run)' is ambiguous (runs: \(known))")
            }
            return AnswersFile.Contents(records: try RunScoring.answerRecords(store: store, run: info), badLines: [])
        }
    }

    var label: String {
        switch self {
        case .file(let url): return url.path
        case .store(let db, let run): return "\(db) run \(run)"
        }
    }
}

/// Checks an answers set against the benchmark's question list: ids missing, extra or duplicated,
/// and unparsable lines, as human-readable notes with counts.
enum AnswerCoverage {
    static func notes(records: [AnswerRecord], badLines: [(line: Int, reason: String)],
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
