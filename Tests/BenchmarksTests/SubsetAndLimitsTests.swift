import XCTest
import Foundation
import Benchmarks
import PythonText
import Records
import TestSupport

/// Subset scoring, per-line caps and name suggestions.
final class SubsetAndLimitsTests: XCTestCase {
    /// A `--limit` run is scored on what it answered: GQA's official rule counts every unanswered balanced
    /// question as wrong, which would make a 5-item run look like a ~1% model.
    func testGQASubsetIsScoredOnTheAnsweredQuestionsOnly() throws {
        let scorer = try GQAScorer(spec: Specs.gqa, dataRoot: try Samples.root())
        let all = try Samples.answers("gqa/answers/llava-v1.5-13b-real.jsonl").records
        let first = Array(all.prefix(8))
        let whole = try scorer.score(first), subset = try scorer.scoreAnswered(first)
        // The subset's accuracy is the plain fraction of those 8 answered balanced questions that are right.
        let balanced = Dictionary(uniqueKeysWithValues: scorer.questions.entries.filter(\.isBalanced).map { ($0.id, $0.answer) })
        let scored = first.filter { balanced[$0.questionID.description] != nil }
        let right = scored.filter { PythonText.equal(GQABenchmark.prediction($0.text), balanced[$0.questionID.description]!) }.count
        XCTAssertGreaterThan(scored.count, 0)
        XCTAssertEqual(try XCTUnwrap(subset["accuracy"]), 100 * Double(right) / Double(scored.count), accuracy: 1e-9)
        XCTAssertLessThan(try XCTUnwrap(whole["accuracy"]), try XCTUnwrap(subset["accuracy"]), "the official rule counts the rest as wrong")
        XCTAssertFalse(subset.notes.contains { $0.contains("count as wrong") }, "\(subset.notes)")
        // With every question answered the two agree exactly.
        XCTAssertEqual(try scorer.scoreAnswered(all), try scorer.score(all))
    }

    func testScienceQASubsetIsScoredOnTheAnsweredProblemsOnly() throws {
        let spec = RepoSpecs.spec("scienceqa")
        let scorer = try ScienceQAScorer(spec: spec, dataRoot: try Samples.root())
        let names = try Samples.names(in: "scienceqa/answers")
        let answers = try Samples.answers("scienceqa/answers/\(try XCTUnwrap(names.first)).jsonl").records
        let first = Array(answers.prefix(5))
        let subset = try scorer.scoreAnswered(first)
        XCTAssertEqual(subset["total"], 5)
        XCTAssertGreaterThan(try XCTUnwrap(try scorer.score(first)["total"]), 5)
    }

    func testAnOverlongQuestionLineIsMalformedNotParsed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lines-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let huge = "{\"question_id\": 1, \"image\": \"a.jpg\", \"text\": \"" + String(repeating: "x", count: YesNoQuestionFile.maxLineBytes) + "\"}"
        let ok = "{\"question_id\": 2, \"image\": \"b.jpg\", \"text\": \"q?\"}"
        let url = dir.appendingPathComponent("q.jsonl")
        try (huge + "\n" + ok + "\n").write(to: url, atomically: true, encoding: .utf8)
        let c = try LLaVAQuestionFile.readLenient(url)
        XCTAssertEqual(c.lines.map(\.questionID), [.int(2)])
        XCTAssertEqual(c.badLines.count, 1)
        XCTAssertTrue(c.badLines[0].reason.contains("limit per line"), c.badLines[0].reason)
        let answers = AnswersFile.parse(Data((huge.replacingOccurrences(of: "\"image\": \"a.jpg\", ", with: "") + "\n").utf8), file: "a.jsonl")
        XCTAssertEqual(answers.records.count, 0)
        XCTAssertTrue(answers.badLines.first?.reason.contains("limit per line") ?? false)
    }

    func testMistypedNamesGetASuggestion() {
        let names = RepoSpecs.registry.names
        XCTAssertEqual(DatasetRegistry.suggestion(for: "sqa", among: names), "scienceqa")
        XCTAssertEqual(DatasetRegistry.suggestion(for: "pop", among: names), "pope")
        XCTAssertEqual(DatasetRegistry.suggestion(for: "textvq", among: names), "textvqa")
        XCTAssertEqual(DatasetRegistry.suggestion(for: "vqa2", among: names), "vqav2")
        XCTAssertNil(DatasetRegistry.suggestion(for: "imagenet", among: names))
        XCTAssertThrowsError(try RepoSpecs.registry.spec(named: "sqa")) { XCTAssertTrue("\($0)".contains("did you mean 'scienceqa'"), "\($0)") }
    }

    /// The shipped registry's table layout is in paper units.
    func testTableLayoutIsInPaperUnits() throws {
        let layout = Dictionary(uniqueKeysWithValues: RepoSpecs.registry.tableLayout.map { ($0.dataset, $0) })
        let pope = try XCTUnwrap(layout["pope"])
        XCTAssertEqual(pope.columns.map(\.title), ["POPE F1", "POPE Acc"])
        XCTAssertEqual(pope.headline.value(["f1.average": 0.859]) ?? 0, 85.9, accuracy: 1e-9)
        let mme = try XCTUnwrap(layout["mme"])
        XCTAssertEqual(mme.columns.map(\.title), ["MME-P", "MME-C", "MME"])
        XCTAssertEqual(mme.columns[2].value(["perception": 1500, "cognition": 300]), 1800)
        XCTAssertNil(mme.columns[2].value(["perception": 1500]), "a total needs both parts")
        XCTAssertEqual(RepoSpecs.registry.tableLayout.map(\.dataset), RepoSpecs.registry.names)
    }
}
