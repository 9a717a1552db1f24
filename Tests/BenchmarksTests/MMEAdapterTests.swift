import Foundation
import XCTest
import Benchmarks
import TestSupport

/// The MME entry as datasets.json declares it, relative to the samples data root.
private func mmeSpec() -> DatasetSpec { RepoSpecs.spec("mme") }

final class MMEAdapterTests: XCTestCase {
    func testItemsCarryTaskFromQuestionIDAndImagesExist() throws {
        let root = try Fixtures.require("datasets-samples")
        let adapter = MMEBenchmark(spec: mmeSpec(), dataRoot: root)
        let items = try adapter.items()
        let raw = try Fixtures.jsonLines("datasets-samples/MME/llava_mme.jsonl")
        XCTAssertEqual(items.count, raw.count)
        for (item, line) in zip(items, raw) {
            XCTAssertEqual(item.questionID, .string(line["question_id"] as! String))
            XCTAssertEqual(item.prompt, line["text"] as? String)
            XCTAssertEqual(item.answerPrompt, line["text"] as? String)
            XCTAssertEqual(item.category, line["category"] as? String, "task of \(item.questionID)")
            let url = try XCTUnwrap(adapter.imageURL(for: item))
            XCTAssertTrue(FileManager.default.fileExists(atPath: url.path), url.path)
        }
        XCTAssertEqual(Set(items.map(\.category)), Set(MMEBenchmark.perceptionTasks + MMEBenchmark.cognitionTasks))
    }

    /// Built from the release folder, the items are LLaVA's question lines (grouped by image).
    func testReleaseFolderYieldsLLaVAsQuestions() throws {
        let root = try Fixtures.require("datasets-samples")
        let llava = try MMEBenchmark(spec: mmeSpec(), dataRoot: root).items()
        var spec = mmeSpec()
        spec.questionFile = "MME/MME_Benchmark_release_version"
        let built = try MMEBenchmark(spec: spec, dataRoot: root).items()
        XCTAssertEqual(built.count, llava.count)
        for item in llava { XCTAssertTrue(built.contains(item), "\(item.questionID): \(item.prompt)") }
        for k in stride(from: 0, to: built.count - 1, by: 2) {
            XCTAssertEqual(built[k].questionID, built[k + 1].questionID, "the two questions of an image are adjacent")
        }
    }

    func testGroundTruthResolvesEveryQuestionInBothLayouts() throws {
        let root = try Fixtures.require("datasets-samples")
        let adapter = MMEBenchmark(spec: mmeSpec(), dataRoot: root)
        let gt = try adapter.groundTruth()
        XCTAssertEqual(gt.answers.count, 56)
        var layouts = Set<Bool>()
        for item in try adapter.items() {
            guard case .string(let id) = item.questionID else { return XCTFail("MME ids are strings") }
            let r = try XCTUnwrap(gt.resolve(questionID: id, prompt: item.answerPrompt), "no GT for \(id): \(item.prompt)")
            XCTAssertTrue(r.question.hasSuffix("Please answer yes or no."))
            XCTAssertTrue(["Yes", "No"].contains(r.groundTruth))
            layouts.insert(id.contains("/images/"))
        }
        XCTAssertEqual(layouts, [true, false], "samples cover both folder layouts")
    }

    func testResolveUsesTheTwoSpaceVariantWhenTheGroundTruthHasIt() {
        let gt = MMEGroundTruth(answers: [.init(category: "OCR", file: "0001.txt",
                                                 question: "Is it red?  Please answer yes or no."): "Yes"])
        let r = gt.resolve(questionID: "OCR/0001.jpg", prompt: "Is it red?\nAnswer the question using a single word or phrase.")
        XCTAssertEqual(r?.question, "Is it red?  Please answer yes or no.")
        XCTAssertNil(gt.resolve(questionID: "OCR/0002.jpg", prompt: "Is it red?"))
    }

    func testParserFollowsCalculationPyExamplesFromTheSpec() {
        // The examples datasets-spec.md records for calculation.py's pred[:4] rule.
        XCTAssertEqual(MMEAnswer.parse("Snow"), "no")
        XCTAssertEqual(MMEAnswer.parse("Tyes"), "yes")
        XCTAssertEqual(MMEAnswer.parse("nyes"), "yes")
        XCTAssertEqual(MMEAnswer.parse("y es"), "other")
        XCTAssertEqual(MMEAnswer.parse("Yes"), "yes")
        XCTAssertEqual(MMEAnswer.parse("No"), "no")
    }

    /// The four-character window counts code points after lower-casing, as Python slices them.
    func testParserCountsCodePoints() {
        XCTAssertEqual(MMEAnswer.parse("no\u{301}"), "no")
        XCTAssertEqual(MMEAnswer.parse("\u{301}\u{301}yes"), "other")
        XCTAssertEqual(MMEAnswer.parse("ＹＥＳ"), "other")
        XCTAssertEqual(MMEAnswer.parse("YES!"), "yes")
        XCTAssertEqual(MMEAnswer.parse(""), "other")
        XCTAssertEqual(MMEAnswer.parse(resultsField: "yes"), "yes")
    }

    func testMissingGroundTruthFolderIsAClearError() {
        var spec = mmeSpec()
        spec.annotationFiles["ground_truth"] = "MME/nowhere"
        let adapter = MMEBenchmark(spec: spec, dataRoot: Fixtures.shared.appendingPathComponent("datasets-samples"))
        XCTAssertThrowsError(try adapter.groundTruth()) { error in
            XCTAssertTrue("\(error)".contains("MME/nowhere"), "\(error)")
        }
        spec.annotationFiles = [:]
        XCTAssertThrowsError(try MMEBenchmark(spec: spec, dataRoot: URL(fileURLWithPath: "/tmp")).groundTruth()) { error in
            XCTAssertTrue("\(error)".contains("ground_truth"), "\(error)")
        }
    }
}
