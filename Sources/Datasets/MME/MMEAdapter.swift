import Foundation

/// MME (14 yes/no subtasks). Questions come from LLaVA's `llava_mme.jsonl`, whose `text` already
/// ends with the short-answer suffix; the task is the first component of the question id, and
/// each image appears twice (one "yes" and one "no" question). Ground truth: `annotationFiles["ground_truth"]`
/// (the `MME_Benchmark_release_version` folder).
public struct MMEAdapter: BenchmarkAdapter {
    public let spec: DatasetSpec
    public let dataRoot: URL

    public init(spec: DatasetSpec, dataRoot: URL) {
        self.spec = spec
        self.dataRoot = dataRoot
    }

    /// The fourteen tasks in the order `calculation.py` reports them, split as it totals them.
    public static let perceptionTasks = ["existence", "count", "position", "color", "posters", "celebrity",
                                         "scene", "landmark", "artwork", "OCR"]
    public static let cognitionTasks = ["commonsense_reasoning", "numerical_calculation", "text_translation",
                                        "code_reasoning"]

    public func items() throws -> [BenchmarkItem] {
        let url = try resolve(spec.questionFile)
        return try YesNoQuestionFile.read(url).map { line in
            let id: String
            switch line.questionID {
            case .string(let s): id = s
            case .int:
                throw DatasetError(file: url.path, line: line.line, field: "question_id",
                                   "MME question ids are image paths (strings)")
            }
            return BenchmarkItem(questionID: line.questionID, image: line.image, prompt: line.text,
                                 answerPrompt: line.text, category: MMEGroundTruth.category(ofQuestionID: id))
        }
    }

    /// "yes", "no" or "other", as `calculation.py` reads the answer.
    public func parseAnswer(_ output: String) -> String { MMEAnswer.parse(output) }

    /// The ground-truth folder (`annotationFiles["ground_truth"]`), loaded.
    public func groundTruth() throws -> MMEGroundTruth {
        try MMEGroundTruth.load(root: resolve(spec.requiredAnnotation("ground_truth")))
    }
}
