import Records

/// One question of a benchmark, ready to be fed to the model.
public struct BenchmarkItem: Equatable, Sendable {
    /// The id as the question file spells it (answers and submissions use it unchanged).
    public var questionID: QuestionID
    /// Image path relative to the benchmark's image folder, or nil for text-only items (some ScienceQA).
    public var image: String?
    /// The user message after the image placeholder, exactly as the reference feeds it
    /// (question text with its prompt suffix; ScienceQA: context, question, options, suffix).
    public var prompt: String
    /// What the reference writes in the answers file's `prompt` field for this item.
    public var answerPrompt: String
    /// Category / subset (POPE split, MME subtask, "default" elsewhere).
    public var category: String
    /// Answer options where the benchmark has them (ScienceQA), in order.
    public var options: [String]?

    public init(questionID: QuestionID, image: String?, prompt: String, answerPrompt: String,
                category: String, options: [String]? = nil) {
        self.questionID = questionID
        self.image = image
        self.prompt = prompt
        self.answerPrompt = answerPrompt
        self.category = category
        self.options = options
    }
}
