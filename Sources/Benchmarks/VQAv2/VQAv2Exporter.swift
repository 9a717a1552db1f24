import Foundation
import Records

/// The EvalAI VQAv2 submission, as `convert_vqav2_for_submission.py` writes it: a JSON array over the
/// FULL test2015 question list (`llava_vqav2_mscoco_test2015.jsonl`, its order), each
/// `{"question_id": int, "answer": EvalAI-normalized text}`, `""` for questions without an answer
/// (everything outside test-dev); duplicated answer ids → the later line wins.
/// Written to `<dir>/<name>.json`; upload it to EvalAI challenge 830, test-dev phase.
public struct VQAv2Exporter: SubmissionExporter {
    public let spec: DatasetSpec
    public let dataRoot: URL

    public init(spec: DatasetSpec, dataRoot: URL) {
        self.spec = spec
        self.dataRoot = dataRoot
    }

    /// The test2015 question ids, in file order.
    public func testSplitIDs() throws -> [QuestionID] {
        let rel = spec.annotationFiles["test_split"] ?? "vqav2/llava_vqav2_mscoco_test2015.jsonl"
        return try LLaVAQuestionFile.read(try SafePath.resolve(rel, under: dataRoot)).map(\.questionID)
    }

    /// The script's summary line: `total results: N, total split: M, error_line: E`
    /// (N = distinct answered ids, E = unparsable lines of the answers file).
    public func summary(_ answers: [AnswerRecord], errorLines: Int) throws -> String {
        Self.summary(answers, splitCount: try testSplitIDs().count, errorLines: errorLines)
    }

    static func summary(_ answers: [AnswerRecord], splitCount: Int, errorLines: Int) -> String {
        "total results: \(Set(answers.map(\.questionID)).count), total split: \(splitCount), error_line: \(errorLines)"
    }

    public func export(_ answers: [AnswerRecord], to directory: URL, name: String) throws -> [URL] {
        try exportWithSummary(answers, to: directory, name: name, errorLines: 0).files
    }

    public func exportReporting(_ answers: [AnswerRecord], to directory: URL, name: String,
                                errorLines: Int) throws -> (files: [URL], summary: String?) {
        let r = try exportWithSummary(answers, to: directory, name: name, errorLines: errorLines)
        return (r.files, r.summary)
    }

    /// Writes the submission and returns the summary line too, reading the 447k-question split once.
    public func exportWithSummary(_ answers: [AnswerRecord], to directory: URL, name: String,
                                  errorLines: Int) throws -> (files: [URL], summary: String) {
        var results: [QuestionID: String] = [:]
        for r in answers { results[r.questionID] = r.text }
        let split = try testSplitIDs()
        let objects: [[(String, PythonJSON.Value)]] = split.map { id in
            [("question_id", .id(id)), ("answer", .string(results[id].map(EvalAIAnswerProcessor.normalize) ?? ""))]
        }
        let url = directory.appendingPathComponent("\(name).json")
        try PythonJSON.write(PythonJSON.array(objects), to: url)
        return ([url], Self.summary(answers, splitCount: split.count, errorLines: errorLines))
    }
}
