import Foundation
import Records

/// TextVQA EvalAI submission: a JSON array `[{"question_id": int, "answer": str}]` where question_id
/// is the dataset's integer question id (LLaVA's answers only carry the image id, so each line is
/// matched to its annotation through the question in its prompt) and the answer is the
/// EvalAI-normalized output (the server applies the same normalization). Answer-file order;
/// written to `<dir>/<name>.json`. Lines that match no annotation are an error naming them.
public struct TextVQAExporter: SubmissionExporter {
    public let spec: DatasetSpec
    public let dataRoot: URL

    public init(spec: DatasetSpec, dataRoot: URL) {
        self.spec = spec
        self.dataRoot = dataRoot
    }

    public func export(_ answers: [AnswerRecord], to directory: URL, name: String) throws -> [URL] {
        let scorer = try TextVQAScorer(spec: spec, dataRoot: dataRoot)
        var objects: [[(String, PythonJSON.Value)]] = []
        for r in answers {
            let a = try scorer.annotation(for: r).get()
            guard let qid = a.questionID else {
                throw DatasetError(file: scorer.annotationsPath, field: "question_id", "missing for image \(r.questionID)")
            }
            objects.append([("question_id", .int(qid)), ("answer", .string(EvalAIAnswerProcessor.normalize(r.text)))])
        }
        let url = directory.appendingPathComponent("\(name).json")
        try PythonJSON.write(PythonJSON.array(objects), to: url)
        return [url]
    }
}
