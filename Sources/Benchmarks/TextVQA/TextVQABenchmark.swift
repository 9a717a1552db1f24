import Foundation
import Records
import PythonText

/// TextVQA val with LLaVA's OCR-token prompts (`llava_textvqa_val_v051_ocr.jsonl`; the question id is
/// the image id). The scored answer is the EvalAI-normalized output (m4c TextVQAAccuracyEvaluator).
public struct TextVQABenchmark: Benchmark {
    public static let implementation = "textvqa"
    public static let submissionFormat = "evalai-textvqa"
    public let spec: DatasetSpec
    public let dataRoot: URL

    public init(spec: DatasetSpec, dataRoot: URL) {
        self.spec = spec
        self.dataRoot = dataRoot
    }

    public func items() throws -> [BenchmarkItem] {
        try LLaVAQuestionFile.read(try resolve(spec.questionFile)).map {
            BenchmarkItem(questionID: $0.questionID, image: $0.image, prompt: $0.text, answerPrompt: $0.text, category: $0.category)
        }
    }

    public func parseAnswer(_ output: String) -> String {
        EvalAIAnswerProcessor.normalize(output)
    }

    /// `prompt_processor` of `eval_textvqa.py`: recovers the (lower-cased) question from an answers
    /// line's prompt. Returns nil where the script would fail its `assert False`.
    public static func question(fromPrompt prompt: String) -> String? {
        let p = Array(prompt.unicodeScalars)
        let lines = prompt.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0) }
        var q: [Unicode.Scalar]
        if prompt.hasPrefix("OCR tokens: ") {
            // re.search(r"Question: (.*?) Short answer:", prompt, re.DOTALL): first, shortest match.
            let open = Array("Question: ".unicodeScalars), close = Array(" Short answer:".unicodeScalars)
            guard let s = PythonText.firstMatch(p, open, from: 0),
                  let e = PythonText.firstMatch(p, close, from: s + open.count) else { return nil }
            q = Array(p[(s + open.count)..<e])
        } else if PythonText.contains(p, Array("Reference OCR token: ".unicodeScalars)) && lines.count == 3 {
            q = prompt.hasPrefix("Reference OCR token:") ? lines[1] : lines[0]
        } else if lines.count == 2 {
            q = lines[0]
        } else {
            return nil
        }
        return PythonText.string(PythonText.lower(q))
    }
}

extension TextVQABenchmark {
    /// Percent, as the official script prints it.
    public static func tableColumns(_ spec: DatasetSpec) -> BenchmarkColumns { headlineColumn(spec, "TextVQA") }

    public func scorer() throws -> any BenchmarkScorer { try TextVQAScorer(spec: spec, dataRoot: dataRoot) }

    public func submissionExporter() -> any SubmissionExporter { TextVQAExporter(spec: spec, dataRoot: dataRoot) }
}
