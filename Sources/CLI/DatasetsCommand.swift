import ArgumentParser
import Foundation
import Benchmarks
import Records

/// `vispruner datasets check --data-root DIR`.
struct DatasetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "datasets",
        abstract: "Inspect the benchmarks declared in datasets.json.",
        subcommands: [DatasetsCheckCommand.self])
}

struct DatasetsCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a data root: question files, images, annotation files; counts per benchmark.",
        discussion: "Benchmarks whose question file is absent are skipped with a line saying so. Exits non-zero when something is wrong.")

    @Option(name: .customLong("data-root"), help: "Data root in LLaVA's playground/data/eval layout (default: $VISPRUNER_DATA).")
    var dataRoot: String?

    @Option(help: "datasets.json to use (default: the repository's, or $VISPRUNER_DATASETS).")
    var datasets: String?

    func run() throws {
        let registry = try DatasetRegistry.load(explicit: datasets)
        let root = try DatasetRegistry.dataRoot(option: dataRoot)
        print("data root: \(root.path)")
        print("registry: \(registry.source?.path ?? "-")")
        var problems = 0, checked = 0
        for spec in registry.specs {
            let report = DataRootCheck.check(spec: spec, registry: registry, root: root)
            print(report.lines.joined(separator: "\n"))
            problems += report.problems
            if report.checked { checked += 1 }
        }
        print("")
        print("\(checked) benchmark(s) checked, \(problems) problem(s)")
        if problems > 0 { throw ExitCode(1) }
    }
}
