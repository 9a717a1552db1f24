import ArgumentParser
import Foundation
import Benchmarks
import Harness
import Store

/// `vispruner export DATASET --answers FILE --data-root DIR --out DIR`.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the file(s) the benchmark's official tool or leaderboard server accepts.",
        discussion: """
        vqav2: EvalAI test-dev submission JSON over the full test2015 list; gqa: testdev_balanced_predictions.json \
        for GQA's eval.py; textvqa: EvalAI submission JSON; mme: the eval_tool results folder; scienceqa: the \
        result/output JSON files; pope: answers .jsonl. `--format answers-jsonl` writes LLaVA answers .jsonl for any benchmark. \
        A stored run (--db --run) is exported only as the benchmark it was run on.
        """)

    @Argument(help: "Benchmark name from datasets.json.")
    var dataset: String

    @OptionGroup var source: AnswersSource

    @Option(help: "Output directory (created if needed).")
    var out: String

    @Option(help: "Experiment name used in file names (default: the answers file name, or its folder for merge.jsonl; with --db the run's folder name, e.g. vispruner-t64-r0.5-seed0-len128-<key>).")
    var name: String?

    @Option(help: "Output format instead of the benchmark's own (e.g. answers-jsonl).")
    var format: String?

    @Flag(help: "Replace files of the same name that --out already holds with different content.")
    var force = false

    func run() throws {
        let (benchmark, _, contents, run) = try source.load(dataset, command: "export")
        let exporter = try benchmark.exporter(format: format)
        let notes = AnswerCoverage.notes(records: contents.records, badLines: contents.badLines, items: try? benchmark.items())
        var summary: String?
        let files = try OutputFolder.write(into: URL(fileURLWithPath: out), force: force) { dir in
            let result = try exporter.exportReporting(contents.records, to: dir, name: name ?? defaultName(run: run),
                                                      errorLines: contents.badLines.count)
            summary = result.summary
            return result.files
        }
        // The conversion script's own summary line first, as it prints it.
        if let summary { print(summary) }
        for note in notes { print("note: \(note)") }
        for url in files { print("wrote \(url.path)") }
    }

    /// The answers file's name, or for a stored run its folder name (method, budget, ratio, seed, length, run
    /// key; `-subsetNofM` for --limit runs), so files from two databases never collide and say which run they hold.
    func defaultName(run: RunInfo?) -> String {
        if let run { return RunOutputs.exportFolder(root: URL(fileURLWithPath: "/"), run: run).lastPathComponent }
        guard let answers = source.answers else { return source.runID ?? "answers" }
        let url = URL(fileURLWithPath: answers)
        let stem = url.deletingPathExtension().lastPathComponent
        return stem == "merge" ? url.deletingLastPathComponent().lastPathComponent : stem
    }
}
