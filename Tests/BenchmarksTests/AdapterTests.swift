import XCTest
import Foundation
import Benchmarks
import TestSupport

/// The shipped datasets.json entries, relative to the datasets-samples root.
enum SampleSpecs {
    static let suffix = "\nAnswer the question using a single word or phrase."
    static let vqav2 = RepoSpecs.spec("vqav2")
    static let gqa = RepoSpecs.spec("gqa")
    static let textvqa = RepoSpecs.spec("textvqa")
}

final class AdapterTests: XCTestCase {
    func root() throws -> URL { try Fixtures.require("datasets-samples") }

    func testVQAv2ItemsAndImages() throws {
        let a = VQAv2Benchmark(spec: SampleSpecs.vqav2, dataRoot: try root())
        let items = try a.items()
        XCTAssertEqual(items.count, 30)
        XCTAssertEqual(items[0].questionID, .int(12875000))
        XCTAssertTrue(items[0].prompt.hasSuffix(SampleSpecs.suffix))
        for item in items {
            let url = try XCTUnwrap(try a.imageURL(for: item))
            XCTAssertTrue(FileManager.default.fileExists(atPath: url.path), url.path)
        }
        XCTAssertEqual(a.parseAnswer("U.S.A."), "usa")
    }

    func testVQAv2OriginalQuestionsMatchLLaVAFile() throws {
        var spec = SampleSpecs.vqav2
        spec.imageFolder = "vqav2/val2014"
        spec.questionFile = "vqav2/v2_OpenEnded_mscoco_val2014_questions.json"
        let original = try VQAv2Benchmark(spec: spec, dataRoot: try root()).items()
        spec.questionFile = "vqav2/llava_vqav2_mscoco_val2014.jsonl"
        let llava = try VQAv2Benchmark(spec: spec, dataRoot: try root()).items()
        XCTAssertEqual(original.count, llava.count)
        let byID = Dictionary(uniqueKeysWithValues: llava.map { ($0.questionID, $0) })
        for item in original {
            let l = try XCTUnwrap(byID[item.questionID])
            XCTAssertEqual(item.prompt, l.prompt)
            XCTAssertEqual(item.image, l.image)
        }
    }

    func testGQAItemsFromBothFormats() throws {
        let a = GQABenchmark(spec: SampleSpecs.gqa, dataRoot: try root())
        let items = try a.items()
        XCTAssertEqual(items.count, 40)
        XCTAssertEqual(items[0].questionID, .string("201307251"))
        for item in items { XCTAssertTrue(FileManager.default.fileExists(atPath: try XCTUnwrap(try a.imageURL(for: item)).path)) }
        var spec = SampleSpecs.gqa
        spec.questionFile = "gqa/data/questions/testdev_balanced_questions.json"
        let original = try GQABenchmark(spec: spec, dataRoot: try root()).items()
        XCTAssertEqual(Set(original.map(\.questionID)), Set(items.map(\.questionID)))
        let byID = Dictionary(uniqueKeysWithValues: items.map { ($0.questionID, $0) })
        for item in original {
            XCTAssertEqual(item.image, byID[item.questionID]?.image)
            XCTAssertEqual(item.prompt, byID[item.questionID]?.prompt)
        }
        XCTAssertEqual(a.parseAnswer("White.."), "white")
        XCTAssertEqual(a.parseAnswer(" Sky"), " sky")
    }

    func testTextVQAItemsAndQuestionRecovery() throws {
        let a = TextVQABenchmark(spec: SampleSpecs.textvqa, dataRoot: try root())
        let items = try a.items()
        XCTAssertEqual(items.count, 40)
        for item in items {
            XCTAssertTrue(FileManager.default.fileExists(atPath: try XCTUnwrap(try a.imageURL(for: item)).path))
            XCTAssertNotNil(TextVQABenchmark.question(fromPrompt: item.answerPrompt))
        }
        XCTAssertEqual(TextVQABenchmark.question(fromPrompt: "What is it?\nReference OCR token: A, B\nAnswer."), "what is it?")
        XCTAssertEqual(TextVQABenchmark.question(fromPrompt: "Reference OCR token: A\nWhat Is It?\nAnswer."), "what is it?")
        XCTAssertEqual(TextVQABenchmark.question(fromPrompt: "OCR tokens: a b Question: Which One? Short answer:"), "which one?")
        XCTAssertEqual(TextVQABenchmark.question(fromPrompt: "Q?\nsuffix"), "q?")
        XCTAssertNil(TextVQABenchmark.question(fromPrompt: "just one line"))
    }

    func testMalformedQuestionLineNamesFileLineAndField() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vp-adapter-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("gqa"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("gqa/llava_gqa_testdev_balanced.jsonl")
        try Data("{\"question_id\": \"1\", \"image\": \"a.jpg\", \"text\": \"q\"}\n{\"question_id\": \"2\", \"text\": \"q\"}\n".utf8).write(to: file)
        XCTAssertThrowsError(try GQABenchmark(spec: SampleSpecs.gqa, dataRoot: dir).items()) { error in
            let m = (error as? DatasetError)?.message ?? ""
            XCTAssertTrue(m.contains("llava_gqa_testdev_balanced.jsonl:2"), m)
            XCTAssertTrue(m.contains("'image'"), m)
        }
    }

    func testImagePathEscapeIsRefused() throws {
        let a = GQABenchmark(spec: SampleSpecs.gqa, dataRoot: try root())
        let evil = BenchmarkItem(questionID: .string("x"), image: "../../../../etc/passwd", prompt: "", answerPrompt: "", category: "default")
        XCTAssertThrowsError(try a.imageURL(for: evil))
        let abs = BenchmarkItem(questionID: .string("x"), image: "/etc/passwd", prompt: "", answerPrompt: "", category: "default")
        XCTAssertThrowsError(try a.imageURL(for: abs))
        var spec = SampleSpecs.gqa
        spec.questionFile = "../outside.jsonl"
        XCTAssertThrowsError(try GQABenchmark(spec: spec, dataRoot: try root()).items())
    }

    func testAnswersFileAcceptsSmallIntegerIDs() {
        let c = AnswersFile.parse(Data("{\"question_id\": 1, \"prompt\": \"p\", \"text\": \"Yes\"}\n{\"question_id\": true, \"text\": \"x\"}\n".utf8), file: "a.jsonl")
        XCTAssertEqual(c.records.map(\.questionID), [.int(1)])
        XCTAssertEqual(c.badLines.map(\.line), [2])
    }
}
