import Foundation
import Benchmarks
import Records
import Store
import Records

/// How to run: subset, sharding, restart, output.
public struct EvalOptions {
    /// Evaluate only the first `limit` items of the question file.
    public var limit: Int?
    /// Forget this database's answers for the run and start over.
    public var restart: Bool
    /// Evaluate only this shard's items (round-robin; see `ShardSpec`).
    public var shard: ShardSpec?
    /// Draw the live progress line (callers pass `ProgressReporter.shouldDrawLive(quiet:)`).
    public var liveProgress: Bool
    /// Seconds between plain progress lines when not live (`ProgressReporter.logInterval(quiet:)`); nil: none.
    public var progressLogInterval: Double?
    /// Stop the run (status `failed`) after this many items in a row failed; nil never stops.
    /// Guards against a broken setup (wrong image folder) spinning through a whole benchmark.
    public var maxConsecutiveFailures: Int?
    public var metadata: RunMetadata
    /// Where progress text goes.
    public var write: (String) -> Void

    public init(limit: Int? = nil, restart: Bool = false, shard: ShardSpec? = nil, liveProgress: Bool = false,
                progressLogInterval: Double? = nil, maxConsecutiveFailures: Int? = 50, metadata: RunMetadata,
                write: @escaping (String) -> Void = ProgressReporter.writeStderr) {
        self.limit = limit
        self.restart = restart
        self.shard = shard
        self.liveProgress = liveProgress
        self.progressLogInterval = progressLogInterval
        self.maxConsecutiveFailures = maxConsecutiveFailures
        self.metadata = metadata
        self.write = write
    }
}

/// The outcome of one `Evaluator.run`.
public struct EvalSummary: Sendable {
    public var run: RunInfo
    public var databasePath: String
    public var shard: ShardSpec?
    /// Items in this process's scope (shard, after limit).
    public var scope: Int
    /// Items found already answered and skipped.
    public var resumed: Int
    /// Items answered by this process.
    public var answered: Int
    /// Items that failed in this process (also stored as item errors).
    public var failures: [(questionID: QuestionID, message: String)]
    /// True if the run stopped early after too many consecutive failures.
    public var aborted: Bool
    /// The one-line summary.
    public var summaryLine: String
}

/// Runs one configuration over a benchmark through an engine, storing every answer as it comes.
public final class Evaluator {
    public let engine: AnswerEngine
    public let store: ResultsStore

    public init(engine: AnswerEngine, store: ResultsStore) {
        self.engine = engine
        self.store = store
    }

    /// Evaluates `settings` on `adapter`'s items. Items already answered in this database are
    /// skipped (resume); each new answer is committed on its own before the next item starts.
    /// An item whose image is missing or whose answer throws is recorded as an error and skipped.
    public func run(benchmark: Benchmark, settings: RunSettings, options: EvalOptions) throws -> EvalSummary {
        let spec = benchmark.spec
        let config = settings.config(modelID: engine.modelID, fingerprint: engine.fingerprint, spec: spec)
        var items: [BenchmarkItem]
        do { items = try benchmark.items() } catch {
            throw HarnessError("\(spec.name): cannot read the questions: \(error)")
        }
        let benchmarkItems = items.count
        if let limit = options.limit {
            guard limit >= 0 else { throw HarnessError("--limit must not be negative (got \(limit))") }
            items = Array(items.prefix(limit))
        }
        let runID = try store.beginRun(config, metadata: options.metadata, expectedItems: items.count,
                                       benchmarkItems: benchmarkItems)
        if options.restart { try store.resetRun(runID) }

        // Items are identified by (question id, occurrence) because MME repeats ids.
        let keyed = zip(items, ItemKey.keys(for: items.map(\.questionID))).map { (item: $0.0, key: $0.1) }
        let mine = options.shard.map { $0.select(keyed) } ?? keyed.enumerated().map { ($0.offset, $0.element) }
        let done = try store.doneItems(runID)
        let todo = mine.filter { !done.contains($0.item.key) }
        let progress = ProgressReporter(label: config.label + (options.shard.map { " [shard \($0)]" } ?? ""),
                                        total: mine.count, alreadyDone: mine.count - todo.count,
                                        live: options.liveProgress, logInterval: options.progressLogInterval,
                                        write: options.write)

        Interruption.shared.begin(store: store, run: runID, label: config.label)
        defer { Interruption.shared.end() }
        var failures: [(QuestionID, String)] = []
        var consecutive = 0
        var aborted = false
        // Another process evaluating this run in the same database takes the items it claims first.
        let owner = ResultsStore.makeClaimOwner()
        var leftToOthers = 0
        for (position, entry) in todo {
            let item = entry.item
            do {
                guard try store.claim(run: runID, item: entry.key, owner: owner) else { leftToOthers += 1; continue }
                let prediction = try answer(item, key: entry.key, position: position, config: config, runID: runID,
                                            benchmark: benchmark)
                try Interruption.shared.critical { try store.record(prediction) }
                consecutive = 0
                progress.advance()
            } catch let e as StoreError where e.kind == .duplicate {
                // Another process evaluating the same run in this database stored the item first;
                // greedy decoding makes its answer the same as ours would have been.
                consecutive = 0
                progress.advance()
            } catch let e as StoreError {
                // The database itself failing is not an item problem: stop, keeping what is stored.
                _ = progress.finish()
                _ = try? store.finishRun(runID, failed: true)
                throw HarnessError("\(config.label): results database error at question \(entry.key): \(e.message)")
            } catch {
                let message = "\(error)"
                failures.append((item.questionID, message))
                try store.recordError(run: runID, item: entry.key, itemIndex: position, message: message)
                consecutive += 1
                progress.advance(failed: true)
                if let maxFail = options.maxConsecutiveFailures, consecutive >= maxFail {
                    aborted = true
                    break
                }
            }
        }
        let line = progress.finish()
        let info = try store.finishRun(runID, failed: aborted, peakRSSBytes: PeakMemory.residentBytes())
        var summary = line
        if leftToOthers > 0 { summary += "; \(leftToOthers) items left to another process" }
        if aborted {
            summary += "; stopped after \(consecutive) consecutive failures (last: \(failures.last?.1 ?? "?"))"
        }
        return EvalSummary(run: info, databasePath: store.path, shard: options.shard, scope: mine.count,
                           resumed: mine.count - todo.count, answered: progress.answered,
                           failures: failures.map { (questionID: $0.0, message: $0.1) }, aborted: aborted,
                           summaryLine: summary)
    }

    private func answer(_ item: BenchmarkItem, key: ItemKey, position: Int, config: RunConfig, runID: RunID,
                        benchmark: Benchmark) throws -> PredictionRecord {
        let imageURL = try benchmark.imageURL(for: item)
        if let imageURL, !FileManager.default.isReadableFile(atPath: imageURL.path) {
            throw HarnessError("image \(imageURL.path) is missing or unreadable")
        }
        let start = ProgressReporter.monotonicSeconds()
        let out = try engine.answer(AnswerRequest(imageURL: imageURL, prompt: item.prompt, settings: config.settings))
        var timings = out.timings
        if timings.total == 0 { timings.total = (ProgressReporter.monotonicSeconds() - start) * 1000 }
        return PredictionRecord(runID: runID, questionID: item.questionID, itemIndex: position,
                                prompt: item.answerPrompt, rawOutput: out.text, parsedAnswer: benchmark.parseAnswer(out.text),
                                answerID: AnswerID.derive(runKey: config.key, questionID: item.questionID, occurrence: key.occurrence),
                                visualTokens: out.visualTokensFed, generatedTokens: out.generatedTokens,
                                kept: out.kept, timings: timings, occurrence: key.occurrence, cost: out.cost)
    }
}
