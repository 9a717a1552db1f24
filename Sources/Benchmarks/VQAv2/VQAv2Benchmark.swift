import Foundation
import Records

/// VQAv2 (LLaVA evaluates test-dev2015 and uploads to EvalAI). Items come from LLaVA's
/// `llava_vqav2_mscoco_*.jsonl` or from an original `v2_OpenEnded_mscoco_*_questions.json`
/// (prompt = question + the short-answer suffix, image `COCO_<subtype>_<12-digit id>.jpg`).
/// The scored answer is the EvalAI-normalized output, as `convert_vqav2_for_submission.py` writes it.
public struct VQAv2Benchmark: Benchmark {
    public static let implementation = "vqav2"
    public static let submissionFormat = "evalai-vqav2"
    public let spec: DatasetSpec
    public let dataRoot: URL

    public init(spec: DatasetSpec, dataRoot: URL) {
        self.spec = spec
        self.dataRoot = dataRoot
    }

    public func items() throws -> [BenchmarkItem] {
        let url = try resolve(spec.questionFile)
        if url.pathExtension == "json" { return try Self.itemsFromOriginal(url, suffix: spec.promptSuffix) }
        return try LLaVAQuestionFile.read(url).map {
            BenchmarkItem(questionID: $0.questionID, image: $0.image, prompt: $0.text, answerPrompt: $0.text, category: $0.category)
        }
    }

    /// The val questions (`annotationFiles["val_questions"]`, original VQA format) that val-style
    /// scoring covers.
    public func valItems() throws -> [BenchmarkItem] {
        let rel = spec.annotationFiles["val_questions"] ?? "vqav2/v2_OpenEnded_mscoco_val2014_questions.json"
        return try Self.itemsFromOriginal(try resolve(rel), suffix: spec.promptSuffix)
    }

    public func parseAnswer(_ output: String) -> String {
        EvalAIAnswerProcessor.normalize(output)
    }

    /// Items from the original VQA questions JSON (`{"data_subtype", "questions": [{image_id, question, question_id}]}`).
    static func itemsFromOriginal(_ url: URL, suffix: String) throws -> [BenchmarkItem] {
        guard let doc = try JSONValues.document(url) as? [String: Any] else {
            throw DatasetError(file: url.path, "expected a JSON object")
        }
        guard let subtype = doc["data_subtype"] as? String else {
            throw DatasetError(file: url.path, field: "data_subtype", "missing or not a string")
        }
        guard let questions = doc["questions"] as? [[String: Any]] else {
            throw DatasetError(file: url.path, field: "questions", "missing or not an array of objects")
        }
        return try questions.enumerated().map { idx, q in
            let qid = try JSONValues.questionID(q["question_id"], file: url.path, line: nil, field: "questions[\(idx)].question_id")
            guard case .int(let imageID)? = try? JSONValues.questionID(q["image_id"], file: url.path, line: nil, field: "image_id") else {
                throw DatasetError(file: url.path, field: "questions[\(idx)].image_id", "missing or not an integer")
            }
            guard let text = q["question"] as? String else {
                throw DatasetError(file: url.path, field: "questions[\(idx)].question", "missing or not a string")
            }
            let digits = String(imageID)
            let image = "COCO_\(subtype)_" + String(repeating: "0", count: max(0, 12 - digits.count)) + digits + ".jpg"
            return BenchmarkItem(questionID: qid, image: image, prompt: text + suffix, answerPrompt: text + suffix, category: "default")
        }
    }
}

extension VQAv2Benchmark {
    /// Percent, as the official script prints it.
    public static func tableColumns(_ spec: DatasetSpec) -> BenchmarkColumns { headlineColumn(spec, "VQAv2") }

    public func scorer() throws -> any BenchmarkScorer { try VQAv2Scorer(spec: spec, dataRoot: dataRoot) }

    public func submissionExporter() -> any SubmissionExporter { VQAv2Exporter(spec: spec, dataRoot: dataRoot) }

    /// test-dev needs the full test2015 list for its submission file; val-style scoring needs its annotations.
    public func preflight() -> [String] {
        guard !isScoredLocally else { return groundTruthProblems() }
        do { _ = try VQAv2Exporter(spec: spec, dataRoot: dataRoot).testSplitIDs() } catch {
            return ["cannot read the test2015 question list the EvalAI submission is built from: \(error)"]
        }
        return []
    }

    /// test-dev is scored by the EvalAI server; only val-style answers have labels here.
    public var isScoredLocally: Bool { !spec.split.hasPrefix("test") }

    /// Scoring is val-style (test-dev goes to EvalAI), so coverage is against the val questions.
    public func scoredItems() throws -> [BenchmarkItem] { try valItems() }
}
