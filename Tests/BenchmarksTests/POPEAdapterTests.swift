import Foundation
import XCTest
import Benchmarks
import TestSupport

/// The POPE entry as datasets.json declares it, relative to the samples data root.
private func popeSpec() -> DatasetSpec { RepoSpecs.spec("pope") }

final class POPEAdapterTests: XCTestCase {
    func testItemsKeepIntegerIdsCategoriesAndImages() throws {
        let root = try Fixtures.require("datasets-samples")
        let adapter = POPEBenchmark(spec: popeSpec(), dataRoot: root)
        let items = try adapter.items()
        let raw = try Fixtures.jsonLines("datasets-samples/pope/llava_pope_test.jsonl")
        XCTAssertEqual(items.count, raw.count)
        for (item, line) in zip(items, raw) {
            XCTAssertEqual(item.questionID, .int((line["question_id"] as! NSNumber).int64Value))
            XCTAssertEqual(item.prompt, line["text"] as? String)
            XCTAssertEqual(item.category, line["category"] as? String)
            let url = try XCTUnwrap(adapter.imageURL(for: item))
            XCTAssertTrue(FileManager.default.fileExists(atPath: url.path), url.path)
        }
    }

    /// Built from the original label files, the items equal LLaVA's question file line for line.
    func testOriginalLabelFilesYieldLLaVAsQuestionFile() throws {
        let root = try Fixtures.require("datasets-samples")
        let llava = try POPEBenchmark(spec: popeSpec(), dataRoot: root).items()
        for source in ["pope/coco", "pope/coco/"] {
            var spec = popeSpec()
            spec.questionFile = source
            XCTAssertEqual(try POPEBenchmark(spec: spec, dataRoot: root).items(), llava, source)
        }
        var one = popeSpec()
        one.questionFile = "pope/coco/coco_pope_random.json"
        XCTAssertEqual(try POPEBenchmark(spec: one, dataRoot: root).items(), llava.filter { $0.category == "random" })
    }

    func testLabelFilesAreJSONLinesPerSplit() throws {
        let root = try Fixtures.require("datasets-samples")
        let folder = try POPEBenchmark(spec: popeSpec(), dataRoot: root).labelsFolder()
        let (files, ignored) = try POPELabels.files(in: folder)
        XCTAssertEqual(Set(files.map(\.category)), ["adversarial", "popular", "random"])
        XCTAssertTrue(ignored.isEmpty)
        for f in files {
            let labels = try POPELabels.read(f.url)
            let raw = try Fixtures.jsonLines("datasets-samples/pope/coco/" + f.url.lastPathComponent)
            XCTAssertEqual(labels, raw.map { $0["label"] as! String })
        }
    }

    func testParserFollowsEvalPopeQuirksFromTheSpec() {
        // The cases datasets-spec.md records for eval_pope.py's parsing.
        for yes in ["NO", "No!", "Nope", "(No)", "", "Not", "Yes"] {
            XCTAssertEqual(POPEAnswer.parse(yes), "yes", yes)
        }
        for no in ["yes no", "No", "no", "No, there is not.", "It is not", "No. Yes"] {
            XCTAssertEqual(POPEAnswer.parse(no), "no", no)
        }
        // Only the text before the first period counts; only single spaces split words.
        XCTAssertEqual(POPEAnswer.parse("Yes. There is no dog."), "yes")
        XCTAssertEqual(POPEAnswer.parse("Yes\nNo"), "yes")
    }

    /// Python splits on code points: a combining mark after "." or " " does not hide the separator.
    func testParserSplitsOnCodePointsNotGraphemes() {
        XCTAssertEqual(POPEAnswer.parse("Yes.\u{301} No"), "yes")
        XCTAssertEqual(POPEAnswer.parse("Yes \u{301}no"), "yes")
        XCTAssertEqual(POPEAnswer.parse("Yes \u{301} no"), "no")
        XCTAssertEqual(POPEAnswer.parse("Yes, \u{301}, No"), "no")
    }

    func testImagePathsLeavingTheImageFolderAreRefused() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pope-escape-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("pope/val2014"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let lines = [#"{"question_id": 1, "image": "../../../etc/passwd", "text": "Is there a cat?", "category": "random"}"#,
                     #"{"question_id": 2, "image": "/etc/passwd", "text": "Is there a cat?", "category": "random"}"#,
                     #"{"question_id": 3, "image": "ok.jpg", "text": "Is there a cat?", "category": "random"}"#]
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: dir.appendingPathComponent("pope/llava_pope_test.jsonl"))
        let adapter = POPEBenchmark(spec: popeSpec(), dataRoot: dir)
        let items = try adapter.items()
        XCTAssertEqual(items.count, 3)
        XCTAssertThrowsError(try adapter.imageURL(for: items[0]))
        XCTAssertThrowsError(try adapter.imageURL(for: items[1]))
        XCTAssertEqual(try adapter.imageURL(for: items[2])?.lastPathComponent, "ok.jpg")
    }

    func testMalformedQuestionLineNamesFileLineAndField() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pope-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("pope"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = #"{"question_id": 1, "image": "a.jpg", "text": "Q", "category": "random"}"# + "\n\n"
            + #"{"question_id": true, "image": "a.jpg", "text": "Q", "category": "random"}"# + "\n"
        try Data(text.utf8).write(to: dir.appendingPathComponent("pope/llava_pope_test.jsonl"))
        XCTAssertThrowsError(try POPEBenchmark(spec: popeSpec(), dataRoot: dir).items()) { error in
            XCTAssertTrue("\(error)".contains("llava_pope_test.jsonl:3 field 'question_id'"), "\(error)")
        }
    }

    func testMalformedLabelLineNamesFileAndLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pope-labels-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("coco_pope_random.json")
        try Data("{\"label\": \"yes\"}\n{\"lab\": \"no\"}\n".utf8).write(to: file)
        XCTAssertThrowsError(try POPELabels.read(file)) { error in
            XCTAssertTrue("\(error)".contains("coco_pope_random.json:2 field 'label'"), "\(error)")
        }
    }
}
