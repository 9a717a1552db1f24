import Benchmarks
import Foundation
import Records
import Store

/// What happens to a stored run after its answers: scoring, and the answers and submission files.
/// Commands call these; none of them prints (they return lines or files for the caller to show).
public struct RunOutputs {
    public let registry: DatasetRegistry
    public let dataRoot: URL

    public init(registry: DatasetRegistry, dataRoot: URL) {
        self.registry = registry
        self.dataRoot = dataRoot
    }

    public func benchmark(for run: RunInfo) throws -> Benchmark {
        try registry.benchmark(named: run.config.dataset, dataRoot: dataRoot)
    }

    /// Scores for a complete run that has none stored (merged shards, or a run stopped between its last
    /// answer and its scoring): computed now, and stored when the database can be written.
    public func scoreLookup(store: ResultsStore, run: RunInfo) -> RunScoreLookup {
        let benchmark: Benchmark
        do { benchmark = try self.benchmark(for: run) } catch { return .unavailable("\(error)") }
        guard benchmark.isScoredLocally else {
            return .notScoredLocally(Self.serverScored(benchmark))
        }
        do {
            let (report, metrics) = try RunScoring.compute(store: store, run: run, scorer: try benchmark.scorer())
            // Kept for the next report when the file can be written; a read-only copy is scored each time.
            if let writable = try? ResultsStore(path: store.path) { try? writable.setScores(run.id, metrics, units: report.units) }
            return .metrics(metrics)
        } catch {
            return .unavailable("\(error)")
        }
    }

    /// What to do with a run of a split that only the benchmark's server scores (VQAv2 test-dev): no data
    /// root can score it here; its submission file is written with the run's files or by `vispruner export`.
    static func serverScored(_ benchmark: Benchmark, run: RunID? = nil) -> String {
        let spec = benchmark.spec
        return "\(spec.title), split \(spec.split), is scored by the benchmark's server, not here: upload its submission file "
            + "(written beside the run's answers, or by `vispruner export \(spec.name) --db FILE --run \(run.map { "\($0)" } ?? "N") "
            + "--data-root DIR --out DIR`)"
    }

    /// Scores a stored run when its benchmark has local labels; returns the lines to print (the headline
    /// and the top-level metrics; `vispruner score` prints the full breakdown), its data notes indented below.
    public func score(store: ResultsStore, run: RunInfo, allowIncomplete: Bool) throws -> [String] {
        let scored = try scoreAndNotes(store: store, run: run, allowIncomplete: allowIncomplete)
        return scored.lines + scored.notes.map { "  note: \($0)" }
    }

    /// The score lines and, apart, the scorer's notes about the data (a missing choices file, unanswerable
    /// problems): those are the same for every setting of a benchmark, so a sweep shows each once.
    public func scoreAndNotes(store: ResultsStore, run: RunInfo, allowIncomplete: Bool) throws -> (lines: [String], notes: [String]) {
        let benchmark = try benchmark(for: run)
        guard benchmark.isScoredLocally else {
            return (["\(run.config.label): no local score: " + Self.serverScored(benchmark, run: run.id)], [])
        }
        let report = try RunScoring.score(store: store, run: run, scorer: try benchmark.scorer(), allowIncomplete: allowIncomplete)
        let shown = report.metrics.filter { $0.name == report.headline || !$0.name.contains(".") }
        // Never an empty line: a report without its headline (a split without answers) says so.
        let line = shown.isEmpty ? "no \(report.headline) (see the notes)"
            : shown.map { "\($0.name)=\($0.formatted(asCount: report.counts.contains($0.name)))" }.joined(separator: " ")
        return (["\(run.config.label): " + line], report.notes + (report.notes.isEmpty && shown.isEmpty ? ["\(report.headline) is undefined for these answers"] : []))
    }

    /// The folder a run's files go to: `<root>/<dataset>/<model>/<run folder name>`, so no two models or
    /// settings share one; a subset run (`--limit`) says so in its name.
    public static func exportFolder(root: URL, run: RunInfo) -> URL {
        var name = run.config.folderName
        if run.isSubset { name += "-subset\(run.expectedItems ?? 0)of\(run.benchmarkItems ?? 0)" }
        return root.appendingPathComponent(RunConfig.safeName(run.config.dataset))
            .appendingPathComponent(RunConfig.safeName(run.config.modelID)).appendingPathComponent(name)
    }

    /// Writes a run's LLaVA answers file and its benchmark's submission file(s) into `exportFolder`;
    /// returns the files written.
    public func export(store: ResultsStore, run: RunInfo, root: URL) throws -> [URL] {
        let benchmark = try benchmark(for: run)
        let dir = Self.exportFolder(root: root, run: run)
        try OutputFolder.prepare(dir)
        let answers = try RunScoring.answerRecords(store: store, run: run)
        let name = run.config.modelID
        var written = try benchmark.exporter(format: AnswersJSONLExporter.format).export(answers, to: dir, name: name)
        // POPE's submission is the answers file itself: written once.
        if benchmark.spec.submissionFormat != AnswersJSONLExporter.format && !type(of: benchmark).submissionIsAnswersFile {
            written += try benchmark.exporter().export(answers, to: dir, name: name)
        }
        return written
    }

    /// What `finish` did: files written, score lines, the scorer's data notes, and problems (export or
    /// scoring failures).
    public struct Finished: Sendable {
        public var written: [URL] = []
        public var scores: [String] = []
        public var notes: [String] = []
        public var problems: [String] = []
    }

    /// After a run completes: its files under `out` and its score. Problems are reported, not thrown, so
    /// one unscorable run does not stop a sweep.
    public func finish(store: ResultsStore, run: RunInfo, out: URL?, score: Bool, allowIncomplete: Bool = false) -> Finished {
        var result = Finished()
        guard run.isComplete || allowIncomplete else { return result }
        if let out {
            do { result.written = try export(store: store, run: run, root: out) } catch {
                result.problems.append("\(run.config.label): not exported: \(error)")
            }
        }
        if score {
            do {
                (result.scores, result.notes) = try scoreAndNotes(store: store, run: run, allowIncomplete: allowIncomplete)
            } catch {
                result.problems.append("\(run.config.label): not scored: \(error)")
            }
        }
        return result
    }
}
