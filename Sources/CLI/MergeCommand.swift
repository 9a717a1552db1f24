import ArgumentParser
import Foundation
import Harness
import Store

/// `vispruner merge OUT.sqlite SHARD.sqlite...`: combines shard databases.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge shard result databases into one.",
        discussion: """
        Runs are matched by their config key. Identical duplicate answers are collapsed; conflicting \
        ones are listed and the answer already in OUT is kept. Complete runs are then scored (with the data \
        root: --data-root or $VISPRUNER_DATA) and, with --out, their answers and submission files written. \
        Runs still missing items are reported as incomplete and are not scored unless --allow-incomplete. \
        Exit status 1 if there were conflicts.
        """)

    @Argument(help: "Output database (created if absent; may already hold runs).") var output: String
    @Argument(help: "Shard databases to merge in.") var shards: [String]
    @OptionGroup var data: DataRootOption
    @Flag(inversion: .prefixedNo, help: "Score every complete run after the merge (needs the data root).") var score = true
    @Option(help: "Also write the answers and submission files of complete runs under this folder (<out>/<dataset>/<model>/<run>/).")
    var out: String?
    @Flag(name: .customLong("allow-incomplete"), help: "Also score runs with items missing.") var allowIncomplete = false

    func validate() throws {
        if shards.isEmpty { throw ValidationError("give at least one shard database to merge") }
    }

    func run() throws {
        let (report, lines) = try RunScoring.mergeShards(output: output, shards: shards)
        for line in lines { print(line) }
        if score || out != nil {
            guard let outputs = try? CLIRuns.outputs(data) else {
                // Without the data root the merged runs stay unscored; report scores them later.
                CLIRuns.printErr("note: merged runs not scored: no data root (pass --data-root DIR or set VISPRUNER_DATA); "
                                 + "`vispruner report --db \(output) --data-root DIR` scores them")
                if report.hasConflicts { throw ExitCode(1) }
                return
            }
            let store = try ResultsStore(path: output)
            var seenNotes = Set<String>()
            for run in try store.runs() where run.isComplete || allowIncomplete {
                CLIRuns.show(outputs.finish(store: store, run: run, out: out.map { URL(fileURLWithPath: $0) }, score: score,
                                            allowIncomplete: allowIncomplete), quiet: false, seenNotes: &seenNotes)
            }
        }
        if report.hasConflicts { throw ExitCode(1) }
    }
}
