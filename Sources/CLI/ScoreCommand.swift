import ArgumentParser
import Foundation
import Benchmarks
import Report
import Records
import PythonText

/// `vispruner score DATASET --answers FILE --data-root DIR [--json]`.
struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score an answers file exactly as the benchmark's official script does.",
        discussion: """
        DATASET is a name from datasets.json (vqav2, gqa, mme, textvqa, pope, scienceqa). The answers file is \
        LLaVA's answers .jsonl; a stored run (--db --run) must be a run of DATASET (anything else is refused) \
        and a --limit run is scored on the items it answered. Missing, extra or duplicated question ids and unparsable lines are reported \
        in the notes. VQAv2 test-dev has no local score: use `vispruner export vqav2` and upload to EvalAI \
        (val answers are scored against the val annotations when present).
        """)

    @Argument(help: "Benchmark name from datasets.json.")
    var dataset: String

    @OptionGroup var source: AnswersSource

    @Flag(help: "Print a JSON object instead of a table.")
    var json = false

    func run() throws {
        let (benchmark, input, contents, run) = try source.load(dataset, command: "score")
        let spec = benchmark.spec
        var report: ScoreReport
        if let run, run.isSubset {
            // A stored --limit run is scored on the items it answered, as eval and report score it.
            report = try benchmark.scorer().scoreAnswered(contents.records)
            report.notes.insert("subset: scored on the \(contents.records.count) answered items of \(run.benchmarkItems ?? 0) (--limit)", at: 0)
        } else {
            // The question list is only needed for the coverage notes: without it the answers are still scored.
            let items = try? benchmark.scoredItems()
            report = try benchmark.scorer().score(contents.records)
            report.notes = AnswerCoverage.notes(records: contents.records, badLines: contents.badLines, items: items) + report.notes
        }
        if json {
            print(ScoreOutput.json(report, answers: input.label, lines: contents.records.count, badLines: contents.badLines.count))
        } else {
            print(ScoreOutput.table(report, title: spec.title, answers: input.label))
        }
    }
}
