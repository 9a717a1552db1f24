import ArgumentParser
import Foundation
import Benchmarks
import Report

/// Score and latency tables (Markdown/CSV) and the accuracy-vs-tokens plot from result databases.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Print score and latency tables from result databases; optionally plot accuracy vs visual tokens.",
        discussion: """
        Rows are model × method × visual-token budget (× ratio), columns are benchmarks, and the last column is \
        the mean score relative to the unpruned run of the same model, in percent (the paper's layout). Only \
        complete, scored runs enter the score table; the others are listed below it.
        Example: vispruner report --db results/llava-v1.5-7b.sqlite --out results/tables --plot results/accuracy.png
        """)

    @Option(name: .customLong("db"), parsing: .upToNextOption, help: "Result database(s) (.sqlite).")
    var databases: [String] = []

    @Flag(help: "Print CSV instead of Markdown.")
    var csv = false

    @Flag(help: "Also print the latency table (mean, p50, p90 per stage; decode tokens/s).")
    var latency = false

    @Option(help: "Write scores.md, scores.csv, latency.md and latency.csv into this folder.")
    var out: String?

    @Option(help: "Write the accuracy-vs-visual-tokens plot: OUT.png (plus OUT.svg beside it) or OUT.svg.")
    var plot: String?

    func validate() throws {
        guard !databases.isEmpty else { throw ValidationError("give at least one --db FILE") }
    }

    func run() throws {
        let data = try StoreReport(databases: databases)
        // Benchmark columns in the registry's order (the paper's); without a registry, alphabetical.
        let order = (try? DatasetRegistry.load())?.names ?? []
        let scores = ScoreTable(data.results, columnOrder: order)
        let lat = LatencyTable(data.latency)
        print(csv ? scores.csv() : scores.markdown(), terminator: "")
        if latency {
            print("")
            print(csv ? lat.csv() : lat.markdown(), terminator: "")
        }
        for n in data.notes { CLIRuns.printErr("note: \(n)") }
        if let out {
            let dir = URL(fileURLWithPath: out)
            try TableFiles.write(scores: scores, latency: lat, to: dir)
            CLIRuns.printErr("wrote tables to \(dir.path)")
        }
        if let plot {
            for url in try FigureFiles.writeAccuracyPlot(data.results, to: URL(fileURLWithPath: plot), columnOrder: order) {
                CLIRuns.printErr("wrote \(url.path)")
            }
        }
    }
}
