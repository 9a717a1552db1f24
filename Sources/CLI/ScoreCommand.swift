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
        let (benchmark, input, contents) = try source.load(dataset)
        let spec = benchmark.spec
        // The question list is only needed for the coverage notes: without it the answers are still scored.
        let items = try? benchmark.scoredItems()
        var report = try benchmark.scorer().score(contents.records)
        report.notes = AnswerCoverage.notes(records: contents.records, badLines: contents.badLines, items: items) + report.notes
        if json {
            print(ScoreOutput.json(report, answers: input.label, lines: contents.records.count, badLines: contents.badLines.count))
        } else {
            print(ScoreOutput.table(report, title: spec.title, answers: input.label))
        }
    }
}
