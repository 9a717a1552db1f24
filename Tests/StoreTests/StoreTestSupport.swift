import Foundation
import XCTest
import Store
import Records

/// A fresh directory per test, removed afterwards.
final class TempDir {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("store-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    deinit { try? FileManager.default.removeItem(at: url) }
}

func sampleConfig(tokens: Int? = 64, dataset: String = "gqa") -> RunConfig {
    RunConfig(modelID: "llava-v1.5-7b", checkpointFingerprint: "abc123", dataset: dataset, split: "testdev_balanced",
              pruning: tokens.map { .pruned(.vispruner, tokens: $0, ratio: 0.5) } ?? .unpruned, maxNewTokens: 128)
}

let testMetadata = RunMetadata(toolVersion: "test", gitCommit: "deadbeef", host: "testhost")

func samplePrediction(run: RunID, config: RunConfig, index: Int, qid: QuestionID? = nil, output: String? = nil) -> PredictionRecord {
    let id = qid ?? .string("q\(index)")
    let text = output ?? "answer \(index)"
    return PredictionRecord(runID: run, questionID: id, itemIndex: index, prompt: "Question \(index)?",
                            rawOutput: text, parsedAnswer: text.lowercased(),
                            answerID: AnswerID.derive(runKey: config.key, questionID: id),
                            visualTokens: 64, generatedTokens: 3, kept: [[index, 5, 9]],
                            timings: StageTimings(preprocess: 1.5, total: Double(index) + 0.25))
}
