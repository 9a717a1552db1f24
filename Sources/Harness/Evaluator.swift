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

    /// Evaluates `settings` on `benchmark`'s items (`runGrid` with one setting).
    public func run(benchmark: Benchmark, settings: RunSettings, options: EvalOptions) throws -> EvalSummary {
        try runGrid(benchmark: benchmark, settings: [settings], options: options)[0]
    }

    /// Evaluates every setting of a grid on `benchmark`'s items, image by image: all the questions about
    /// an image under all the settings are answered together (`AnswerEngine.answer(group:)`), so the
    /// engine computes the image's features and prefixes once. Each answer still goes to its setting's
    /// run and is committed on its own; items already answered in this database are skipped (resume);
    /// an item whose image is missing or whose answer throws is recorded as an error and skipped.
    public func runGrid(benchmark: Benchmark, settings grid: [RunSettings], options: EvalOptions) throws -> [EvalSummary] {
        let spec = benchmark.spec
        guard !grid.isEmpty else { return [] }
        var items: [BenchmarkItem]
        do { items = try benchmark.items() } catch {
            throw HarnessError("\(spec.name): cannot read the questions: \(error)")
        }
        let benchmarkItems = items.count
        if let limit = options.limit {
            guard limit >= 0 else { throw HarnessError("--limit must not be negative (got \(limit))") }
            items = Array(items.prefix(limit))
        }
        let configs = grid.map { $0.config(modelID: engine.modelID, fingerprint: engine.fingerprint, spec: spec) }
        var runIDs: [RunID] = []
        for config in configs {
            let id = try store.beginRun(config, metadata: options.metadata, expectedItems: items.count, benchmarkItems: benchmarkItems)
            if options.restart { try store.resetRun(id) }
            runIDs.append(id)
        }

        // Items are identified by (question id, occurrence) because MME repeats ids.
        let keyed = zip(items, ItemKey.keys(for: items.map(\.questionID))).map { (item: $0.0, key: $0.1) }
        let imageOf = keyed.map { (try? benchmark.imageURL(for: $0.item))??.standardizedFileURL.path }
        let indexed = Array(keyed.enumerated())
        let mine = (options.shard ?? (try! ShardSpec(index: 0, count: 1)))
            .selectByImage(indexed, image: { imageOf[$0.offset] }).map { (position: $0.position, entry: $0.item.element) }
        let done = try runIDs.map { try store.doneItems($0) }
        let shardText = options.shard.map { " [shard \($0)]" } ?? ""
        let trackers = configs.indices.map { r in
            ProgressReporter(label: configs[r].label + shardText, total: mine.count,
                             alreadyDone: mine.filter { done[r].contains($0.entry.key) }.count,
                             live: false, write: { _ in })
        }
        let progress = ProgressReporter(
            label: (grid.count == 1 ? configs[0].label : "\(spec.name): \(grid.count) settings") + shardText,
            total: mine.count * grid.count, alreadyDone: trackers.reduce(0) { $0 + $1.alreadyDone },
            live: options.liveProgress, logInterval: options.progressLogInterval, write: options.write)

        // Whole images, in order of first appearance; an item without an image is a group of its own.
        var groups: [[(position: Int, entry: (item: BenchmarkItem, key: ItemKey))]] = []
        var groupOfImage: [String: Int] = [:]
        for m in mine {
            if let image = imageOf[m.position] {
                if let g = groupOfImage[image] { groups[g].append(m); continue }
                groupOfImage[image] = groups.count
            }
            groups.append([m])
        }

        Interruption.shared.begin(store: store, runs: zip(runIDs, configs.map(\.label)).map { ($0, $1) })
        defer { Interruption.shared.end() }
        var failures = [[(QuestionID, String)]](repeating: [], count: grid.count)
        var consecutive = 0
        var aborted = false
        // Another process evaluating these runs in the same database takes the items it claims first.
        let owner = ResultsStore.makeClaimOwner()
        var leftToOthers = [Int](repeating: 0, count: grid.count)
        groupLoop: for group in groups {
            // Each setting's share of the group that is neither answered nor claimed by another process.
            var todo: [[Int]] = []
            for r in grid.indices {
                var mineNow: [Int] = []
                for (g, m) in group.enumerated() where !done[r].contains(m.entry.key) {
                    do {
                        if try store.claim(run: runIDs[r], item: m.entry.key, owner: owner) { mineNow.append(g) } else { leftToOthers[r] += 1 }
                    } catch let e as StoreError {
                        throw storeFailure(e, runIDs, configs[r], m.entry.key, progress, trackers)
                    }
                }
                todo.append(mineNow)
            }
            // Settings that need the same questions of this image are answered in one call.
            var calls: [[Int]: [Int]] = [:]
            var callOrder: [[Int]] = []
            for r in grid.indices where !todo[r].isEmpty {
                if calls[todo[r]] == nil { callOrder.append(todo[r]) }
                calls[todo[r], default: []].append(r)
            }
            for questions in callOrder {
                let runs = calls[questions]!
                let answers = answerGroup(benchmark, group: questions.map { group[$0].entry.item },
                                          settings: runs.map { configs[$0].settings })
                for (i, r) in runs.enumerated() {
                    for (j, g) in questions.enumerated() {
                        let m = group[g]
                        do {
                            let prediction = try record(answers[i][j], item: m.entry.item, key: m.entry.key, position: m.position,
                                                        config: configs[r], runID: runIDs[r], benchmark: benchmark)
                            try Interruption.shared.critical { try store.record(prediction) }
                            consecutive = 0
                            progress.advance(); trackers[r].advance()
                        } catch let e as StoreError where e.kind == .duplicate {
                            // Another process evaluating the same run in this database stored the item first;
                            // greedy decoding makes its answer the same as ours would have been.
                            consecutive = 0
                            progress.advance(); trackers[r].advance()
                        } catch let e as StoreError {
                            throw storeFailure(e, runIDs, configs[r], m.entry.key, progress, trackers)
                        } catch {
                            let message = "\(error)"
                            failures[r].append((m.entry.item.questionID, message))
                            try store.recordError(run: runIDs[r], item: m.entry.key, itemIndex: m.position, message: message)
                            consecutive += 1
                            progress.advance(failed: true); trackers[r].advance(failed: true)
                            if let maxFail = options.maxConsecutiveFailures, consecutive >= maxFail {
                                aborted = true
                                break groupLoop
                            }
                        }
                    }
                }
            }
        }
        let line = progress.finish()
        if grid.count > 1 { options.write(line + "\n") }
        let lastFailure = failures.flatMap { $0 }.last?.1 ?? "?"
        let peak = PeakMemory.residentBytes()
        return try grid.indices.map { r in
            let info = try store.finishRun(runIDs[r], failed: aborted, peakRSSBytes: peak)
            var summary = grid.count == 1 ? line : trackers[r].finish()
            if leftToOthers[r] > 0 { summary += "; \(leftToOthers[r]) items left to another process" }
            if aborted { summary += "; stopped after \(consecutive) consecutive failures (last: \(lastFailure))" }
            return EvalSummary(run: info, databasePath: store.path, shard: options.shard, scope: mine.count,
                               resumed: trackers[r].alreadyDone, answered: trackers[r].answered,
                               failures: failures[r].map { (questionID: $0.0, message: $0.1) }, aborted: aborted,
                               summaryLine: summary)
        }
    }

    /// The database itself failing is not an item problem: stop, keeping what is stored.
    private func storeFailure(_ e: StoreError, _ runs: [RunID], _ config: RunConfig, _ key: ItemKey,
                              _ progress: ProgressReporter, _ trackers: [ProgressReporter]) -> HarnessError {
        _ = progress.finish()
        for run in runs { _ = try? store.finishRun(run, failed: true) }
        return HarnessError("\(config.label): results database error at question \(key): \(e.message)")
    }

    /// The engine's answers for one image's items under several settings ([setting][item]); an image
    /// that is missing fails every item without calling the engine.
    private func answerGroup(_ benchmark: Benchmark, group: [BenchmarkItem], settings: [RunSettings])
        -> [[Result<(EngineAnswer, Double), Error>]] {
        let imageURL: URL?
        do {
            imageURL = try benchmark.imageURL(for: group[0])
            if let imageURL, !FileManager.default.isReadableFile(atPath: imageURL.path) {
                throw HarnessError("image \(imageURL.path) is missing or unreadable")
            }
        } catch {
            return settings.map { _ in group.map { _ in .failure(error) } }
        }
        let start = ProgressReporter.monotonicSeconds()
        let answers = engine.answer(group: AnswerGroup(imageURL: imageURL, prompts: group.map(\.prompt), settings: settings))
        // The harness's own clock, shared evenly, for engines that report no total.
        let perItem = (ProgressReporter.monotonicSeconds() - start) * 1000 / Double(max(1, group.count * settings.count))
        return answers.map { row in row.map { $0.map { ($0, perItem) } } }
    }

    private func record(_ answer: Result<(EngineAnswer, Double), Error>, item: BenchmarkItem, key: ItemKey, position: Int,
                        config: RunConfig, runID: RunID, benchmark: Benchmark) throws -> PredictionRecord {
        let (out, clockMilliseconds) = try answer.get()
        var timings = out.timings
        if timings.total == 0 { timings.total = clockMilliseconds }
        return PredictionRecord(runID: runID, questionID: item.questionID, itemIndex: position,
                                prompt: item.answerPrompt, rawOutput: out.text, parsedAnswer: benchmark.parseAnswer(out.text),
                                answerID: AnswerID.derive(runKey: config.key, questionID: item.questionID, occurrence: key.occurrence),
                                visualTokens: out.visualTokensFed, generatedTokens: out.generatedTokens,
                                kept: out.kept, timings: timings, occurrence: key.occurrence, cost: out.cost,
                                imagePath: out.imagePath, selectionMargin: out.selectionMargin)
    }
}
