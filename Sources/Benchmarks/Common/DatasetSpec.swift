import Foundation

/// One benchmark's entry in `datasets.json`. Paths are relative to the data root.
public struct DatasetSpec: Codable, Equatable, Sendable {
    /// Registry key: vqav2, gqa, mme, textvqa, pope, scienceqa.
    public var name: String
    public var title: String
    /// Split evaluated by default (e.g. "test-dev2015", "testdev_balanced").
    public var split: String
    /// The LLaVA evaluation question file (jsonl, or json for ScienceQA).
    public var questionFile: String
    /// Named annotation / ground-truth files or folders (e.g. "annotations", "labels", "problems").
    public var annotationFiles: [String: String]
    /// Folder holding the images.
    public var imageFolder: String
    /// Suffix the reference appends (already inside the question text for all but ScienceQA).
    public var promptSuffix: String
    /// Scorer key (see the Scoring module) and submission format key (see the exporters).
    public var scorer: String
    public var submissionFormat: String
    /// Greedy decoding length the reference script uses (128; ScienceQA 1024).
    public var maxNewTokens: Int

    public init(name: String, title: String, split: String, questionFile: String, annotationFiles: [String: String],
                imageFolder: String, promptSuffix: String, scorer: String, submissionFormat: String, maxNewTokens: Int) {
        self.name = name
        self.title = title
        self.split = split
        self.questionFile = questionFile
        self.annotationFiles = annotationFiles
        self.imageFolder = imageFolder
        self.promptSuffix = promptSuffix
        self.scorer = scorer
        self.submissionFormat = submissionFormat
        self.maxNewTokens = maxNewTokens
    }
}

/// The registry file: `{"datasets": [DatasetSpec, ...]}`.
public struct DatasetRegistryFile: Codable, Sendable {
    public var datasets: [DatasetSpec]
}
