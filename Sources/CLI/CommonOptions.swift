import ArgumentParser
import Foundation
import Datasets
import Harness
import Scoring
import Store

/// Where benchmark data lives; shared by eval, sweep and merge.
struct DataRootOption: ParsableArguments {
    @Option(name: .customLong("data-root"), help: "Benchmark data root in LLaVA's playground/data/eval layout (default: $VISPRUNER_DATA).")
    var dataRoot: String?

    var url: URL {
        get throws { try DatasetRegistry.dataRoot(option: dataRoot) }
    }
}

enum CLIRuns {
    /// Provenance for runs started by this binary (source checkout derived from this file's path).
    static var metadata: RunMetadata {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return Provenance.current(toolVersion: ToolVersion.string, sourceDirectory: source)
    }

    /// Scores a stored run if the benchmark has a local scorer; returns lines to print.
    static func score(store: ResultsStore, run: RunInfo, dataRoot: URL, allowIncomplete: Bool) throws -> [String] {
        guard let scorer = try makeScorer(dataset: run.config.dataset, dataRoot: dataRoot) else {
            return ["\(run.config.label): no local score for \(run.config.dataset) (submit the answers to its server)"]
        }
        let report = try RunScoring.score(store: store, run: run, scorer: scorer, allowIncomplete: allowIncomplete)
        // The headline and the top-level metrics; `vispruner score` prints the full breakdown.
        let shown = report.metrics.filter { $0.name == report.headline || !$0.name.contains(".") }
        var lines = ["\(run.config.label): " + shown.map { "\($0.name)=\(String(format: "%.2f", $0.value))" }.joined(separator: " ")]
        lines += report.notes.map { "  note: \($0)" }
        return lines
    }

    /// The shard to run: `--shard`, else the Slurm job array task (announced), else none.
    static func shard(flag: String?, ignoreSlurm: Bool, quiet: Bool) throws -> ShardSpec? {
        let env = ignoreSlurm ? [:] : ProcessInfo.processInfo.environment
        let spec = try ShardSpec.resolve(flag: flag, environment: env)
        if flag == nil, let spec, !quiet {
            printErr("shard \(spec) taken from the Slurm job array (SLURM_ARRAY_TASK_ID=\(env["SLURM_ARRAY_TASK_ID"] ?? "?"))")
        }
        return spec
    }

    static func printErr(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}

extension CLIRuns {
    /// Writes a complete run's LLaVA answers file and its benchmark's submission file(s) under
    /// `<root>/<dataset>/<run label>/`; returns the files written.
    static func export(store: ResultsStore, run: RunInfo, dataRoot: URL, root: URL) throws -> [URL] {
        let spec = try DatasetRegistry.load().spec(named: run.config.dataset)
        let folder = run.config.label.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" }
        let dir = root.appendingPathComponent(run.config.dataset).appendingPathComponent(String(folder))
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let answers = try RunScoring.answerRecords(store: store, run: run)
        let name = run.config.modelID
        var written = try ScorerRegistry.exporter(for: spec, dataRoot: dataRoot, format: ScorerRegistry.answersJSONLFormat)
            .export(answers, to: dir, name: name)
        if spec.submissionFormat != ScorerRegistry.answersJSONLFormat {
            written += try ScorerRegistry.exporter(for: spec, dataRoot: dataRoot).export(answers, to: dir, name: name)
        }
        return written
    }
}

extension CLIRuns {
    /// After a run completes: write its answers/submission files under `out` and score it.
    /// Problems are reported, not thrown, so one unscorable run does not stop a sweep.
    static func finish(store: ResultsStore, run: RunInfo, dataRoot: URL, out: URL?, score: Bool, quiet: Bool) {
        guard run.isComplete else { return }
        if let out {
            do {
                let files = try export(store: store, run: run, dataRoot: dataRoot, root: out)
                if !quiet { for f in files { printErr("wrote \(f.path)") } }
            } catch {
                printErr("\(run.config.label): not exported: \(error)")
            }
        }
        guard score else { return }
        do {
            for line in try CLIRuns.score(store: store, run: run, dataRoot: dataRoot, allowIncomplete: false) { print(line) }
        } catch {
            printErr("\(run.config.label): not scored: \(error)")
        }
    }
}
