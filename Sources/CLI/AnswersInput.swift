import ArgumentParser
import Foundation
import Harness
import Store
import Benchmarks
import Records

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

    @Option(help: "datasets.json to use (default: $VISPRUNER_DATASETS, else the data root's datasets.json, else the built-in copy).")
    var datasets: String?

    /// The benchmark `name` names, where the answers come from, the answers, and the stored run they
    /// belong to (with --db). A stored run is scored and exported only as the benchmark it was run on.
    func load(_ name: String, command: String) throws -> (benchmark: Benchmark, input: AnswersInput, contents: AnswersFile.Contents, run: RunInfo?) {
        let root = try DatasetRegistry.dataRoot(option: dataRoot)
        let registry = try DatasetRegistry.load(explicit: datasets, dataRoot: root)
        let benchmark = try registry.benchmark(named: name, dataRoot: root)
        let input = try AnswersInput(answers: answers, db: db, run: runID)
        let (contents, run) = try input.loadWithRun()
        if let run, run.config.dataset != benchmark.spec.name {
            throw DatasetError(file: db ?? "", """
                run \(run.id) is a \(run.config.dataset) run (\(run.config.label), split \(run.config.split)), not \(benchmark.spec.name): \
                a run is scored and exported only as the benchmark it was run on (vispruner \(command) \(run.config.dataset) --db ... --run \(run.id))
                """)
        }
        return (benchmark, input, contents, run)
    }
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
    func load() throws -> AnswersFile.Contents { try loadWithRun().contents }

    /// The answers and, for `--db`, the stored run they come from.
    func loadWithRun() throws -> (contents: AnswersFile.Contents, run: RunInfo?) {
        switch self {
        case .file(let url):
            return (try AnswersFile.read(url), nil)
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
            return (AnswersFile.Contents(records: try RunScoring.answerRecords(store: store, run: info), badLines: []), info)
        }
    }

    var label: String {
        switch self {
        case .file(let url): return url.path
        case .store(let db, let run): return "\(db) run \(run)"
        }
    }
}
