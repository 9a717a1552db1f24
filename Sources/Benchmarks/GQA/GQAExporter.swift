import Foundation
import Records

/// GQA predictions for the official `eval.py`, as `convert_gqa_for_eval.py` writes them: a JSON array
/// `[{"questionId": id, "prediction": text.rstrip('.').lower()}]` in answer-file order. Written to
/// `<dir>/<split>_predictions.json` (e.g. `testdev_balanced_predictions.json`, the name eval.py reads
/// from its working directory); `name` is not part of the file name.
public struct GQAExporter: SubmissionExporter {
    public let spec: DatasetSpec
    public init(spec: DatasetSpec, dataRoot: URL) { self.spec = spec }

    public func export(_ answers: [AnswerRecord], to directory: URL, name: String) throws -> [URL] {
        let objects: [[(String, PythonJSON.Value)]] = answers.map {
            [("questionId", .id($0.questionID)), ("prediction", .string(GQABenchmark.prediction($0.text)))]
        }
        let url = directory.appendingPathComponent("\(spec.split)_predictions.json")
        try PythonJSON.write(PythonJSON.array(objects), to: url)
        return [url]
    }
}
