import ArgumentParser
import Foundation
import Benchmarks
import Harness
import Report

/// Score and latency tables (Markdown/CSV) and the accuracy and latency figures from result databases.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Print score and latency tables from result databases; optionally plot accuracy and latency vs visual tokens.",
        discussion: """
        Rows are model × method × visual-token budget (× VisPruner's ratio), columns are benchmarks in paper units \
        (GQA, VQAv2, TextVQA, ScienceQA-IMG and POPE F1/accuracy in percent, MME perception, cognition and their \
        total), and the last column is the mean over benchmarks of each benchmark's score relative to the unpruned \
        run of the same model, in percent (as the VisPruner paper computes it). Every score says how many items it is \
        over: "(n=…)" in the column header when all rows agree, else beside the value; the CSV has a \
        <benchmark>_items column per benchmark. Complete runs without stored \
        scores (merged shards, a run stopped before scoring) are scored from the data root (--data-root or \
        $VISPRUNER_DATA) and the scores stored where the database is writable. Subset runs (--limit) are marked †. \
        Runs left out (incomplete, not scored locally) are listed below the table with the reason. \
        Every score carries a 95% percentile-bootstrap interval ("± half-width" in Markdown, lower/upper columns in \
        CSV) over the benchmark's items (MME: image pairs within each task; POPE: answers within each split), and \
        every pruned row a second table of its paired difference from the unpruned run of the same model over the \
        items both answered. The resampling is seeded, so the same database gives the same intervals (EVAL.md, \
        "Intervals"). ScienceQA runs on RGB-converted images (--images rgb, and runs stored before that option) are \
        shown in columns of their own, and the number of items that took the reference's unconverted-image path is \
        noted below the table. \
        Figures (--plot, --latency-plot) are written as PNG (2× resolution), SVG and PDF side by side: \
        --plot results/accuracy.png writes results/accuracy.png, results/accuracy.svg and results/accuracy.pdf.
        Example: vispruner report --db results/llava-v1.5-7b.sqlite --out results/tables --plot results/accuracy.png \
        --latency-plot results/latency.png
        """)

    @Option(name: .customLong("db"), parsing: .upToNextOption, help: "Result database(s) (.sqlite).")
    var databases: [String] = []

    @Flag(help: "Print CSV instead of Markdown.")
    var csv = false

    @Flag(help: "Also print the latency table (mean, p50, p90 per stage; decode tokens/s; analytic TFLOPs and KV cache MiB per item; peak RSS MiB per run).")
    var latency = false

    @Option(help: "Write scores.md, scores.csv, latency.md and latency.csv into this folder.")
    var out: String?

    @Option(help: ArgumentHelp("Write the accuracy-vs-visual-tokens figure (one panel per benchmark in paper units, plus the average % of unpruned) as OUT.png, OUT.svg and OUT.pdf.",
                               valueName: "OUT.png"))
    var plot: String?

    @Option(name: .customLong("latency-plot"),
            help: ArgumentHelp("Write time to first token and total latency vs visual tokens (mean over the stored per-item timings) as OUT.png, OUT.svg and OUT.pdf.",
                               valueName: "OUT.png"))
    var latencyPlot: String?

    @Option(name: .customLong("data-root"), help: "Benchmark data root, to score complete runs that have no scores yet (default: $VISPRUNER_DATA).")
    var dataRoot: String?

    @Option(parsing: .unconditional, help: "Bootstrap replicates for the 95% intervals (0: no intervals).")
    var bootstrap = 1000

    @Option(name: .customLong("bootstrap-seed"), parsing: .unconditional, help: "Seed of the bootstrap's resampling.")
    var bootstrapSeed: UInt64 = 0

    func validate() throws {
        guard !databases.isEmpty else { throw ValidationError("give at least one --db FILE") }
        guard bootstrap >= 0 else { throw ValidationError("--bootstrap must not be negative") }
        for path in [plot, latencyPlot].compactMap({ $0 }) {
            do { _ = try FigureFiles.outputs(for: URL(fileURLWithPath: path)) } catch { throw ValidationError("\(error)") }
        }
    }

    func run() throws {
        // Benchmark columns in the registry's order (the paper's) and units; without a registry, alphabetical.
        let registry = try? DatasetRegistry.load()
        let layout = registry?.tableLayout ?? []
        var outputs: RunOutputs?
        if let registry, let root = try? DatasetRegistry.dataRoot(option: dataRoot) {
            outputs = RunOutputs(registry: registry, dataRoot: root)
        } else if dataRoot != nil {
            _ = try DatasetRegistry.dataRoot(option: dataRoot)  // a given but wrong --data-root is an error
        }
        let data = try StoreReport(databases: databases, score: outputs.map { o in { o.scoreLookup(store: $0, run: $1) } })
        let resampling = bootstrap > 0 ? Bootstrap(replicates: bootstrap, seed: bootstrapSeed) : nil
        let scores = ScoreTable(data.results, layout: layout, bootstrap: resampling)
        let lat = LatencyTable(data.latency)
        print(csv ? scores.csv() : scores.fullMarkdown(), terminator: "")
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
            for url in try FigureFiles.writeAccuracyPlot(data.results, to: URL(fileURLWithPath: plot), layout: layout,
                                                         bootstrap: resampling) {
                CLIRuns.printErr("wrote \(url.path)")
            }
        }
        if let latencyPlot {
            for url in try FigureFiles.writeLatencyPlot(data.latency, to: URL(fileURLWithPath: latencyPlot)) {
                CLIRuns.printErr("wrote \(url.path)")
            }
        }
    }
}
