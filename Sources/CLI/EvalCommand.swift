import ArgumentParser
import Benchmarks
import Foundation
import Harness
import Model
import Records
import Store
import Records

/// `vispruner eval`: one model × benchmark × pruning setting, stored item by item (resumable).
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate one pruning setting on one benchmark, storing every answer (resumable, shardable).",
        discussion: """
        Re-running the same command resumes: items already in the results database are skipped. \
        --shard I/N (0-based; or a Slurm job array: task SLURM_ARRAY_TASK_ID of VISPRUNER_SHARDS) evaluates items \
        k with k mod N = I and writes <db>.shard-I-of-N.sqlite; combine shards with `vispruner merge`. \
        Before the first answer the model folder, the budget (at most the patches of a view) and the benchmark's \
        data are checked as `datasets check` does (question file, every image header, the files scoring needs). \
        Exit status: 0 all items answered, 3 some items failed (recorded; re-run to retry them), \
        2 stopped after too many consecutive failures, 4 not started (problems listed).
        """)

    @Option(help: "LLaVA checkpoint directory.") var model: String
    @Option(name: .customLong("vision-tower"), help: "CLIP vision tower directory (default: as named in the checkpoint config).")
    var visionTower: String?
    @Option(help: "Benchmark: vqav2, gqa, mme, textvqa, pope, scienceqa.") var dataset: String
    @OptionGroup var data: DataRootOption
    @OptionGroup var reuse: ReuseOptions
    @Option(help: "Pruning method ('none' feeds every visual token).") var method: MethodArgument = .vispruner
    @Option(parsing: .unconditional, help: "Visual tokens kept (required unless --method none).") var tokens: Int?
    @Option(parsing: .unconditional, help: "VisPruner important-token ratio.") var ratio = 0.5
    @Option(parsing: .unconditional, help: "Seed for methods with randomness.") var seed: UInt64 = 0
    @Option(name: .customLong("max-new-tokens"), parsing: .unconditional, help: "Decoding length (default: the benchmark's, 128 or 1024).")
    var maxNewTokens: Int?
    @Option(parsing: .unconditional, help: "Evaluate only the first N items.") var limit: Int?
    @Flag(help: "Discard this run's stored answers and start over.") var restart = false
    @Option(help: "Evaluate shard I of N (0-based), e.g. 0/4.") var shard: String?
    @Option(help: "Results database (shards add .shard-I-of-N).") var db = "results/results.sqlite"
    @Option(name: .customLong("answers"), help: "Also write the answers file (LLaVA jsonl) here when the run is complete.")
    var answersFile: String?
    @Flag(inversion: .prefixedNo, help: "Score the run when it is complete.") var score = true
    @Option(help: "Folder for the answers and submission files of complete runs (<out>/<dataset>/<model>/<run>/, the run folder naming method, budget, ratio, seed, decoding length and the run key).")
    var out = "results"
    @Flag(name: .customLong("allow-incomplete"), help: "Score (and export) even with items missing.") var allowIncomplete = false
    @Option(name: .customLong("max-consecutive-failures"), parsing: .unconditional, help: "Stop after this many failed items in a row (0: never).")
    var maxConsecutiveFailures = 50
    @Flag(name: .customLong("ignore-slurm"), help: "Do not take the shard from a Slurm job array's environment.")
    var ignoreSlurm = false
    @Flag(help: "No progress line or summary.") var quiet = false
    @Option(help: "LLaVA-1.6 image feeding: fixed (VisPruner's 2×2 grid, default) or stock (best-fit grid, spatial_unpad, image_newline).")
    var anyres: AnyresMode = .fixed
    @Option(help: "Language-model arithmetic: float32 (default; what parity is measured in) or bfloat16 (activations rounded to bf16, float32 sums; fast on CPUs with AVX512_BF16).")
    var precision: ComputePrecision = .float32
    @Option(help: "How image files are opened: reference (default: as each benchmark's reference script does; ScienceQA's opens them without converting to RGB, which changes how palette and CMYK images are padded) or rgb (always converted first; a run-key field for ScienceQA).")
    var images: ImageOpening = .reference

    func validate() throws {
        if method != .none && tokens == nil {
            throw ValidationError("--tokens is required for --method \(method.rawValue) (use --method none for the unpruned baseline)")
        }
        if let tokens, tokens <= 0 { throw ValidationError("--tokens must be positive") }
        if !(ratio >= 0 && ratio <= 1) { throw ValidationError("--ratio must be in [0, 1]") }
        _ = try method.pruning(tokens: tokens, ratio: ratio)
        if let limit, limit < 0 { throw ValidationError("--limit must not be negative") }
        if let maxNewTokens, maxNewTokens <= 0 { throw ValidationError("--max-new-tokens must be positive") }
        if maxConsecutiveFailures < 0 { throw ValidationError("--max-consecutive-failures must not be negative") }
    }

    func run() throws {
        Interruption.shared.install()
        let shardSpec = try CLIRuns.shard(flag: shard, ignoreSlurm: ignoreSlurm, quiet: quiet)
        let dbPath = shardSpec?.databasePath(base: db) ?? db
        let outputs = try CLIRuns.outputs(data)
        let problems = Preflight.problems(models: [model], visionTower: visionTower.map { URL(fileURLWithPath: $0) },
                                          datasets: [dataset], budgets: tokens.map { [$0] } ?? [], limit: limit,
                                          registry: outputs.registry, dataRoot: outputs.dataRoot)
        guard problems.isEmpty else {
            for p in problems { CLIRuns.printErr("problem: \(p)") }
            CLIRuns.printErr("eval: not started: \(problems.count) problem(s)")
            throw ExitCode(4)
        }
        let benchmark = try outputs.registry.benchmark(named: dataset, dataRoot: outputs.dataRoot)
        let engine = try makeEngine(model: URL(fileURLWithPath: model), visionTower: visionTower.map { URL(fileURLWithPath: $0) },
                                    anyres: anyres, precision: precision, reuse: reuse)
        let store = try ResultsStore(path: dbPath)
        let settings = RunSettings(pruning: try method.pruning(tokens: tokens, ratio: ratio), seed: seed, maxNewTokens: maxNewTokens,
                                   images: images)
        let options = EvalOptions(limit: limit, restart: restart, shard: shardSpec,
                                  liveProgress: ProgressReporter.shouldDrawLive(quiet: quiet),
                                  progressLogInterval: ProgressReporter.logInterval(quiet: quiet),
                                  maxConsecutiveFailures: maxConsecutiveFailures == 0 ? nil : maxConsecutiveFailures,
                                  metadata: CLIRuns.metadata)
        let summary = try Evaluator(engine: engine, store: store).run(benchmark: benchmark, settings: settings, options: options)
        if !quiet {
            CLIRuns.printErr(summary.summaryLine + " -> \(dbPath) (run \(summary.run.key.prefix(12)))")
            for f in summary.failures.prefix(10) { CLIRuns.printErr("  failed \(f.questionID.jsonLiteral): \(f.message)") }
            if summary.failures.count > 10 { CLIRuns.printErr("  ... and \(summary.failures.count - 10) more (stored as item errors)") }
        }
        let ready = summary.run.isComplete || allowIncomplete
        if let answersFile, ready {
            try AnswersFile.write(RunScoring.answerRecords(store: store, run: summary.run), to: URL(fileURLWithPath: answersFile))
        }
        if ready && shardSpec == nil {
            for url in try outputs.export(store: store, run: summary.run, root: URL(fileURLWithPath: out)) where !quiet {
                CLIRuns.printErr("wrote \(url.path)")
            }
        }
        if score && ready && shardSpec == nil {
            for line in try outputs.score(store: store, run: summary.run, allowIncomplete: allowIncomplete) { print(line) }
        }
        if summary.aborted { throw ExitCode(2) }
        if !summary.failures.isEmpty { throw ExitCode(3) }
    }
}
