import ArgumentParser
import Benchmarks
import Foundation
import Harness
import Records
import Report
import Store

/// `vispruner demo`: the whole pipeline on the bundled trained tiny model and its held-out synthetic data.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a pruning sweep on the bundled trained tiny model and held-out synthetic items of all six benchmarks.",
        discussion: """
        Evaluates the unpruned model and VisPruner, FasterVLM, DivPrune, random and uniform selection at each \
        --tokens budget on the held-out synthetic items of VQAv2, GQA, MME, POPE, ScienceQA-IMG and TextVQA \
        (demo/data-synth: coloured shapes and signs in each benchmark's real file layout and prompts), then writes \
        under --out: demo.sqlite (every answer with its timings), answers and submission files per run, \
        scores.md/.csv (with the item count of each score), latency.md/.csv and the figures accuracy.png/.svg/.pdf \
        and latency.png/.svg/.pdf. The bundled model (demo/models/llava15-synth) is a tiny LLaVA-1.5 trained on \
        that synthetic family (demo/synthetic/README.md): its scores show what pruning does to a model that answers \
        from the image, not what it does to LLaVA-1.5-7B. VQAv2's split is test-dev: exported, not scored locally. \
        Re-running resumes; --fresh starts over.
        """)

    @OptionGroup var reuse: ReuseOptions
    @Option(help: "Output folder.") var out = "results/demo"
    @Flag(help: "Delete the previous demo database first.") var fresh = false
    @Option(name: .customLong("max-new-tokens"), parsing: .unconditional, help: "Decoding length (the demo caps it to keep the run short).")
    var maxNewTokens = 32
    // 64 is a budget the paper reports; 16 and 4 are where this small model's sparse pictures start to lose
    // objects, so the methods separate there
    @Option(name: .customLong("tokens"), parsing: .singleValue, help: "Visual-token budget of the pruned runs (repeatable).")
    var tokens: [Int] = [64, 16, 4]
    @Option(name: .customLong("method"), parsing: .singleValue,
            help: "Selection method of the pruned runs (repeatable; \(SelectionMethod.names)).")
    var methods: [String] = SelectionMethod.allCases.map(\.rawValue)
    @Option(help: "Answer only the first N items of each benchmark (a quick look; scores are then marked as subsets).")
    var limit: Int?
    @Flag(help: "No progress line.") var quiet = false

    func run() throws {
        Interruption.shared.install()
        let assets = try DemoAssets.locate()
        let outDir = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: outDir, withIntermediateDirectories: true)
        let dbPath = outDir.appendingPathComponent("demo.sqlite").path
        if fresh {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: dbPath + suffix) }
        }
        CLIRuns.printErr("""
            VisPruner Bench demo — model \(assets.model.path), data \(assets.data.path)
            The bundled model is a tiny LLaVA-1.5 trained on synthetic shapes and signs (demo/synthetic); its
            scores show how each pruning method changes the answers of a model that looks at the image.
            """)
        let registry = try DatasetRegistry.load(dataRoot: assets.data)
        let spec = SweepSpec(models: [assets.model.path], datasets: registry.names, methods: methods,
                             tokens: tokens, ratios: [0.5], baseline: true, maxNewTokens: maxNewTokens, limit: limit)
        let plan = try SweepPlan(spec)
        let store = try ResultsStore(path: dbPath)
        let outputs = RunOutputs(registry: registry, dataRoot: assets.data)
        let runner = SweepRunner(store: store,
                                 makeEngine: { [reuse] in try makeEngine(model: URL(fileURLWithPath: $0), visionTower: nil, reuse: reuse) },
                                 makeBenchmark: { try registry.benchmark(named: $0, dataRoot: assets.data) })
        let options = EvalOptions(liveProgress: ProgressReporter.shouldDrawLive(quiet: quiet),
                                  progressLogInterval: ProgressReporter.logInterval(quiet: quiet), metadata: CLIRuns.metadata)
        let started = Date()
        var seenNotes = Set<String>()
        _ = try runner.run(plan, options: options) { outcome in
            switch outcome {
            case .skipped(let job, _):
                if !quiet { CLIRuns.printErr("skip (finished): \(job)") }
            case .evaluated(_, let summary):
                if !quiet { CLIRuns.printErr(summary.summaryLine) }
                CLIRuns.show(outputs.finish(store: store, run: summary.run, out: outDir.appendingPathComponent("submissions"),
                                            score: true), quiet: true, seenNotes: &seenNotes)
            }
        }

        let report = try StoreReport(databases: [dbPath], score: { outputs.scoreLookup(store: $0, run: $1) })
        let scores = ScoreTable(report.results, layout: registry.tableLayout, bootstrap: Bootstrap())
        let latency = LatencyTable(report.latency)
        try TableFiles.write(scores: scores, latency: latency, to: outDir)
        let plots = try FigureFiles.writeAccuracyPlot(report.results, to: outDir.appendingPathComponent("accuracy.png"),
                                                      title: "Demo (tiny LLaVA-1.5 on synthetic data): score vs visual tokens",
                                                      layout: registry.tableLayout, bootstrap: Bootstrap())
            + FigureFiles.writeLatencyPlot(report.latency, to: outDir.appendingPathComponent("latency.png"),
                                           title: "Demo: latency vs visual tokens (mean per item)")
        print("")
        print(scores.fullMarkdown())
        print(latency.markdown())
        for n in report.notes { print("note: \(n)") }
        print("""
            Demo finished in \(Int(Date().timeIntervalSince(started))) s. Written under \(outDir.path):
              demo.sqlite, submissions/, scores.md, scores.csv, latency.md, latency.csv, \
            \(plots.map(\.lastPathComponent).joined(separator: ", "))
            (Scores come from a tiny model trained on synthetic data: they show what pruning does, not 7B numbers.)

            With a real checkpoint (see EVAL.md for the data layout):
              vispruner eval --model ~/models/llava-v1.5-7b --dataset gqa --tokens 64 --ratio 0.5 --data-root ~/data/eval
              vispruner sweep --model ~/models/llava-v1.5-7b --dataset mme --dataset pope --tokens 64 --tokens 128 \\
                --ratio 0.5 --data-root ~/data/eval --db results/sweep.sqlite
              vispruner report --db results/sweep.sqlite --plot results/accuracy.png --latency-plot results/latency.png
            """)
    }
}

/// The bundled demo model and data (`demo/` in the repository).
enum DemoAssets {
    struct Paths { let model: URL; let data: URL }

    /// Finds `demo/` walking up from the executable (a build under .build/ finds the repository's)
    /// and from the current directory.
    static func locate() throws -> Paths {
        var starts: [URL] = []
        if let exe = Bundle.main.executableURL { starts.append(exe.resolvingSymlinksInPath().deletingLastPathComponent()) }
        starts.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        for start in starts {
            var dir = start.standardizedFileURL
            for _ in 0..<12 {
                let demo = dir.appendingPathComponent("demo")
                let model = demo.appendingPathComponent("models/llava15-synth")
                if FileManager.default.fileExists(atPath: model.appendingPathComponent("config.json").path) {
                    return Paths(model: model, data: demo.appendingPathComponent("data-synth"))
                }
                let parent = dir.deletingLastPathComponent()
                if parent.path == dir.path { break }
                dir = parent
            }
        }
        throw ValidationError("the bundled demo/ folder was not found next to the executable's repository or the current directory")
    }
}
