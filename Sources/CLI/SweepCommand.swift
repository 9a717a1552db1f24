import ArgumentParser
import Benchmarks
import Foundation
import Harness
import Model
import Records
import Store

/// `vispruner sweep`: a grid of models × benchmarks × methods × budgets × ratios (+ baselines).
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run a grid of evaluations from flags or a sweep file (JSON or YAML), skipping finished runs.",
        discussion: """
        Sweep file keys: models, datasets, methods, tokens, ratios, baseline (default true), seed, \
        max_new_tokens, limit, images (reference or rgb). The unpruned baseline runs once per model × benchmark. Runs already \
        complete in the database are skipped and listed; partial ones are resumed. --shard I/N (or a \
        Slurm job array) applies to every run, each shard writing <db>.shard-I-of-N.sqlite. Before any \
        answer the whole plan is checked (sweep values, unknown keys, methods, model folders, budgets against \
        the patches per view, benchmark names, and each benchmark's data as `datasets check` does); --dry-run \
        prints the runs and every problem. Exit status 4: not started because of such problems; 3: some items failed.
        """)

    @Option(name: .customLong("sweep-file"), help: "Sweep file (.json, .yaml or .yml).") var sweepFile: String?
    @Option(name: .customLong("model"), help: "Checkpoint directory (repeatable).") var models: [String] = []
    @Option(name: .customLong("dataset"), help: "Benchmark (repeatable).") var datasets: [String] = []
    @Option(name: .customLong("method"), help: "Pruning method (repeatable; default vispruner).") var methods: [String] = []
    @Option(name: .customLong("tokens"), parsing: .unconditionalSingleValue, help: "Visual-token budget (repeatable).") var tokens: [Int] = []
    @Option(name: .customLong("ratio"), parsing: .unconditionalSingleValue, help: "Important ratio (repeatable; default 0.5).") var ratios: [Double] = []
    @Flag(name: .customLong("no-baseline"), help: "Skip the unpruned baseline runs.") var noBaseline = false
    @Option(parsing: .unconditional, help: "Seed.") var seed: UInt64?
    @Option(name: .customLong("max-new-tokens"), parsing: .unconditional, help: "Decoding length override.") var maxNewTokens: Int?
    @Option(parsing: .unconditional, help: "Evaluate only the first N items of each benchmark.") var limit: Int?
    @Option(name: .customLong("vision-tower"), help: "CLIP vision tower directory.") var visionTower: String?
    @OptionGroup var data: DataRootOption
    @OptionGroup var reuse: ReuseOptions
    @Option(help: "Results database (shards add .shard-I-of-N).") var db = "results/sweep.sqlite"
    @Option(help: "Evaluate shard I of N (0-based) of every run.") var shard: String?
    @Flag(name: .customLong("dry-run"), help: "Print the expanded grid and exit.") var dryRun = false
    @Flag(inversion: .prefixedNo, help: "Score each run when complete.") var score = true
    @Option(help: "Folder for the answers and submission files of complete runs (<out>/<dataset>/<model>/<run>/, the run folder naming method, budget, ratio, seed, decoding length and the run key).")
    var out = "results"
    @Flag(name: .customLong("ignore-slurm"), help: "Do not take the shard from a Slurm job array's environment.")
    var ignoreSlurm = false
    @Flag(help: "No progress line.") var quiet = false
    @Option(help: "LLaVA-1.6 image feeding: fixed (VisPruner's 2×2 grid, default) or stock (best-fit grid, spatial_unpad, image_newline).")
    var anyres: AnyresMode = .fixed
    @Option(help: "Language-model arithmetic: float32 (default; what parity is measured in) or bfloat16 (activations rounded to bf16, float32 sums; fast on CPUs with AVX512_BF16).")
    var precision: ComputePrecision = .float32
    @Option(help: "How image files are opened: reference (default, or the sweep file's `images`: as each benchmark's reference script does; ScienceQA's opens them without converting to RGB, which changes how palette and CMYK images are padded) or rgb (always converted first; a run-key field for ScienceQA).")
    var images: ImageOpening?

    func spec() throws -> SweepSpec {
        if let sweepFile {
            var s = try SweepSpec.load(URL(fileURLWithPath: sweepFile))
            // Flags given next to a file refine it.
            if !models.isEmpty { s.models = models }
            if !datasets.isEmpty { s.datasets = datasets }
            if !methods.isEmpty { s.methods = methods }
            if !tokens.isEmpty { s.tokens = tokens }
            if !ratios.isEmpty { s.ratios = ratios }
            if noBaseline { s.baseline = false }
            if let seed { s.seed = seed }
            if let maxNewTokens { s.maxNewTokens = maxNewTokens }
            if let limit { s.limit = limit }
            if let images { s.images = images }
            return s
        }
        let s = SweepSpec(models: models, datasets: datasets, methods: methods.isEmpty ? ["vispruner"] : methods,
                          tokens: tokens, ratios: ratios.isEmpty ? [0.5] : ratios, baseline: !noBaseline,
                          seed: seed ?? 0, maxNewTokens: maxNewTokens, limit: limit, images: images ?? .reference)
        return s
    }

    func run() throws {
        Interruption.shared.install()
        let file = sweepFile ?? "command line"
        let spec: SweepSpec
        do { spec = try self.spec() } catch {
            // A sweep file that cannot be read or parsed is a problem of the plan, like a bad flag: exit 4.
            CLIRuns.printErr("problem: \(error)")
            CLIRuns.printErr("sweep: not started: 1 problem(s)")
            throw ExitCode(4)
        }
        // Every problem of the plan is found before any work: values, models, budgets, benchmarks, data.
        var problems = spec.problems(file: file)
        let plan = problems.isEmpty ? try SweepPlan(spec, file: file) : nil
        let root: URL?
        do { root = try data.url } catch { root = nil; problems.append("\(error)") }
        let registry = try data.registry(dataRoot: root)
        problems += Preflight.problems(models: spec.models, visionTower: visionTower.map { URL(fileURLWithPath: $0) },
                                       datasets: spec.datasets, budgets: spec.tokens, limit: spec.limit,
                                       registry: registry, dataRoot: root)
        if dryRun {
            for job in plan?.jobs ?? [] { print(job.description) }
            if let plan { print("\(plan.jobs.count) runs") }
            for p in problems { print("problem: \(p)") }
            if !problems.isEmpty {
                print("\(problems.count) problem(s): the sweep would not start")
                throw ExitCode(4)
            }
            return
        }
        guard let plan, problems.isEmpty else {
            for p in problems { CLIRuns.printErr("problem: \(p)") }
            CLIRuns.printErr("sweep: not started: \(problems.count) problem(s) (vispruner sweep --dry-run lists them)")
            throw ExitCode(4)
        }
        let shardSpec = try CLIRuns.shard(flag: shard, ignoreSlurm: ignoreSlurm, quiet: quiet)
        let dbPath = shardSpec?.databasePath(base: db) ?? db
        let store = try ResultsStore(path: dbPath)
        let outputs = try CLIRuns.outputs(data)
        let tower = visionTower.map { URL(fileURLWithPath: $0) }
        let runner = SweepRunner(store: store,
                                 makeEngine: { [anyres, precision, reuse] in
                                     try makeEngine(model: URL(fileURLWithPath: $0), visionTower: tower, anyres: anyres, precision: precision,
                                                    reuse: reuse)
                                 },
                                 makeBenchmark: { try outputs.registry.benchmark(named: $0, dataRoot: outputs.dataRoot) })
        let options = EvalOptions(shard: shardSpec, liveProgress: ProgressReporter.shouldDrawLive(quiet: quiet),
                                  progressLogInterval: ProgressReporter.logInterval(quiet: quiet),
                                  metadata: CLIRuns.metadata)
        var skipped = 0, ran = 0, withFailures = 0
        var seenNotes = Set<String>()
        _ = try runner.run(plan, options: options, onStart: { i, n, job in
            if !quiet { CLIRuns.printErr("run \(i)/\(n): \(job)") }
        }) { outcome in
            switch outcome {
            case .skipped(let job, _):
                skipped += 1
                if !quiet { CLIRuns.printErr("skip (finished): \(job)") }
            case .evaluated(_, let summary):
                ran += 1
                if !summary.failures.isEmpty { withFailures += 1 }
                if !quiet { CLIRuns.printErr(summary.summaryLine) }
                guard shardSpec == nil else { return }
                CLIRuns.show(outputs.finish(store: store, run: summary.run, out: URL(fileURLWithPath: out), score: score),
                             quiet: quiet, seenNotes: &seenNotes)
            }
        }
        CLIRuns.printErr("sweep: \(ran) runs evaluated, \(skipped) skipped as finished, \(withFailures) with failed items -> \(dbPath)")
        if withFailures > 0 { throw ExitCode(3) }
    }
}
