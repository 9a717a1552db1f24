import XCTest
import Foundation
import Records
import Store
import TestSupport

/// The seams a new user met on the bundled data (issue 35, point 5), each as the user ran into it.
final class SeamsTests: XCTestCase {
    var work: URL!

    override func setUpWithError() throws {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("seams-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: work) }

    func model() throws -> String { try Fixtures.require("fixtures/llava15-tiny").path }
    func data() throws -> String { try Fixtures.require("datasets-samples").path }

    func eval(_ dataset: String, db: URL, extra: [String] = []) throws -> CLIRunner.Result {
        let r = try CLIRunner.run(["eval", "--model", try model(), "--dataset", dataset, "--tokens", "16", "--data-root", try data(),
                                   "--db", db.path, "--max-new-tokens", "3", "--out", work.appendingPathComponent("out").path,
                                   "--quiet"] + extra)
        return r
    }

    /// A run is scored and exported only as the benchmark it was run on: `export vqav2` of a GQA run and
    /// `score gqa` of a VQAv2 run are refused (they wrote an empty submission and printed "accuracy 0.00").
    func testScoreAndExportRefuseARunOfAnotherBenchmark() throws {
        let db = work.appendingPathComponent("two.sqlite")
        let evaluated1 = try eval("gqa", db: db, extra: ["--limit", "4"])
        XCTAssertEqual(evaluated1.status, 0)
        let evaluated2 = try eval("vqav2", db: db, extra: ["--limit", "4"])
        XCTAssertEqual(evaluated2.status, 0)
        let store = try ResultsStore(path: db.path, readonly: true)
        let runs = try store.runs()
        let gqa = try XCTUnwrap(runs.first { $0.config.dataset == "gqa" }), vqa = try XCTUnwrap(runs.first { $0.config.dataset == "vqav2" })

        let exportOut = work.appendingPathComponent("exported")
        let export = try CLIRunner.run(["export", "vqav2", "--db", db.path, "--run", "\(gqa.id)", "--data-root", try data(),
                                        "--out", exportOut.path])
        XCTAssertNotEqual(export.status, 0, export.stdout)
        XCTAssertTrue(export.stderr.contains("is a gqa run"), export.stderr)
        XCTAssertTrue(export.stderr.contains("vispruner export gqa"), export.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: exportOut.path), "nothing written")

        let score = try CLIRunner.run(["score", "gqa", "--db", db.path, "--run", "\(vqa.id)", "--data-root", try data()])
        XCTAssertNotEqual(score.status, 0, score.stdout)
        XCTAssertTrue(score.stderr.contains("is a vqav2 run"), score.stderr)
        XCTAssertFalse(score.stdout.contains("accuracy"), score.stdout)

        // The run's own benchmark still works, and a --limit run is scored on what it answered, as eval scored it.
        let own = try CLIRunner.run(["score", "gqa", "--db", db.path, "--run", "\(gqa.id)", "--data-root", try data(), "--json"])
        XCTAssertEqual(own.status, 0, own.stderr)
        XCTAssertTrue(own.stdout.contains("subset: scored on the 4 answered items"), own.stdout)
        let stored = try XCTUnwrap(try store.scores(gqa.id).first { $0.name == "accuracy" }?.value)
        XCTAssertTrue(own.stdout.contains("\"accuracy\": \(stored)"), "\(own.stdout) vs \(stored)")
    }

    /// A VQAv2 test-dev run is scored by the benchmark's server: no note says a data root would score it, and
    /// each says how to export the submission.
    func testTheServerScoredSplitSaysHowToExportNotToGiveADataRoot() throws {
        let db = work.appendingPathComponent("vqa.sqlite")
        let r = try eval("vqav2", db: db)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("scored by the benchmark's server"), r.stdout)
        XCTAssertTrue(r.stdout.contains("vispruner export vqav2 --db FILE --run 1"), r.stdout)
        for args in [["report", "--db", db.path], ["report", "--db", db.path, "--data-root", try data()]] {
            let report = try CLIRunner.run(args)
            XCTAssertEqual(report.status, 0, report.stderr)
            let all = report.stdout + report.stderr
            XCTAssertFalse(all.contains("give the data root"), all)
            XCTAssertTrue(all.contains("vispruner export vqav2"), all)
            XCTAssertTrue(all.contains("server"), all)
        }
    }

    /// `datasets list` and `info` say which registry is in use; a data root's own datasets.json is used.
    func testDatasetsListAndInfoNameTheRegistryInUse() throws {
        let root = work.appendingPathComponent("root")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let list = try CLIRunner.run(["datasets", "list", "--data-root", root.path])
        XCTAssertEqual(list.status, 0, list.stderr)
        XCTAssertTrue(list.stdout.contains("registry: built-in"), list.stdout)
        let text = try String(contentsOf: Fixtures.repoRoot.appendingPathComponent("datasets.json"), encoding: .utf8)
            .replacingOccurrences(of: "\"title\": \"GQA", with: "\"title\": \"Edited GQA")
        try Data(text.utf8).write(to: root.appendingPathComponent("datasets.json"))
        let edited = try CLIRunner.run(["datasets", "list", "--data-root", root.path])
        XCTAssertTrue(edited.stdout.contains("registry: \(root.appendingPathComponent("datasets.json").path) (the data root's datasets.json)"), edited.stdout)
        XCTAssertTrue(edited.stdout.contains("Edited GQA"), edited.stdout)
        let info = try CLIRunner.run(["info", "--datasets", root.appendingPathComponent("datasets.json").path])
        XCTAssertEqual(info.status, 0, info.stderr)
        XCTAssertTrue(info.stdout.contains("(--datasets)"), info.stdout)
    }

    /// Sweep-file problems exit 4, as flag problems do (EVAL.md); they exited 1.
    func testSweepFileProblemsExit4() throws {
        let bad = work.appendingPathComponent("bad.yaml"), unknown = work.appendingPathComponent("unknown.json")
        try Data("models: [a\n  - :".utf8).write(to: bad)
        try Data("{\"models\": [\"m\"], \"datasets\": [\"gqa\"], \"tokenz\": [4]}".utf8).write(to: unknown)
        for file in [bad, unknown, work.appendingPathComponent("absent.yaml")] {
            let r = try CLIRunner.run(["sweep", "--sweep-file", file.path, "--db", work.appendingPathComponent("s.sqlite").path])
            XCTAssertEqual(r.status, 4, file.lastPathComponent + ": " + r.stderr)
            XCTAssertTrue(r.stderr.contains("problem:"), r.stderr)
        }
    }

    /// One bad image is one problem: eval listed the check's summary line and the image (\"2 problem(s)\").
    func testOneBadImageIsReportedOnce() throws {
        let root = work.appendingPathComponent("data")
        try FileManager.default.copyItem(atPath: try data(), toPath: root.path)
        let folder = root.appendingPathComponent("pope/val2014")
        let name = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted().first { $0.hasSuffix(".jpg") })
        try Data("not an image".utf8).write(to: folder.appendingPathComponent(name))
        let r = try CLIRunner.run(["eval", "--model", try model(), "--dataset", "pope", "--tokens", "16", "--data-root", root.path,
                                   "--db", work.appendingPathComponent("p.sqlite").path, "--quiet"])
        XCTAssertEqual(r.status, 4, r.stderr)
        XCTAssertEqual(r.stderr.components(separatedBy: name).count - 1, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("not started: 1 problem(s)"), r.stderr)
        XCTAssertTrue(r.stderr.contains("problem: pope: image does not decode: pope/val2014/\(name)"), r.stderr)
    }

    /// POPE's answers file is written once, and a POPE run whose headline is undefined prints no empty score line.
    func testPOPEWritesItsAnswersOnceAndNeverAnEmptyScoreLine() throws {
        let db = work.appendingPathComponent("pope.sqlite")
        let r = try CLIRunner.run(["eval", "--model", try model(), "--dataset", "pope", "--tokens", "16", "--data-root", try data(),
                                   "--db", db.path, "--max-new-tokens", "3", "--out", work.appendingPathComponent("out").path, "--limit", "3"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let wrote = r.stderr.split(separator: "\n").filter { $0.hasPrefix("wrote ") }
        XCTAssertEqual(wrote.count, Set(wrote).count, r.stderr)
        XCTAssertEqual(wrote.count, 1, r.stderr)
        let line = try XCTUnwrap(r.stdout.split(separator: "\n").first { $0.hasPrefix("pope vispruner t16") })
        XCTAssertFalse(line.trimmingCharacters(in: .whitespaces).hasSuffix(":"), String(line))
        XCTAssertTrue(line.contains("f1.average"), String(line))
    }

    /// `export --db` names its files by the run's folder name, not its number.
    func testExportFromADatabaseNamesFilesByTheRunFolder() throws {
        let db = work.appendingPathComponent("g.sqlite")
        let evaluated3 = try eval("pope", db: db)
        XCTAssertEqual(evaluated3.status, 0)
        let run = try XCTUnwrap(try ResultsStore(path: db.path, readonly: true).runs().first)
        let out = work.appendingPathComponent("exp")
        let r = try CLIRunner.run(["export", "pope", "--db", db.path, "--run", "1", "--data-root", try data(), "--out", out.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let files = try FileManager.default.contentsOfDirectory(atPath: out.path)
        XCTAssertEqual(files, [run.config.folderName + ".jsonl"], r.stdout)
        XCTAssertTrue(files[0].hasPrefix("vispruner-t16-r0.5-seed0-len3-"), files[0])
    }

    /// Counts print as integers in eval's score line and `score`'s table ("correct=33", not "33.00"), rates with decimals.
    func testCountsPrintAsIntegers() throws {
        let db = work.appendingPathComponent("sqa.sqlite")
        let r = try eval("scienceqa", db: db)
        XCTAssertEqual(r.status, 0, r.stderr)
        let line = try XCTUnwrap(r.stdout.split(separator: "\n").first { $0.hasPrefix("scienceqa vispruner") })
        XCTAssertNotNil(line.range(of: #"correct=\d+ total=\d+ img_correct=\d+ img_total=\d+"#, options: .regularExpression), String(line))
        XCTAssertNotNil(line.range(of: #"accuracy=\d+\.\d\d"#, options: .regularExpression), String(line))
        let table = try CLIRunner.run(["score", "pope", "--answers", try data() + "/pope/answers/tricky-a.jsonl", "--data-root", try data()])
        XCTAssertEqual(table.status, 0, table.stderr)
        XCTAssertNotNil(table.stdout.range(of: #"\ntp\.adversarial +\d+\n"#, options: .regularExpression), table.stdout)
        XCTAssertNotNil(table.stdout.range(of: #"\nsamples\.random +\d+\n"#, options: .regularExpression), table.stdout)
    }

    /// `datasets check --decode` finds a JPEG whose header reads but whose body is cut off; without it the header passes.
    func testDatasetsCheckDecodeFindsADamagedBody() throws {
        let root = work.appendingPathComponent("data")
        try FileManager.default.copyItem(atPath: try data(), toPath: root.path)
        let folder = root.appendingPathComponent("pope/val2014")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".jpg") }.sorted()
        for name in names.prefix(2) {
            let url = folder.appendingPathComponent(name)
            let bytes = try Data(contentsOf: url)
            try bytes.prefix(bytes.count / 2).write(to: url)
        }
        let header = try CLIRunner.run(["datasets", "check", "--data-root", root.path, "--dataset", "pope"])
        XCTAssertEqual(header.status, 0, header.stdout)
        let full = try CLIRunner.run(["datasets", "check", "--data-root", root.path, "--dataset", "pope", "--decode"])
        XCTAssertEqual(full.status, 1, full.stdout)
        for name in names.prefix(2) {
            let line = try XCTUnwrap(full.stdout.split(separator: "\n").first { $0.contains("image does not decode: pope/val2014/\(name): ") })
            XCTAssertTrue(line.contains("corrupt or truncated JPEG"), String(line))
        }
        XCTAssertTrue(full.stdout.contains("2 problem(s)"), full.stdout)
    }
}
