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
        ones are listed and the answer already in OUT is kept. Runs still missing items are reported \
        as incomplete and are not scored unless --allow-incomplete. Exit status 1 if there were conflicts.
        """)

    @Argument(help: "Output database (created if absent; may already hold runs).") var output: String
    @Argument(help: "Shard databases to merge in.") var shards: [String]
    @OptionGroup var data: DataRootOption
    @Flag(help: "Score every complete run touched by the merge.") var score = false
    @Flag(name: .customLong("allow-incomplete"), help: "Also score runs with items missing.") var allowIncomplete = false

    func validate() throws {
        if shards.isEmpty { throw ValidationError("give at least one shard database to merge") }
    }

    func run() throws {
        let (report, lines) = try RunScoring.mergeShards(output: output, shards: shards)
        for line in lines { print(line) }
        if score {
            let store = try ResultsStore(path: output)
            let outputs = try CLIRuns.outputs(data)
            for run in try store.runs() where run.isComplete || allowIncomplete {
                do {
                    for line in try outputs.score(store: store, run: run, allowIncomplete: allowIncomplete) { print(line) }
                } catch {
                    CLIRuns.printErr("\(run.config.label): not scored: \(error)")
                }
            }
        }
        if report.hasConflicts { throw ExitCode(1) }
    }
}
