import Foundation

/// POPE (object-hallucination yes/no questions on COCO val2014) in its three splits: adversarial,
/// popular, random. Questions from LLaVA's `llava_pope_test.jsonl` (integer ids, split in `category`);
/// labels in `annotationFiles["labels"]` (the `coco` folder of label files).
public struct POPEAdapter: BenchmarkAdapter {
    public let spec: DatasetSpec
    public let dataRoot: URL

    public init(spec: DatasetSpec, dataRoot: URL) {
        self.spec = spec
        self.dataRoot = dataRoot
    }

    public func items() throws -> [BenchmarkItem] {
        let url = try resolve(spec.questionFile)
        return try YesNoQuestionFile.read(url).map { line in
            BenchmarkItem(questionID: line.questionID, image: line.image, prompt: line.text,
                          answerPrompt: line.text, category: line.category)
        }
    }

    /// "yes" or "no", as `eval_pope.py` reads the answer.
    public func parseAnswer(_ output: String) -> String { POPEAnswer.parse(output) }

    /// The labels folder (`annotationFiles["labels"]`).
    public func labelsFolder() throws -> URL {
        try resolve(spec.requiredAnnotation("labels"))
    }
}
