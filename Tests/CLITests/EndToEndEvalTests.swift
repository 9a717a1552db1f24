import XCTest
import Foundation
import Benchmarks
import Store
import TestSupport
import Records

/// The harness through the real binary and the real (tiny) engine: kill -9 midway and resume on every
/// benchmark, sharded runs merged, and report/score agreement.
final class EndToEndEvalTests: XCTestCase {
    var work: URL!

    override func setUpWithError() throws {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: work) }

    func model() throws -> String { try Fixtures.require("fixtures/llava15-tiny").path }
    func data() throws -> String { try Fixtures.require("datasets-samples").path }

    func evalArgs(_ dataset: String, db: URL, extra: [String] = []) throws -> [String] {
        ["eval", "--model", try model(), "--dataset", dataset, "--tokens", "64", "--ratio", "0.5", "--data-root", try data(),
         "--db", db.path, "--max-new-tokens", "6", "--out", work.appendingPathComponent("out").path, "--quiet"] + extra
    }

    func predictions(_ db: URL) throws -> [PredictionRecord] {
        let store = try ResultsStore(path: db.path, readonly: true)
        return try store.runs().flatMap { try store.predictions($0.id) }
    }

    /// Every stage is timed and stored apart; opening the checkpoint is counted once, on the first item answered.
    func testStageTimingsAreStoredPerStageAndLoadIsCountedOnce() throws {
        let db = work.appendingPathComponent("gqa.sqlite")
        XCTAssertEqual(try CLIRunner.run(try evalArgs("gqa", db: db, extra: ["--limit", "3", "--no-score"])).status, 0)
        let preds = try predictions(db).sorted { $0.itemIndex < $1.itemIndex }
        XCTAssertEqual(preds.count, 3)
        XCTAssertGreaterThan(preds[0].timings.load, 0)
        XCTAssertEqual(preds.dropFirst().map(\.timings.load), [0, 0])
        for p in preds {
            for stage in ["preprocess", "vision", "projector", "prefill", "decode"] {
                XCTAssertGreaterThan(p.timings[stage] ?? 0, 0, "\(stage) of item \(p.itemIndex)")
            }
            XCTAssertEqual(p.timings.total, p.timings.stagesSum, accuracy: 1e-9)
        }
    }

    /// For each benchmark: SIGKILL a running eval at random moments (up to three times), resume, and end with exactly one
    /// answer per item, equal to an uninterrupted run's, and stored scores equal to scoring the answers file.
    func testKillMidwayAndResumeOnEveryBenchmark() throws {
        var rng = SystemRandomNumberGenerator()
        for dataset in ["vqav2", "gqa", "mme", "textvqa", "pope", "scienceqa"] {
            let db = work.appendingPathComponent("\(dataset).sqlite")
            let items = try DatasetRegistry.load().benchmark(named: dataset, dataRoot: URL(fileURLWithPath: try data())).items()
            // Kill it several times, each once a further random number of answers is stored (the
            // first after 2 to a quarter of the items), resuming in between.
            var partial = 0
            for round in 0..<3 {
                let target = partial + Int.random(in: 2...max(2, items.count / 4), using: &rng)
                guard target < items.count else { break }
                let p = try CLIRunner.start(try evalArgs(dataset, db: db))
                let deadline = Date().addingTimeInterval(120)
                while p.isRunning && Date() < deadline && ((try? predictions(db).count) ?? 0) < target { usleep(5_000) }
                kill(p.processIdentifier, SIGKILL)
                p.waitUntilExit()
                let stored = (try? predictions(db).count) ?? 0
                XCTAssertGreaterThanOrEqual(stored, partial, "\(dataset) round \(round): nothing stored is lost")
                XCTAssertLessThan(stored, items.count, "\(dataset): the process must be killed before it finishes")
                partial = stored
            }
            let resumed = try CLIRunner.run(try evalArgs(dataset, db: db))
            XCTAssertEqual(resumed.status, 0, "\(dataset): \(resumed.stderr)")

            let store = try ResultsStore(path: db.path, readonly: true)
            XCTAssertEqual(try store.integrityCheck(), ["ok"], dataset)
            let runs = try store.runs()
            XCTAssertEqual(runs.count, 1, dataset)
            let run = try XCTUnwrap(runs.first)
            let got = try store.predictions(run.id)
            XCTAssertEqual(got.count, items.count, "\(dataset): one answer per item (killed after \(partial))")
            XCTAssertEqual(Set(got.map(\.key)).count, items.count, "\(dataset): no duplicates")
            XCTAssertEqual(got.map(\.key), ItemKey.keys(for: items.map(\.questionID)), "\(dataset): question-file order")

            // Same answers as an uninterrupted run.
            let clean = work.appendingPathComponent("\(dataset)-clean.sqlite")
            XCTAssertEqual(try CLIRunner.run(try evalArgs(dataset, db: clean, extra: ["--no-score"])).status, 0)
            XCTAssertEqual(try predictions(clean).map(\.rawOutput), got.map(\.rawOutput), dataset)

            // Stored scores equal scoring the exported answers file with `vispruner score`.
            guard dataset != "vqav2" else { continue } // test-dev: scored by the EvalAI server, not locally
            let answers = work.appendingPathComponent("\(dataset).jsonl")
            try AnswersFile.write(got.map { AnswerRecord(questionID: $0.questionID, prompt: $0.prompt, text: $0.rawOutput,
                                                         answerID: $0.answerID, modelID: run.config.modelID) }, to: answers)
            let scored = try CLIRunner.run(["score", dataset, "--answers", answers.path, "--data-root", try data(), "--json"])
            XCTAssertEqual(scored.status, 0, scored.stderr)
            let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(scored.stdout.utf8)) as? [String: Any])
            let metrics = try XCTUnwrap(obj["metrics"] as? [String: Double])
            for m in try store.scores(run.id) where m.name != "headline" {
                let v = try XCTUnwrap(metrics[m.name], "\(dataset) \(m.name)")
                // JSON printing on Linux may lose the last bit of a double.
                XCTAssertTrue(abs(v - m.value) <= 1e-12 * max(1, abs(v)) || (v.isNaN && m.value.isNaN),
                              "\(dataset) \(m.name): \(v) vs \(m.value)")
            }
        }
    }

    /// Three shards written by three concurrent processes, merged, equal the unsharded run item for item, and the
    /// report shows the scorer's number.
    func testThreeShardsMergedEqualUnshardedAndReportMatchesScore() throws {
        let whole = work.appendingPathComponent("whole.sqlite")
        XCTAssertEqual(try CLIRunner.run(try evalArgs("pope", db: whole)).status, 0)
        let base = work.appendingPathComponent("sharded.sqlite")
        // The three shard processes run at the same time, as a Slurm job array would run them.
        let shardProcesses = try (0..<3).map { i -> (Process, URL) in
            let err = work.appendingPathComponent("shard-\(i).stderr")
            return (try CLIRunner.start(try evalArgs("pope", db: base, extra: ["--shard", "\(i)/3", "--ignore-slurm"]),
                                        stderrFile: err), err)
        }
        for (p, err) in shardProcesses {
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, (try? String(contentsOf: err, encoding: .utf8)) ?? "")
        }
        let merged = work.appendingPathComponent("merged.sqlite")
        let shards = (0..<3).map { work.appendingPathComponent("sharded.shard-\($0)-of-3.sqlite").path }
        let m = try CLIRunner.run(["merge", merged.path] + shards + ["--data-root", try data()])
        XCTAssertEqual(m.status, 0, m.stderr + m.stdout)
        let a = try predictions(whole), b = try predictions(merged)
        XCTAssertEqual(a.count, 42)
        XCTAssertEqual(a.map(\.key), b.map(\.key))
        for (x, y) in zip(a, b) { XCTAssertEqual(x.differingFields(from: y), [], "\(x.questionID)") }

        let report = try CLIRunner.run(["report", "--db", whole.path, "--csv"])
        XCTAssertEqual(report.status, 0, report.stderr)
        let store = try ResultsStore(path: whole.path, readonly: true)
        let run = try XCTUnwrap(try store.runs().first)
        let f1 = try XCTUnwrap(try store.scores(run.id).first { $0.name == "f1.average" }?.value)
        let row = try XCTUnwrap(report.stdout.split(separator: "\n").first { $0.hasPrefix("llava15-tiny,vispruner,64") })
        // POPE's F1 is a fraction in eval_pope.py; the table prints it in percent, as papers do.
        XCTAssertEqual(row.split(separator: ",")[4], Substring(String(f1 * 100)), "report shows the scorer's value, in percent")

        // The engine records each answer's analytic cost (the same in every shard) and each process its peak memory.
        XCTAssertTrue(a.allSatisfy { $0.cost.isRecorded && $0.cost.visionFLOPs > 0 && $0.cost.kvCacheBytes > 0 })
        XCTAssertEqual(a.map(\.cost), b.map(\.cost))
        XCTAssertNotNil(run.peakRSSBytes)
        XCTAssertNotNil(try ResultsStore(path: merged.path, readonly: true).runs().first?.peakRSSBytes)
        let latency = try CLIRunner.run(["report", "--db", merged.path, "--latency"])
        XCTAssertEqual(latency.status, 0, latency.stderr)
        let line = try XCTUnwrap(latency.stdout.split(separator: "\n").last { $0.hasPrefix("| llava15-tiny | vispruner | 64") })
        XCTAssertFalse(line.hasSuffix("| – |"), "peak RSS is shown: \(line)")
        XCTAssertEqual(line.split(separator: "|").suffix(4).filter { $0.trimmingCharacters(in: .whitespaces) == "–" }, [], String(line))

        let figures = try CLIRunner.run(["report", "--db", whole.path, "--plot", work.appendingPathComponent("fig/accuracy.png").path,
                                         "--latency-plot", work.appendingPathComponent("fig/latency.svg").path])
        XCTAssertEqual(figures.status, 0, figures.stderr)
        for name in ["accuracy", "latency"] {
            for ext in ["png", "svg", "pdf"] {
                let file = work.appendingPathComponent("fig/\(name).\(ext)")
                XCTAssertTrue(figures.stderr.contains("wrote \(file.path)"), figures.stderr)
                XCTAssertGreaterThan((try? Data(contentsOf: file))?.count ?? 0, 1000, file.path)
            }
        }
        let refused = try CLIRunner.run(["report", "--db", whole.path, "--plot", work.appendingPathComponent("fig/accuracy.jpg").path])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains(".png, .svg or .pdf"), refused.stderr)
    }
}

extension EndToEndEvalTests {
    /// `score --db --run` scores a stored run exactly as its exported answers file.
    func testScoreFromTheResultsDatabase() throws {
        let db = work.appendingPathComponent("mme.sqlite")
        XCTAssertEqual(try CLIRunner.run(try evalArgs("mme", db: db, extra: ["--no-score"])).status, 0)
        let store = try ResultsStore(path: db.path, readonly: true)
        let run = try XCTUnwrap(try store.runs().first)
        let answers = work.appendingPathComponent("mme.jsonl")
        try AnswersFile.write(try store.predictions(run.id).map {
            AnswerRecord(questionID: $0.questionID, prompt: $0.prompt, text: $0.rawOutput, answerID: $0.answerID, modelID: "m")
        }, to: answers)
        let fromDB = try CLIRunner.run(["score", "mme", "--db", db.path, "--run", String(run.key.prefix(12)), "--data-root", try data(), "--json"])
        let fromFile = try CLIRunner.run(["score", "mme", "--answers", answers.path, "--data-root", try data(), "--json"])
        XCTAssertEqual(fromDB.status, 0, fromDB.stderr)
        func metrics(_ r: CLIRunner.Result) throws -> [String: Double] {
            let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            return try XCTUnwrap(obj["metrics"] as? [String: Double])
        }
        XCTAssertEqual(try metrics(fromDB), try metrics(fromFile))
        let missing = try CLIRunner.run(["score", "mme", "--db", db.path, "--run", "ffffffff", "--data-root", try data()])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("no run 'ffffffff'"), missing.stderr)
    }
}

extension EndToEndEvalTests {
    /// Two shard processes writing their databases at the same time, then merged: same answers as one process.
    func testConcurrentShardProcessesThenMerge() throws {
        let base = work.appendingPathComponent("conc.sqlite")
        let procs = try (0..<2).map { try CLIRunner.start(try evalArgs("gqa", db: base, extra: ["--shard", "\($0)/2", "--ignore-slurm"])) }
        for p in procs { p.waitUntilExit(); XCTAssertEqual(p.terminationStatus, 0) }
        let merged = work.appendingPathComponent("conc-merged.sqlite")
        let shards = (0..<2).map { work.appendingPathComponent("conc.shard-\($0)-of-2.sqlite").path }
        let m = try CLIRunner.run(["merge", merged.path] + shards + ["--data-root", try data()])
        XCTAssertEqual(m.status, 0, m.stderr + m.stdout)
        let whole = work.appendingPathComponent("conc-whole.sqlite")
        XCTAssertEqual(try CLIRunner.run(try evalArgs("gqa", db: whole, extra: ["--no-score"])).status, 0)
        let a = try predictions(whole), b = try predictions(merged)
        XCTAssertEqual(a.count, 40)
        XCTAssertEqual(a.map(\.key), b.map(\.key))
        XCTAssertEqual(a.map(\.rawOutput), b.map(\.rawOutput))
    }

    /// A database that cannot be created gives a clear error and a non-zero exit, not a crash.
    func testUnwritableDatabaseIsAClearError() throws {
        let blocker = work.appendingPathComponent("not-a-dir")
        try Data("x".utf8).write(to: blocker)
        let r = try CLIRunner.run(try evalArgs("pope", db: blocker.appendingPathComponent("r.sqlite")))
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("not-a-dir"), r.stderr)
        XCTAssertFalse(r.stderr.contains("Fatal error"), r.stderr)
    }
}

extension EndToEndEvalTests {
    /// LLaVA-1.6 runs with `--anyres stock` are separate runs from the default fixed-grid ones.
    func testStockAnyresRunsAreKeptApartFromFixedRuns() throws {
        let model = try Fixtures.require("fixtures/llava16-tiny").path
        let db = work.appendingPathComponent("anyres.sqlite")
        func args(_ extra: [String]) throws -> [String] {
            ["eval", "--model", model, "--dataset", "pope", "--tokens", "32", "--ratio", "0.5", "--data-root", try data(),
             "--db", db.path, "--max-new-tokens", "2", "--limit", "2", "--no-score", "--quiet"] + extra
        }
        XCTAssertEqual(try CLIRunner.run(try args([])).status, 0)
        let stock = try CLIRunner.run(try args(["--anyres", "stock"]))
        XCTAssertEqual(stock.status, 0, stock.stderr)
        let store = try ResultsStore(path: db.path, readonly: true)
        let runs = try store.runs()
        XCTAssertEqual(runs.count, 2)
        XCTAssertEqual(Set(runs.map(\.key)).count, 2)
        let fed = try runs.map { try store.predictions($0.id).map(\.visualTokens) }
        XCTAssertEqual(fed.filter { $0.allSatisfy { $0 == 160 } }.count, 1, "fixed grid: 32 × 5 views")
        let bad = try CLIRunner.run(try args(["--anyres", "sideways"]))
        XCTAssertNotEqual(bad.status, 0)
    }
}
