import Foundation
import XCTest
import Benchmarks
import TestSupport
import Records

/// The MME entry as datasets.json declares it, relative to the samples data root.
private func mmeSpec() -> DatasetSpec { RepoSpecs.spec("mme") }

private let mmeAnswerFiles = ["llava-v1.5-13b-real", "tricky-a", "tricky-b"]

final class MMEScoringTests: XCTestCase {
    private func expected() throws -> PartBFixtureJSON {
        try PartBFixtureJSON.load(Fixtures.require("datasets-samples/MME/expected/scores.json"))
    }

    private func answers(_ name: String) throws -> [AnswerRecord] {
        let contents = try AnswersFile.read(try Fixtures.require("datasets-samples/MME/answers/\(name).jsonl"))
        XCTAssertTrue(contents.badLines.isEmpty)
        return contents.records
    }

    /// Every value of scores.json (totals, task scores, all per-task metrics) for every answers file,
    /// scored both from the answers and from the recorded eval_tool folder.
    func testEveryRecordedValueMatches() throws {
        let root = try Fixtures.require("datasets-samples")
        let scorer = try MMEScorer(spec: mmeSpec(), dataRoot: root)
        let all = try expected()
        var compared = 0
        for name in mmeAnswerFiles {
            let exp = try XCTUnwrap(all[name], name)
            let fromAnswers = try scorer.score(answers(name))
            let fromFolder = try MMEScorer.score(resultsFolder: root.appendingPathComponent("MME/eval_tool/answers/\(name)"))
            XCTAssertEqual(fromAnswers.metrics, fromFolder.metrics, name)
            assertUnitsReproduce(fromAnswers, ["perception", "cognition", "total"], name)
            XCTAssertTrue(fromAnswers.notes.isEmpty, "\(name): \(fromAnswers.notes)")
            XCTAssertEqual(fromAnswers["perception"], exp["perception_total"]?.double, name)
            XCTAssertEqual(fromAnswers["cognition"], exp["cognition_total"]?.double, name)
            XCTAssertEqual(fromAnswers.headlineValue, exp["perception_total"]?.double)
            let taskScores = try XCTUnwrap(exp["task_scores"]?.object)
            XCTAssertEqual(taskScores.count, 14)
            for (task, score) in taskScores {
                XCTAssertEqual(fromAnswers["task.\(task.lowercased())"], score.double, "\(name) \(task)")
                compared += 1
            }
            let perTask = try XCTUnwrap(exp["per_task_metrics"]?.object)
            let keys = ["TP": "tp", "FN": "fn", "TN": "tn", "FP": "fp", "precision": "precision", "recall": "recall",
                        "other_num": "other", "acc": "acc", "acc_plus": "acc_plus"]
            for (task, metricsValue) in perTask {
                let metrics = try XCTUnwrap(metricsValue.object)
                XCTAssertEqual(Set(metrics.keys), Set(keys.keys), task)
                for (recorded, ours) in keys {
                    XCTAssertEqual(fromAnswers["task.\(task.lowercased()).\(ours)"], metrics[recorded]?.double, "\(name) \(task) \(recorded)")
                    compared += 1
                }
            }
        }
        XCTAssertEqual(compared, 3 * 14 * 10)
    }

    /// With the release folder as question source the scores and coverage are the same.
    func testReleaseFolderAsQuestionSourceScoresTheSame() throws {
        let root = try Fixtures.require("datasets-samples")
        var spec = mmeSpec()
        spec.questionFile = "MME/MME_Benchmark_release_version"
        let viaRelease = try MMEScorer(spec: spec, dataRoot: root)
        let viaLLaVA = try MMEScorer(spec: mmeSpec(), dataRoot: root)
        for name in mmeAnswerFiles {
            let a = try viaRelease.score(answers(name)), b = try viaLLaVA.score(answers(name))
            XCTAssertEqual(a, b, name)
            XCTAssertTrue(a.notes.isEmpty, "\(a.notes)")
        }
    }

    /// The printed totals and task scores of calculation.py's stdout, in Python float formatting.
    func testStdoutLinesMatch() throws {
        let root = try Fixtures.require("datasets-samples")
        let scorer = try MMEScorer(spec: mmeSpec(), dataRoot: root)
        for name in mmeAnswerFiles {
            let stdout = try String(contentsOf: root.appendingPathComponent("MME/expected/\(name).calculation.stdout.txt"), encoding: .utf8)
            let report = try scorer.score(answers(name))
            var lines: [String] = []
            for (title, key, tasks) in [("Perception", "perception", MMEBenchmark.perceptionTasks),
                                        ("Cognition", "cognition", MMEBenchmark.cognitionTasks)] {
                lines.append("=========== \(title) ===========")
                lines.append("total score: \(report[key]!) ")
                lines.append("")
                for t in tasks { lines.append("\t \(t)  score: \(report["task.\(t.lowercased())"]!)") }
                lines += ["", ""]
            }
            XCTAssertEqual(lines.joined(separator: "\n") + "\n", stdout, name)
        }
    }

    /// The exported eval_tool folder is byte-identical to what convert_answer_to_mme.py wrote.
    func testExportMatchesRecordedEvalToolFolders() throws {
        let root = try Fixtures.require("datasets-samples")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("mme-export-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let exporter = MMEExporter(spec: mmeSpec(), dataRoot: root)
        for name in mmeAnswerFiles {
            let written = try exporter.export(answers(name), to: out, name: name)
            let recordedFolder = root.appendingPathComponent("MME/eval_tool/answers/\(name)")
            let recorded = try FileManager.default.contentsOfDirectory(atPath: recordedFolder.path).sorted()
            XCTAssertEqual(written.map(\.lastPathComponent).sorted(), recorded, name)
            for file in recorded {
                let ours = try Data(contentsOf: out.appendingPathComponent("\(name)/\(file)"))
                let theirs = try Data(contentsOf: recordedFolder.appendingPathComponent(file))
                XCTAssertEqual(ours, theirs, "\(name)/\(file)")
            }
        }
    }

    func testMissingExtraAndBrokenAnswersAreReportedNotCrashing() throws {
        let root = try Fixtures.require("datasets-samples")
        let scorer = try MMEScorer(spec: mmeSpec(), dataRoot: root)
        var records = try answers("llava-v1.5-13b-real")
        // Drop a whole task and add an answer to a question MME does not have.
        records.removeAll { $0.questionID.description.hasPrefix("OCR/") }
        records.append(AnswerRecord(questionID: .string("OCR/9999.jpg"), prompt: "Is it?", text: "Yes", answerID: "x", modelID: "m"))
        let report = try scorer.score(records)
        XCTAssertNil(report["task.ocr"])
        XCTAssertNotNil(report["perception"])
        let notes = report.notes.joined(separator: "\n")
        XCTAssertTrue(notes.contains("4 of 56 questions have no answer"), notes)
        XCTAssertTrue(notes.contains("1 answers match no question"), notes)
        XCTAssertTrue(notes.contains("no results for OCR"), notes)

        // A tab or line break inside an answer would break calculation.py's line format: it is scored as a
        // space, with a note.
        var tabbed = try answers("tricky-a")
        tabbed[0].text = "yes\tno"
        tabbed[1].text = "no\nyes"
        let flat = try scorer.score(tabbed)
        XCTAssertTrue(flat.notes.joined().contains("2 answers contain tabs or line breaks"), "\(flat.notes)")
        var spaced = try answers("tricky-a")
        spaced[0].text = "yes no"
        spaced[1].text = "no yes"
        XCTAssertEqual(flat.metrics, try scorer.score(spaced).metrics)

        // One question of an image unanswered: pairs are positional, so the note says the reference would stop.
        var odd = try answers("llava-v1.5-13b-real")
        odd.remove(at: odd.lastIndex { $0.questionID.description.hasPrefix("count/") }!)
        let oddReport = try scorer.score(odd)
        XCTAssertTrue(oddReport.notes.joined().contains("MME task count: 3 answers do not form image pairs"), "\(oddReport.notes)")
        XCTAssertNotNil(oddReport["task.count.acc_plus"])

        XCTAssertThrowsError(try MMEExporter(spec: mmeSpec(), dataRoot: root)
            .export(records, to: FileManager.default.temporaryDirectory, name: "mme-bad-\(UUID().uuidString)"))
    }
}
