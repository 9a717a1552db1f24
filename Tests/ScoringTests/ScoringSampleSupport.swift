import XCTest
import Foundation
import Datasets
import Scoring
import TestSupport

/// Specs as datasets.json declares them, relative to the datasets-samples root.
enum Specs {
    static let suffix = "\nAnswer the question using a single word or phrase."
    static let vqav2 = DatasetSpec(
        name: "vqav2", title: "VQAv2", split: "test-dev2015", questionFile: "vqav2/llava_vqav2_mscoco_test-dev2015.jsonl",
        annotationFiles: ["test_split": "vqav2/llava_vqav2_mscoco_test2015.jsonl",
                          "val_questions": "vqav2/v2_OpenEnded_mscoco_val2014_questions.json",
                          "val_annotations": "vqav2/v2_mscoco_val2014_annotations.json"],
        imageFolder: "vqav2/test2015", promptSuffix: suffix, scorer: "vqav2", submissionFormat: "evalai-vqav2", maxNewTokens: 128)
    static let gqa = DatasetSpec(
        name: "gqa", title: "GQA", split: "testdev_balanced", questionFile: "gqa/llava_gqa_testdev_balanced.jsonl",
        annotationFiles: ["questions": "gqa/data/questions/testdev_balanced_questions.json"],
        imageFolder: "gqa/data/images", promptSuffix: suffix, scorer: "gqa", submissionFormat: "gqa-predictions", maxNewTokens: 128)
    static let textvqa = DatasetSpec(
        name: "textvqa", title: "TextVQA", split: "val", questionFile: "textvqa/llava_textvqa_val_v051_ocr.jsonl",
        annotationFiles: ["annotations": "textvqa/TextVQA_0.5.1_val.json"],
        imageFolder: "textvqa/train_images", promptSuffix: suffix, scorer: "textvqa", submissionFormat: "evalai-textvqa", maxNewTokens: 128)
}

enum Samples {
    static func root() throws -> URL { try Fixtures.require("datasets-samples") }

    static func answers(_ relative: String) throws -> AnswersFile.Contents {
        try AnswersFile.read(try Fixtures.require("datasets-samples/" + relative))
    }

    static func json(_ relative: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: try Fixtures.require("datasets-samples/" + relative)))
    }

    /// Answer-file names (without extension) under a folder.
    static func names(in relative: String, ext: String = "jsonl") throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: try Fixtures.require("datasets-samples/" + relative).path)
            .filter { $0.hasSuffix("." + ext) }.map { String($0.dropLast(ext.count + 1)) }.sorted()
    }

    static func tempDir() throws -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("vp-scoring-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }
}

/// "%.2f" as the scripts print.
func twoDP(_ x: Double) -> String { String(format: "%.2f", x) }
