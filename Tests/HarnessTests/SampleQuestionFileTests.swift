import Foundation
import XCTest
import Benchmarks
import Store
import TestSupport
@testable import Harness
import PythonText
import Records

/// Runs the real LLaVA question-file samples (../shared/datasets-samples) through the evaluator
/// with the fake engine: every item stored once, ids with their JSON type, answers files that
/// reproduce the ids byte for byte, and shards that merge back to the unsharded run.
final class SampleQuestionFileTests: XCTestCase {
    static let samples: [(bench: String, questionFile: String, imageFolder: String)] = [
        ("MME", "llava_mme.jsonl", "MME_Benchmark_release_version"),
        ("gqa", "llava_gqa_testdev_balanced.jsonl", "data/images"),
        ("pope", "llava_pope_test.jsonl", "val2014"),
        ("textvqa", "llava_textvqa_val_v051_ocr.jsonl", "train_images"),
        ("vqav2", "llava_vqav2_mscoco_test-dev2015.jsonl", "test2015"),
    ]

    func testEverySampleQuestionFileRunsResumesAndMergesFromShards() throws {
        for sample in Self.samples {
            let root = try Fixtures.require("datasets-samples/\(sample.bench)")
            let questionURL = root.appendingPathComponent(sample.questionFile)
            let lines = try String(contentsOf: questionURL, encoding: .utf8).split(separator: "\n")
            // The question_id literal exactly as the file spells it.
            let literals: [String] = try lines.map { line in
                let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                let qid = try XCTUnwrap(obj["question_id"])
                return qid is String ? JSONText.quote(qid as? String ?? "") : "\(qid)"
            }
            let adapter = FakeAdapter(spec: try makeSpec(name: sample.bench.lowercased(), questionFile: sample.questionFile,
                                                         imageFolder: sample.imageFolder), dataRoot: root)
            let settings = RunSettings(pruning: .pruned(.vispruner, tokens: 64, ratio: 0.5))

            let whole = try ResultsStore(path: tempPath("whole.sqlite"))
            let summary = try Evaluator(engine: FakeEngine(), store: whole)
                .run(benchmark: adapter, settings: settings, options: EvalOptions(metadata: harnessMetadata))
            XCTAssertEqual(summary.failures.count, 0, "\(sample.bench): \(summary.failures.first?.message ?? "")")
            XCTAssertEqual(summary.answered, lines.count, sample.bench)
            XCTAssertEqual(summary.run.status, .complete, sample.bench)

            let answers = try RunScoring.answerRecords(store: whole, run: summary.run)
            XCTAssertEqual(answers.map(\.questionID.jsonLiteral), literals, "\(sample.bench): ids and their JSON types")
            for (record, literal) in zip(answers, literals) {
                XCTAssertTrue(record.jsonLine.hasPrefix("{\"question_id\": \(literal), "), record.jsonLine)
            }

            let again = try Evaluator(engine: FakeEngine(), store: whole)
                .run(benchmark: adapter, settings: settings, options: EvalOptions(metadata: harnessMetadata))
            XCTAssertEqual(again.answered, 0, "\(sample.bench): a finished run resumes to nothing")

            var shards: [String] = []
            for i in 0..<2 {
                let shard = try ShardSpec(index: i, count: 2)
                let path = shard.databasePath(base: tempPath("s.sqlite"))
                shards.append(path)
                _ = try Evaluator(engine: FakeEngine(), store: try ResultsStore(path: path))
                    .run(benchmark: adapter, settings: settings, options: EvalOptions(shard: shard, metadata: harnessMetadata))
            }
            let out = tempPath("merged.sqlite")
            let (report, _) = try RunScoring.mergeShards(output: out, shards: shards)
            XCTAssertFalse(report.hasConflicts, sample.bench)
            let merged = try ResultsStore(path: out)
            let mergedRun = try XCTUnwrap(merged.run(key: summary.run.key))
            XCTAssertEqual(mergedRun.status, .complete, sample.bench)
            XCTAssertEqual(try RunScoring.answerRecords(store: merged, run: mergedRun), answers, sample.bench)
        }
    }
}
