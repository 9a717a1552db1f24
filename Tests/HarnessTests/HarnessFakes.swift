import Foundation
import XCTest
import Benchmarks
import Store
@testable import Harness
import Records

/// A deterministic engine: the answer depends only on the request, like greedy decoding.
final class FakeEngine: AnswerEngine {
    let modelID = "fake-llava"
    let fingerprint = "fake-fingerprint-1"
    private(set) var calls: [AnswerRequest] = []
    /// Prompts for which `answer` throws.
    var failingPrompts: Set<String> = []
    /// What every answer reports as its cost (zero: an engine that does not know it).
    var cost: ItemCost = .zero

    struct Failure: Error, CustomStringConvertible { let description: String }

    func answer(_ request: AnswerRequest) throws -> EngineAnswer {
        calls.append(request)
        if failingPrompts.contains(request.prompt) { throw Failure(description: "engine failed on '\(request.prompt)'") }
        let n = request.tokens ?? 576
        let h = SHA256Digest.hex(request.prompt + "|\(request.method)|\(n)|\(request.ratio)")
        let kept = (0..<min(n, 8)).map { (Int($0) * 37 + request.prompt.count) % 576 }
        return EngineAnswer(text: "Answer \(h.prefix(6)).", generatedTokens: 3, visualTokensFed: n, kept: [kept],
                            timings: StageTimings(preprocess: 1, vision: 2, prune: 0.5, prefill: 3, decode: 4, total: 10.5),
                            cost: cost)
    }
}

/// Reads a small LLaVA-style question file (`{"question_id", "image", "text"}` per line).
struct FakeAdapter: Benchmark {
    let spec: DatasetSpec
    let dataRoot: URL

    init(spec: DatasetSpec, dataRoot: URL) {
        self.spec = spec
        self.dataRoot = dataRoot
    }

    func items() throws -> [BenchmarkItem] {
        let text = try String(contentsOf: try resolve(spec.questionFile), encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            guard let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw DatasetError("bad line")
            }
            let qid: QuestionID = (obj["question_id"] as? String).map { .string($0) }
                ?? .int(Int64(obj["question_id"] as? Int ?? -1))
            let q = obj["text"] as? String ?? ""
            return BenchmarkItem(questionID: qid, image: obj["image"] as? String, prompt: q, answerPrompt: q, category: "default")
        }
    }

    func parseAnswer(_ output: String) -> String {
        output.trimmingCharacters(in: CharacterSet(charactersIn: ".")).lowercased()
    }

    static let implementation = "fakebench"
    static let submissionFormat = "fakebench"
    func scorer() throws -> any BenchmarkScorer { FakeScorer() }
    func submissionExporter() -> any SubmissionExporter { AnswersJSONLExporter(spec: spec, dataRoot: dataRoot) }
}

/// A benchmark folder with `count` questions; items listed in `missingImages` have no image file.
struct FakeBenchmark {
    let dir: URL
    let adapter: FakeAdapter

    /// `pairedIDs`: items 2k and 2k+1 share one string id, as MME's two questions per image do.
    init(count: Int, missingImages: Set<Int> = [], stringIDs: Bool = false, pairedIDs: Bool = false) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("harness-tests-\(UUID().uuidString)")
        let images = dir.appendingPathComponent("images")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        var lines: [String] = []
        for i in 0..<count {
            let qid = pairedIDs ? "\"pair\(i / 2).png\"" : (stringIDs || i % 3 == 2 ? "\"q\(i)\"" : "\(1000 + i)")
            lines.append("{\"question_id\": \(qid), \"image\": \"img\(i % 5).jpg\", \"text\": \"Question \(i)?\\nAnswer briefly.\"}")
        }
        for k in 0..<5 where !missingImages.contains(k) {
            try Data([0xFF, 0xD8]).write(to: images.appendingPathComponent("img\(k).jpg"))
        }
        try lines.joined(separator: "\n").write(to: dir.appendingPathComponent("questions.jsonl"), atomically: true, encoding: .utf8)
        adapter = FakeAdapter(spec: try makeSpec(name: "fakebench", questionFile: "questions.jsonl", imageFolder: "images"),
                              dataRoot: dir)
    }

    func remove() { try? FileManager.default.removeItem(at: dir) }
}

/// Counts exact-match answers, to check what reaches a scorer.
struct FakeScorer: BenchmarkScorer {
    func score(_ answers: [AnswerRecord]) throws -> ScoreReport {
        ScoreReport(benchmark: "fakebench", metrics: [Metric("answered", Double(answers.count))], headline: "answered")
    }
}

/// DatasetSpec has no public memberwise initialiser; build it as the registry file would.
func makeSpec(name: String, questionFile: String, imageFolder: String) throws -> DatasetSpec {
    let json: [String: Any] = ["name": name, "title": name, "split": "test", "questionFile": questionFile,
                               "annotationFiles": [String: String](), "imageFolder": imageFolder, "promptSuffix": "",
                               "scorer": name, "submissionFormat": name, "maxNewTokens": 16]
    return try JSONDecoder().decode(DatasetSpec.self, from: JSONSerialization.data(withJSONObject: json))
}

let harnessMetadata = RunMetadata(toolVersion: "test", gitCommit: "0", host: "test")

func tempPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("harness-db-\(UUID().uuidString)")
        .appendingPathComponent(name).path
}
