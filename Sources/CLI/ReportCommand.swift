import ArgumentParser
import Foundation
import Imaging
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
        let scores = ScoreTable(data.results)
        let lat = LatencyTable(data.latency)
        print(csv ? scores.csv() : scores.markdown(), terminator: "")
        if latency {
            print("")
            print(csv ? lat.csv() : lat.markdown(), terminator: "")
        }
        for n in data.notes { CLIRuns.printErr("note: \(n)") }
        if let out {
            let dir = URL(fileURLWithPath: out)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try Data(scores.markdown().utf8).write(to: dir.appendingPathComponent("scores.md"))
            try Data(scores.csv().utf8).write(to: dir.appendingPathComponent("scores.csv"))
            try Data(lat.markdown().utf8).write(to: dir.appendingPathComponent("latency.md"))
            try Data(lat.csv().utf8).write(to: dir.appendingPathComponent("latency.csv"))
            CLIRuns.printErr("wrote tables to \(dir.path)")
        }
        if let plot {
            for url in try ReportCommand.writePlot(data.results, to: URL(fileURLWithPath: plot)) {
                CLIRuns.printErr("wrote \(url.path)")
            }
        }
    }

    /// Writes PNG and/or SVG depending on the extension; returns the files written.
    static func writePlot(_ results: [ResultRow], to url: URL, title: String = "Accuracy vs visual tokens") throws -> [URL] {
        guard !results.isEmpty else { throw ValidationError("nothing to plot: no complete, scored runs") }
        let scene = AccuracyPlot.scene(results, title: title)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        switch url.pathExtension.lowercased() {
        case "svg":
            try Data(scene.svg().utf8).write(to: url)
            return [url]
        case "png":
            let canvas = scene.canvas()
            try PNGEncoder.encode(rgb: canvas.pixels, width: canvas.width, height: canvas.height).write(to: url)
            let svg = url.deletingPathExtension().appendingPathExtension("svg")
            try Data(scene.svg().utf8).write(to: svg)
            return [url, svg]
        default:
            throw ValidationError("--plot must end in .png or .svg")
        }
    }
}
