import XCTest
import Foundation
import Benchmarks
import Records
import Store
import TestSupport

/// The workflows around scoring, run as a user runs them: merge then report, output folders, subsets,
/// bad data refused before any answer, interrupts.
final class TrustworthyResultsTests: XCTestCase {
    var work: URL!

    override func setUpWithError() throws {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("trust-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: work) }

    func model() throws -> String { try Fixtures.require("fixtures/llava15-tiny").path }
    func data() throws -> String { try Fixtures.require("datasets-samples").path }

    func evalArgs(_ dataset: String, db: URL, model: String? = nil, extra: [String] = []) throws -> [String] {
        ["eval", "--model", try model ?? self.model(), "--dataset", dataset, "--tokens", "64", "--ratio", "0.5",
         "--data-root", try data(), "--db", db.path, "--max-new-tokens", "4", "--out", work.appendingPathComponent("out").path,
         "--quiet"] + extra
    }

    /// The documented workflow: shards (which never score), merge without a data root, report with one: the
    /// table is full, in paper units, and the scores were stored so a later report without the data root shows them.
    func testMergeThenReportPrintsTheFullTable() throws {
        let base = work.appendingPathComponent("sweep.sqlite")
        for dataset in ["pope", "mme"] {
            for i in 0..<2 {
                let r = try CLIRunner.run(try evalArgs(dataset, db: base, extra: ["--shard", "\(i)/2", "--ignore-slurm"]))
                XCTAssertEqual(r.status, 0, r.stderr)
            }
        }
        let merged = work.appendingPathComponent("merged.sqlite")
        let shards = (0..<2).map { work.appendingPathComponent("sweep.shard-\($0)-of-2.sqlite").path }
        let m = try CLIRunner.run(["merge", merged.path] + shards)
        XCTAssertEqual(m.status, 0, m.stderr)
        XCTAssertTrue(m.stderr.contains("merged runs not scored: no data root"), m.stderr)

        let unscored = try CLIRunner.run(["report", "--db", merged.path])
        XCTAssertEqual(unscored.status, 0, unscored.stderr)
        XCTAssertTrue(unscored.stderr.contains("complete but not scored"), unscored.stderr)
        XCTAssertFalse(unscored.stderr.contains("not scored locally"), "POPE and MME have local labels: \(unscored.stderr)")

        let report = try CLIRunner.run(["report", "--db", merged.path, "--data-root", try data()])
        XCTAssertEqual(report.status, 0, report.stderr)
        // every run answered all items: each column's header carries the one item count
        XCTAssertTrue(report.stdout.contains("| POPE F1 (n=42) | POPE Acc (n=42) |"), report.stdout)
        XCTAssertTrue(report.stdout.contains("| MME-P (n=56) | MME-C (n=56) | MME (n=56) |"), report.stdout)
        let row = try XCTUnwrap(report.stdout.split(separator: "\n").first { $0.hasPrefix("| llava15-tiny | vispruner | 64") })
        // Model, method, tokens, ratio, then the five benchmark columns (the average needs an unpruned run).
        let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        XCTAssertEqual(cells.count, 10, row.description)
        XCTAssertFalse(cells[4..<9].contains("–"), "every benchmark has a value: \(row)")
        XCTAssertFalse(report.stderr.contains("not scored"), report.stderr)

        // The F1 shown is the stored fraction in percent, with one decimal.
        let store = try ResultsStore(path: merged.path, readonly: true)
        let pope = try XCTUnwrap(try store.runs().first { $0.config.dataset == "pope" })
        let f1 = try XCTUnwrap(try store.scores(pope.id).first { $0.name == "f1.average" }?.value)
        XCTAssertTrue(row.contains(String(format: " %.1f ", f1 * 100)), "\(row) vs \(f1)")
        let again = try CLIRunner.run(["report", "--db", merged.path])
        XCTAssertTrue(again.stdout.contains(String(row)), "scores stored by the first report: \(again.stdout)")
    }

    /// merge scores by default when it has the data root, and writes the files of merged runs with --out.
    func testMergeScoresAndExportsWithTheDataRoot() throws {
        let base = work.appendingPathComponent("s.sqlite")
        for i in 0..<2 {
            XCTAssertEqual(try CLIRunner.run(try evalArgs("gqa", db: base, extra: ["--shard", "\(i)/2", "--ignore-slurm"])).status, 0)
        }
        let merged = work.appendingPathComponent("m.sqlite"), out = work.appendingPathComponent("merged-out")
        let m = try CLIRunner.run(["merge", merged.path, work.appendingPathComponent("s.shard-0-of-2.sqlite").path,
                                   work.appendingPathComponent("s.shard-1-of-2.sqlite").path, "--data-root", try data(), "--out", out.path])
        XCTAssertEqual(m.status, 0, m.stderr)
        XCTAssertTrue(m.stdout.contains("gqa vispruner t64 r0.5: accuracy="), m.stdout)
        XCTAssertTrue(m.stderr.contains("testdev_balanced_predictions.json"), m.stderr)
    }

    /// A data note of the benchmark (GQA's missing choices file) holds for every setting of a sweep: it is said
    /// once, under the first run's score, not once per run.
    func testSweepSaysEachDataNoteOnce() throws {
        let db = work.appendingPathComponent("notes.sqlite")
        let r = try CLIRunner.run(["sweep", "--model", try model(), "--dataset", "gqa", "--method", "vispruner",
                                   "--tokens", "16", "--tokens", "8", "--data-root", try data(), "--db", db.path,
                                   "--max-new-tokens", "3", "--out", work.appendingPathComponent("out").path, "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n")
        XCTAssertEqual(lines.filter { $0.contains(": accuracy=") }.count, 3, "unpruned + 2 budgets: \(r.stdout)")
        let notes = lines.filter { $0.contains("note: validity/plausibility are 0") }
        XCTAssertEqual(notes.count, 1, r.stdout)
        let scoreLines = lines.indices.filter { lines[$0].contains(": accuracy=") }
        let noteLine = try XCTUnwrap(lines.firstIndex { $0.contains("note: validity/plausibility") })
        XCTAssertEqual(noteLine, scoreLines[0] + 1, "the note sits under the first score: \(r.stdout)")
        // `eval` of one run still prints its notes with its score.
        let eval = try CLIRunner.run(try evalArgs("gqa", db: work.appendingPathComponent("one.sqlite")))
        XCTAssertTrue(eval.stdout.contains("  note: validity/plausibility are 0"), eval.stdout)
    }

    /// A run whose process died after its last answer but before scoring is scored by the next report.
    func testARunStoppedBeforeItsScoringIsScoredByReport() throws {
        let db = work.appendingPathComponent("g.sqlite")
        XCTAssertEqual(try CLIRunner.run(try evalArgs("gqa", db: db, extra: ["--no-score"])).status, 0)
        XCTAssertTrue(try ResultsStore(path: db.path, readonly: true).scores(RunID(1)).isEmpty)
        let report = try CLIRunner.run(["report", "--db", db.path, "--data-root", try data()])
        XCTAssertTrue(report.stdout.contains("| llava15-tiny | vispruner | 64 | 0.5 |"), report.stdout + report.stderr)
        XCTAssertFalse(try ResultsStore(path: db.path, readonly: true).scores(RunID(1)).isEmpty, "report stored the scores")
    }

    /// A --limit run is a subset everywhere: report marker, export folder, and scored on what it answered.
    func testLimitRunsAreMarkedAsSubsets() throws {
        let db = work.appendingPathComponent("l.sqlite")
        let r = try CLIRunner.run(try evalArgs("gqa", db: db, extra: ["--limit", "6"]))
        XCTAssertEqual(r.status, 0, r.stderr)
        let report = try CLIRunner.run(["report", "--db", db.path])
        XCTAssertTrue(report.stdout.contains("†"), report.stdout)
        XCTAssertTrue(report.stderr.contains("subset (6 of 40 items"), report.stderr)
        let folders = try FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("out/gqa/llava15-tiny").path)
        XCTAssertEqual(folders.count, 1)
        XCTAssertTrue(folders[0].hasSuffix("-subset6of40"), folders[0])
        let store = try ResultsStore(path: db.path, readonly: true)
        let run = try XCTUnwrap(try store.runs().first)
        XCTAssertTrue(run.isSubset)
        // 6 answered items: the accuracy is a multiple of 100/6 (the 34 unanswered do not count as wrong).
        let acc = try XCTUnwrap(try store.scores(run.id).first { $0.name == "accuracy" }?.value)
        XCTAssertEqual((acc * 6 / 100).rounded(), acc * 6 / 100, accuracy: 1e-9)
    }

    /// Two models at the same setting write to different folders: nothing is overwritten.
    func testTwoModelsAtTheSameSettingNeverShareAnOutputFolder() throws {
        let fm = FileManager.default
        for name in ["llava-a", "llava-b"] { try fm.copyItem(atPath: try model(), toPath: work.appendingPathComponent(name).path) }
        try fm.copyItem(at: try Fixtures.require("fixtures/clip-tiny"), to: work.appendingPathComponent("clip-tiny"))
        for name in ["llava-a", "llava-b"] {
            let r = try CLIRunner.run(try evalArgs("pope", db: work.appendingPathComponent("\(name).sqlite"),
                                                   model: work.appendingPathComponent(name).path))
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        for name in ["llava-a", "llava-b"] {
            let dir = work.appendingPathComponent("out/pope/\(name)")
            let runs = try fm.contentsOfDirectory(atPath: dir.path)
            XCTAssertEqual(runs.count, 1)
            XCTAssertTrue(runs[0].hasPrefix("vispruner-t64-r0.5-seed0-len4-"), runs[0])
            XCTAssertTrue(fm.fileExists(atPath: dir.appendingPathComponent(runs[0]).appendingPathComponent("\(name).jsonl").path))
        }
    }

    func testExportRefusesToReplaceDifferentFilesUnlessForced() throws {
        let out = work.appendingPathComponent("upload")
        let a = try Fixtures.require("datasets-samples/gqa/answers/tricky-a.jsonl").path
        let b = try Fixtures.require("datasets-samples/gqa/answers/tricky-b.jsonl").path
        let first = try CLIRunner.run(["export", "gqa", "--answers", a, "--data-root", try data(), "--out", out.path])
        XCTAssertEqual(first.status, 0, first.stderr)
        let same = try CLIRunner.run(["export", "gqa", "--answers", a, "--data-root", try data(), "--out", out.path])
        XCTAssertEqual(same.status, 0, "identical files are fine: \(same.stderr)")
        let before = try Data(contentsOf: out.appendingPathComponent("testdev_balanced_predictions.json"))
        let other = try CLIRunner.run(["export", "gqa", "--answers", b, "--data-root", try data(), "--out", out.path])
        XCTAssertNotEqual(other.status, 0)
        XCTAssertTrue(other.stderr.contains("already holds different file"), other.stderr)
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("testdev_balanced_predictions.json")), before, "nothing replaced")
        let forced = try CLIRunner.run(["export", "gqa", "--answers", b, "--data-root", try data(), "--out", out.path, "--force"])
        XCTAssertEqual(forced.status, 0, forced.stderr)
        XCTAssertNotEqual(try Data(contentsOf: out.appendingPathComponent("testdev_balanced_predictions.json")), before)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasPrefix(".") }, [], "no staging left")

        let file = work.appendingPathComponent("afile")
        try Data("x".utf8).write(to: file)
        let onFile = try CLIRunner.run(["export", "gqa", "--answers", a, "--data-root", try data(), "--out", file.path])
        XCTAssertNotEqual(onFile.status, 0)
        XCTAssertTrue(onFile.stderr.contains("is a file, not a folder"), onFile.stderr)
        XCTAssertFalse(onFile.stderr.contains("NSCocoaErrorDomain"), onFile.stderr)
    }

    /// A POPE data root missing one split's label file: check and eval fail in seconds, before any answer.
    func testAMissingPOPELabelFileStopsCheckAndEvalBeforeGenerating() throws {
        let root = work.appendingPathComponent("root")
        try FileManager.default.copyItem(at: try Fixtures.require("datasets-samples"), to: root)
        try FileManager.default.removeItem(at: root.appendingPathComponent("pope/coco/coco_pope_popular.json"))
        let check = try CLIRunner.run(["datasets", "check", "--data-root", root.path, "--dataset", "pope"])
        XCTAssertEqual(check.status, 1, check.stdout)
        XCTAssertTrue(check.stdout.contains("no label file coco_pope_popular.json"), check.stdout)
        let db = work.appendingPathComponent("p.sqlite")
        var args = try evalArgs("pope", db: db)
        args[args.firstIndex(of: "--data-root")! + 1] = root.path
        let started = Date()
        let eval = try CLIRunner.run(args)
        XCTAssertEqual(eval.status, 4, eval.stderr)
        XCTAssertTrue(eval.stderr.contains("coco_pope_popular.json"), eval.stderr)
        XCTAssertTrue(eval.stderr.contains("not started"), eval.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: db.path), "no database, no answer")
        XCTAssertLessThan(Date().timeIntervalSince(started), 60)
    }

    func testSweepDryRunReportsEveryProblem() throws {
        let r = try CLIRunner.run(["sweep", "--model", work.appendingPathComponent("nope").path, "--model", try model(),
                                   "--dataset", "sqa", "--dataset", "gqa", "--method", "fastv", "--method", "vispruner",
                                   "--tokens", "64", "--tokens", "999", "--ratio", "-1", "--data-root", try data(), "--dry-run"])
        XCTAssertEqual(r.status, 4, r.stdout + r.stderr)
        for expected in ["ratio -1.0 must be in [0, 1]", "unknown method 'fastv' (did you mean 'fastervlm'?",
                         "nope: no such folder", "--tokens 999 is more than the 576 patches",
                         "unknown benchmark 'sqa' (did you mean 'scienceqa'?"] {
            XCTAssertTrue(r.stdout.contains(expected), "\(expected) in \(r.stdout)")
        }
        let eval = try CLIRunner.run(["eval", "--model", try model(), "--dataset", "gqa", "--method", "fastv", "--tokens", "64"])
        XCTAssertNotEqual(eval.status, 0)
        XCTAssertTrue(eval.stderr.contains("fastv"), eval.stderr)
    }

    /// Ctrl-C: the run is marked interrupted, the saved count is printed with how to resume, exit 130; and
    /// resuming completes it with nothing lost.
    func testSIGINTMarksTheRunAndExits130() throws {
        let db = work.appendingPathComponent("i.sqlite")
        let errFile = work.appendingPathComponent("err.txt")
        let args = try evalArgs("gqa", db: db, extra: ["--method", "none"]).filter { $0 != "--quiet" }
        let p = try CLIRunner.start(args, stderrFile: errFile)
        let deadline = Date().addingTimeInterval(120)
        func stored() -> Int {
            guard let s = try? ResultsStore(path: db.path, readonly: true), let runs = try? s.runs(), let r = runs.first else { return 0 }
            return r.doneItems
        }
        while p.isRunning && Date() < deadline && stored() < 3 { usleep(10_000) }
        XCTAssertTrue(p.isRunning, "the run must still be going when interrupted")
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 130)
        let err = try String(contentsOf: errFile, encoding: .utf8)
        let store = try ResultsStore(path: db.path, readonly: true)
        let run = try XCTUnwrap(try store.runs().first)
        XCTAssertEqual(run.stopReason, "interrupted by SIGINT")
        XCTAssertEqual(run.status, .incomplete)
        XCTAssertTrue(err.contains("interrupted (SIGINT): gqa none: \(run.doneItems) of 40 answers saved"), err)
        XCTAssertTrue(err.contains("rerun the same command to resume"), err)
        let resumed = try CLIRunner.run(args)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let after = try XCTUnwrap(try ResultsStore(path: db.path, readonly: true).runs().first)
        XCTAssertEqual(after.doneItems, 40)
        XCTAssertNil(after.stopReason)
    }
}
